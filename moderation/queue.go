package moderation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/audit"
	"vidid/evidence"
	"vidid/internal/ids"
	"vidid/register"
	"vidid/session"
)

// Decider records a moderator's decision on a session (session.PG).
type Decider interface {
	DecideCase(ctx context.Context, sessionID string, d session.Decision) (session.Session, error)
	Get(ctx context.Context, id string) (session.Session, error)
}

// Register returns a citizen's register record (register.PG).
type Register interface {
	Get(ctx context.Context, iin string) (register.Citizen, error)
}

// Evidence returns the stored frames of an attempt (evidence.PG).
type Evidence interface {
	Load(ctx context.Context, attemptID, kind string) ([][]byte, error)
}

// Evidence kinds a case shows.
const (
	FramesBest = evidence.KindBest
	FramesClip = evidence.KindClip
)

// Config configures the queue.
type Config struct {
	// Calendar counts the working day a case must be decided in.
	Calendar Calendar
	// ClaimTTL is how long opening a case reserves it for the moderator
	// (default 30 minutes); opening it again extends the claim.
	ClaimTTL time.Duration
	// Now is the clock for deadlines (default time.Now). Claims use the
	// database clock, so replicas agree on them.
	Now func() time.Time
	// FourEyes lists the Why… codes whose cases need two approvals, by
	// two moderators (a rejection needs one). nil: none.
	FourEyes []string
}

// Queue is the moderation queue: sessions in state moderation, oldest
// first, with their deadline, and the review of one case.
type Queue struct {
	pool     *pgxpool.Pool
	cfg      Config
	sessions Decider
	register Register
	evidence Evidence
	audit    *audit.Log
	log      *slog.Logger
	m        *metrics
}

// NewQueue returns the queue over pool. evidence may be nil (no frames
// kept); the others are required.
func NewQueue(pool *pgxpool.Pool, cfg Config, sessions Decider, reg Register, ev Evidence, auditLog *audit.Log, log *slog.Logger) (*Queue, error) {
	if pool == nil || sessions == nil || reg == nil || auditLog == nil {
		return nil, fmt.Errorf("%w: pool, sessions, register and audit log are required", ErrInvalidRequest)
	}
	if cfg.ClaimTTL == 0 {
		cfg.ClaimTTL = 30 * time.Minute
	}
	if cfg.ClaimTTL < time.Minute || cfg.ClaimTTL > 24*time.Hour {
		return nil, fmt.Errorf("%w: claim time %v outside 1m..24h", ErrInvalidRequest, cfg.ClaimTTL)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for _, w := range cfg.FourEyes {
		if !slices.Contains(WhyCodes, w) {
			return nil, fmt.Errorf("%w: four-eyes case kind %q is not one of %v", ErrInvalidRequest, w, WhyCodes)
		}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Queue{pool: pool, cfg: cfg, sessions: sessions, register: reg, evidence: ev, audit: auditLog, log: log, m: newMetrics()}, nil
}

// Why a session is in the queue.
const (
	WhyNearThreshold    = "near_threshold"    // a no_match just under the threshold
	WhyRegisterPhoto    = "register_photo"    // the register photo is missing or unusable
	WhyRepeatedLockouts = "repeated_lockouts" // matched, but the IIN was locked out repeatedly
	WhyOther            = "other"
)

// WhyCodes are the Why… codes.
var WhyCodes = []string{WhyNearThreshold, WhyRegisterPhoto, WhyRepeatedLockouts, WhyOther}

// CaseSummary is one line of the queue.
type CaseSummary struct {
	SessionID  string    `json:"session_id"`
	ClientName string    `json:"client_name"`
	IINMasked  string    `json:"iin_masked"`
	EnteredAt  time.Time `json:"entered_at"`
	Due        time.Time `json:"due"`
	Overdue    bool      `json:"overdue"`
	// Why is one of the Why… codes; Reason the last attempt's reason code.
	Why      string         `json:"why"`
	Reason   session.Reason `json:"reason,omitempty"`
	Attempts int            `json:"attempts"`
	// BestMatchScore is the highest match score of the session's
	// attempts; nil when none was measured.
	BestMatchScore *float64 `json:"best_match_score,omitempty"`
	// ClaimedBy names the moderator reviewing it now; empty when free.
	ClaimedBy    string     `json:"claimed_by,omitempty"`
	ClaimedByID  string     `json:"-"`
	ClaimedUntil *time.Time `json:"claimed_until,omitempty"`
	// FirstApprovedBy names the moderator who gave the first of two
	// approvals (the four-eyes rule); empty otherwise.
	FirstApprovedBy string `json:"first_approved_by,omitempty"`
}

// Stats summarises the queue.
type Stats struct {
	Cases   int `json:"cases"`
	Overdue int `json:"overdue"`
	// Oldest is when the oldest case entered; zero for an empty queue.
	Oldest time.Time `json:"oldest,omitempty"`
}

const listColumns = `
	SELECT s.id::text, c.name, s.iin, s.decided_at, s.requires_moderation, s.attempts_started,
	       (SELECT a.reason FROM session_attempts a
	         WHERE a.session_id = s.id AND a.finished_at IS NOT NULL ORDER BY a.n DESC LIMIT 1),
	       (SELECT max(nullif(a.match_score, 0)) FROM session_attempts a WHERE a.session_id = s.id),
	       CASE WHEN s.claimed_until > now() THEN s.claimed_by END,
	       CASE WHEN s.claimed_until > now() THEN m.name END,
	       CASE WHEN s.claimed_until > now() THEN s.claimed_until END,
	       (SELECT f.name FROM moderators f WHERE f.id = s.first_approved_by)
	FROM sessions s
	JOIN rp_clients c ON c.id = s.client_id
	LEFT JOIN moderators m ON m.id = s.claimed_by`

func (q *Queue) scanSummary(row pgx.Row) (CaseSummary, error) {
	var cs CaseSummary
	var iin string
	var reason, claimedBy, claimedName, firstBy *string
	var escalated bool
	if err := row.Scan(&cs.SessionID, &cs.ClientName, &iin, &cs.EnteredAt, &escalated, &cs.Attempts,
		&reason, &cs.BestMatchScore, &claimedBy, &claimedName, &cs.ClaimedUntil, &firstBy); err != nil {
		return CaseSummary{}, err
	}
	if firstBy != nil {
		cs.FirstApprovedBy = *firstBy
	}
	cs.IINMasked = register.MaskIIN(iin)
	if reason != nil {
		cs.Reason = session.Reason(*reason)
	}
	if claimedBy != nil && claimedName != nil {
		cs.ClaimedByID, cs.ClaimedBy = *claimedBy, *claimedName
	}
	cs.Why = why(cs.Reason, escalated)
	cs.Due = q.cfg.Calendar.Due(cs.EnteredAt)
	cs.Overdue = q.cfg.Now().After(cs.Due)
	return cs, nil
}

// List returns up to limit cases waiting for a decision, oldest first
// (the order they must be worked in).
func (q *Queue) List(ctx context.Context, limit int) ([]CaseSummary, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := q.pool.Query(ctx, listColumns+`
		WHERE s.status = 'moderation' ORDER BY s.decided_at, s.id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list moderation queue: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CaseSummary, error) { return q.scanSummary(r) })
	if err != nil {
		return nil, fmt.Errorf("list moderation queue: %w", err)
	}
	return out, nil
}

// Stats counts the queue and its overdue cases.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	rows, err := q.pool.Query(ctx, `SELECT decided_at FROM sessions WHERE status = 'moderation' ORDER BY decided_at`)
	if err != nil {
		return Stats{}, fmt.Errorf("moderation queue stats: %w", err)
	}
	entered, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return Stats{}, fmt.Errorf("moderation queue stats: %w", err)
	}
	st := Stats{Cases: len(entered)}
	now := q.cfg.Now()
	for i, t := range entered {
		if i == 0 {
			st.Oldest = t
		}
		if now.After(q.cfg.Calendar.Due(t)) {
			st.Overdue++
		}
	}
	return st, nil
}

// Citizen is the register record a moderator compares with (no photo
// bytes: those are fetched with RegisterPhoto).
type Citizen struct {
	Surname    string    `json:"surname"`
	GivenName  string    `json:"given_name"`
	Patronymic string    `json:"patronymic,omitempty"`
	BirthDate  time.Time `json:"birth_date"`
	HasPhoto   bool      `json:"has_photo"`
	// Problem says why the record could not be read ("" when it could).
	Problem string `json:"problem,omitempty"`
}

// CaseAttempt is one capture attempt of a case, with its scores.
type CaseAttempt struct {
	N                int             `json:"n"`
	StartedAt        time.Time       `json:"started_at"`
	FinishedAt       *time.Time      `json:"finished_at,omitempty"`
	Outcome          session.Outcome `json:"outcome,omitempty"`
	Reason           session.Reason  `json:"reason,omitempty"`
	Counted          bool            `json:"counted"`
	LivenessScore    *float64        `json:"liveness_score,omitempty"`
	MatchScore       *float64        `json:"match_score,omitempty"`
	SamePersonScore  *float64        `json:"same_person_score,omitempty"`
	Threshold        *float64        `json:"threshold,omitempty"`
	ThresholdVersion string          `json:"threshold_version,omitempty"`
	Model            string          `json:"model,omitempty"`
	BestFrames       int             `json:"best_frames"`
	ClipFrames       int             `json:"clip_frames"`
	id               string
}

// Case is what a moderator sees of one session.
type Case struct {
	CaseSummary
	Citizen  Citizen       `json:"citizen"`
	Attempts []CaseAttempt `json:"attempt_list"`
	// History is the applicant's other sessions (by IIN), newest first, at
	// most historyLimit: lockouts, rejections and relying parties say a lot
	// about a "repeated lockouts" case.
	History []PastSession `json:"history"`
}

// PastSession is one earlier (or parallel) session of the same applicant.
type PastSession struct {
	CreatedAt      time.Time     `json:"created_at"`
	ClientName     string        `json:"client_name"`
	State          session.State `json:"state"`
	Attempts       int           `json:"attempts"`
	FailedAttempts int           `json:"failed_attempts"`
	// RejectReason is the moderator's code when one rejected it.
	RejectReason string `json:"reject_reason,omitempty"`
}

// historyLimit bounds Case.History.
const historyLimit = 20

// Open claims a case for mod and returns it. The opening is recorded in
// the audit log in the same transaction as the claim: the register photo
// and the frames are served only to the moderator holding the claim, so
// every look at them follows an audited opening. A case claimed by another
// moderator gives a *ClaimError; a decided one ErrNotInQueue.
func (q *Queue) Open(ctx context.Context, mod Moderator, sessionID string) (Case, error) {
	if !ids.IsUUID(sessionID) {
		return Case{}, ErrNotFound
	}
	var c Case
	var iin string
	err := pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
		var status string
		var claimedBy *string
		var claimedUntil *time.Time
		// No join here: a row locked after waiting for another opening is
		// re-read, but a joined row would not be (Postgres re-checks only
		// the locked table), so the name is read in a statement of its own.
		err := tx.QueryRow(ctx, `
			SELECT status, iin, CASE WHEN claimed_until > now() THEN claimed_by END, claimed_until
			FROM sessions WHERE id = $1::uuid FOR UPDATE`, sessionID).Scan(&status, &iin, &claimedBy, &claimedUntil)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock case: %w", err)
		}
		if session.State(status) != session.StateModeration {
			return fmt.Errorf("%w (state %s)", ErrNotInQueue, status)
		}
		if claimedBy != nil && *claimedBy != mod.ID {
			ce := &ClaimError{Until: *claimedUntil}
			if err := tx.QueryRow(ctx, `SELECT name FROM moderators WHERE id = $1`, *claimedBy).Scan(&ce.By); err != nil {
				return fmt.Errorf("look up the moderator holding the case: %w", err)
			}
			return ce
		}
		var until time.Time
		if err := tx.QueryRow(ctx, `
			UPDATE sessions SET claimed_by = $2, claimed_until = now() + $3::interval
			WHERE id = $1::uuid RETURNING claimed_until`, sessionID, mod.ID, q.cfg.ClaimTTL.String()).Scan(&until); err != nil {
			return fmt.Errorf("claim case: %w", err)
		}
		if _, err := q.audit.Append(ctx, tx, audit.Entry{Kind: audit.KindCaseOpened, SessionID: sessionID, Subject: iin,
			Data: map[string]any{"moderator_id": mod.ID, "claimed_until": until.UTC()}}); err != nil {
			return err
		}
		c.CaseSummary, err = q.scanSummary(tx.QueryRow(ctx, listColumns+` WHERE s.id = $1::uuid`, sessionID))
		if err != nil {
			return fmt.Errorf("load case: %w", err)
		}
		if c.Attempts, err = loadAttempts(ctx, tx, sessionID); err != nil {
			return err
		}
		c.History, err = loadHistory(ctx, tx, iin, sessionID)
		return err
	})
	if err != nil {
		return Case{}, err
	}
	q.m.opened.Inc()
	c.Citizen = q.citizen(ctx, iin)
	q.log.InfoContext(ctx, "case opened", "session_id", sessionID, "moderator_id", mod.ID)
	return c, nil
}

func loadHistory(ctx context.Context, tx pgx.Tx, iin, sessionID string) ([]PastSession, error) {
	rows, err := tx.Query(ctx, `
		SELECT s.created_at, c.name, s.status, s.attempts_started, s.failed_attempts, coalesce(s.moderation_reason, '')
		FROM sessions s JOIN rp_clients c ON c.id = s.client_id
		WHERE s.iin = $1 AND s.id <> $2::uuid ORDER BY s.created_at DESC LIMIT $3`, iin, sessionID, historyLimit)
	if err != nil {
		return nil, fmt.Errorf("load history: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PastSession, error) {
		var p PastSession
		var state string
		err := r.Scan(&p.CreatedAt, &p.ClientName, &state, &p.Attempts, &p.FailedAttempts, &p.RejectReason)
		p.State = session.State(state)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("load history: %w", err)
	}
	return out, nil
}

func loadAttempts(ctx context.Context, tx pgx.Tx, sessionID string) ([]CaseAttempt, error) {
	rows, err := tx.Query(ctx, `
		SELECT a.id::text, a.n, a.started_at, a.finished_at, coalesce(a.outcome, ''), coalesce(a.reason, ''), a.counted,
		       a.liveness_score, nullif(a.match_score, 0), a.same_person_score, nullif(a.threshold, 0),
		       coalesce(a.threshold_version, ''), coalesce(a.model, ''),
		       (SELECT count(*) FROM attempt_evidence e WHERE e.attempt_id = a.id AND e.kind = 'best'),
		       (SELECT count(*) FROM attempt_evidence e WHERE e.attempt_id = a.id AND e.kind = 'clip')
		FROM session_attempts a WHERE a.session_id = $1::uuid ORDER BY a.n`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("load attempts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CaseAttempt, error) {
		var a CaseAttempt
		var outcome, reason string
		err := r.Scan(&a.id, &a.N, &a.StartedAt, &a.FinishedAt, &outcome, &reason, &a.Counted,
			&a.LivenessScore, &a.MatchScore, &a.SamePersonScore, &a.Threshold, &a.ThresholdVersion, &a.Model,
			&a.BestFrames, &a.ClipFrames)
		a.Outcome, a.Reason = session.Outcome(outcome), session.Reason(reason)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("load attempts: %w", err)
	}
	return out, nil
}

func (q *Queue) citizen(ctx context.Context, iin string) Citizen {
	cz, err := q.register.Get(ctx, iin)
	if err != nil {
		q.log.WarnContext(ctx, "register record unreadable for a case", "iin", register.MaskIIN(iin), "err", err)
		if errors.Is(err, register.ErrNotFound) {
			return Citizen{Problem: "The IIN is no longer in the population register."}
		}
		return Citizen{Problem: "The register record could not be read; see the server log."}
	}
	return Citizen{Surname: cz.Surname, GivenName: cz.GivenName, Patronymic: cz.Patronymic, BirthDate: cz.BirthDate,
		HasPhoto: len(cz.Photo) > 0}
}

// claimed checks that mod holds the claim on an open case and returns
// the session's IIN.
func (q *Queue) claimed(ctx context.Context, mod Moderator, sessionID string) (string, error) {
	if !ids.IsUUID(sessionID) {
		return "", ErrNotFound
	}
	var status, iin string
	var holds bool
	err := q.pool.QueryRow(ctx, `
		SELECT status, iin, coalesce(claimed_by = $2 AND claimed_until > now(), false)
		FROM sessions WHERE id = $1::uuid`, sessionID, mod.ID).Scan(&status, &iin, &holds)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("check claim: %w", err)
	}
	if session.State(status) != session.StateModeration {
		return "", fmt.Errorf("%w (state %s)", ErrNotInQueue, status)
	}
	if !holds {
		return "", ErrNotClaimed
	}
	return iin, nil
}

// RegisterPhoto returns the register photo of a case mod has open, and
// its media type.
func (q *Queue) RegisterPhoto(ctx context.Context, mod Moderator, sessionID string) ([]byte, string, error) {
	iin, err := q.claimed(ctx, mod, sessionID)
	if err != nil {
		return nil, "", err
	}
	cz, err := q.register.Get(ctx, iin)
	if err != nil {
		return nil, "", fmt.Errorf("register photo: %w", err)
	}
	if len(cz.Photo) == 0 {
		return nil, "", fmt.Errorf("%w: the register has no photo", ErrNoEvidence)
	}
	return cz.Photo, cz.PhotoType, nil
}

// Frame returns frame i (from 0) of the given kind of attempt n of a case
// mod has open, as JPEG.
func (q *Queue) Frame(ctx context.Context, mod Moderator, sessionID string, attempt int, kind string, i int) ([]byte, error) {
	if kind != FramesBest && kind != FramesClip || attempt < 1 || i < 0 {
		return nil, fmt.Errorf("%w: frame %s/%d/%d", ErrInvalidRequest, kind, attempt, i)
	}
	if _, err := q.claimed(ctx, mod, sessionID); err != nil {
		return nil, err
	}
	if q.evidence == nil {
		return nil, ErrNoEvidence
	}
	var attemptID string
	err := q.pool.QueryRow(ctx, `SELECT id::text FROM session_attempts WHERE session_id = $1::uuid AND n = $2`, sessionID, attempt).Scan(&attemptID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: no attempt %d", ErrNoEvidence, attempt)
	}
	if err != nil {
		return nil, fmt.Errorf("look up attempt: %w", err)
	}
	frames, err := q.evidence.Load(ctx, attemptID, kind)
	if errors.Is(err, evidence.ErrNotFound) {
		return nil, fmt.Errorf("%w: attempt %d has no %s frames", ErrNoEvidence, attempt, kind)
	}
	if err != nil {
		return nil, fmt.Errorf("load frames: %w", err)
	}
	if i >= len(frames) {
		return nil, fmt.Errorf("%w: attempt %d has %d %s frames", ErrNoEvidence, attempt, len(frames), kind)
	}
	return frames[i], nil
}

// maxNoteLen bounds a decision note (as session.PG.Decide does).
const maxNoteLen = 4000

// Decide approves or rejects a case mod has open. A rejection needs one
// of session.RejectReasons and a note; an approval has neither code nor
// required note. An approval makes the session approved, so the applicant
// can go on to the CA as after a match, and the relying party is called
// back either way (by package session, in the decision's transaction).
func (q *Queue) Decide(ctx context.Context, mod Moderator, sessionID string, approved bool, reason, note string) (session.Session, error) {
	note = strings.TrimSpace(note)
	switch {
	case approved && reason != "":
		return session.Session{}, fmt.Errorf("%w: an approval has no rejection reason", ErrInvalidRequest)
	case !approved && !slices.Contains(session.RejectReasons, reason):
		return session.Session{}, ErrReasonRequired
	case !approved && note == "":
		return session.Session{}, ErrNoteRequired
	case len(note) > maxNoteLen:
		return session.Session{}, fmt.Errorf("%w: note longer than %d bytes", ErrInvalidRequest, maxNoteLen)
	}
	var firstBy string
	if approved && len(q.cfg.FourEyes) > 0 {
		// firstApproval checks the claim itself, under the row lock.
		recorded, first, err := q.firstApproval(ctx, mod, sessionID, note)
		if err != nil {
			return session.Session{}, err
		}
		if recorded {
			q.m.decisions.WithLabelValues("first_approval").Inc()
			q.log.InfoContext(ctx, "case approved once; a second moderator must approve", "session_id", sessionID, "moderator_id", mod.ID)
			return q.sessions.Get(ctx, sessionID)
		}
		firstBy = first
	} else if _, err := q.claimed(ctx, mod, sessionID); err != nil {
		return session.Session{}, err
	}
	s, err := q.sessions.DecideCase(ctx, sessionID, session.Decision{Approved: approved, ModeratorID: mod.ID, Note: note, Reason: reason,
		FirstApprovedBy: firstBy})
	if errors.Is(err, session.ErrInvalidTransition) {
		return session.Session{}, fmt.Errorf("%w: %v", ErrNotInQueue, err)
	}
	if err != nil {
		return session.Session{}, err
	}
	decision := "rejected"
	if approved {
		decision = "approved"
	}
	q.m.decisions.WithLabelValues(decision).Inc()
	if _, err := q.pool.Exec(ctx, `UPDATE sessions SET claimed_until = least(claimed_until, now()) WHERE id = $1::uuid`, sessionID); err != nil {
		q.log.WarnContext(ctx, "release claim after decision", "session_id", sessionID, "err", err)
	}
	q.log.InfoContext(ctx, "case decided", "session_id", sessionID, "moderator_id", mod.ID, "decision", decision)
	return s, nil
}

// firstApproval applies the four-eyes rule to an approval by mod of a
// case mod has open: for a case of a kind in Config.FourEyes without a
// first approval, it records this one as the first (audited, the claim
// released so another moderator can take the case) and reports recorded;
// for one the same moderator approved first it refuses; otherwise it
// returns the first approver (if any) and the approval goes ahead.
func (q *Queue) firstApproval(ctx context.Context, mod Moderator, sessionID, note string) (recorded bool, firstBy string, err error) {
	if !ids.IsUUID(sessionID) {
		return false, "", ErrNotFound
	}
	err = pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
		var status, iin string
		var escalated, holds bool
		var first, reason *string
		err := tx.QueryRow(ctx, `
			SELECT status, iin, requires_moderation, first_approved_by, coalesce(claimed_by = $2 AND claimed_until > now(), false),
			       (SELECT a.reason FROM session_attempts a WHERE a.session_id = s.id AND a.finished_at IS NOT NULL ORDER BY a.n DESC LIMIT 1)
			FROM sessions s WHERE id = $1::uuid FOR UPDATE`, sessionID, mod.ID).Scan(&status, &iin, &escalated, &first, &holds, &reason)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock case: %w", err)
		}
		switch {
		case session.State(status) != session.StateModeration:
			return fmt.Errorf("%w (state %s)", ErrNotInQueue, status)
		case !holds:
			return ErrNotClaimed
		}
		var r session.Reason
		if reason != nil {
			r = session.Reason(*reason)
		}
		if !slices.Contains(q.cfg.FourEyes, why(r, escalated)) {
			return nil
		}
		if first != nil {
			if *first == mod.ID {
				return ErrSecondApprover
			}
			firstBy = *first
			return nil
		}
		if _, err := tx.Exec(ctx, `
			UPDATE sessions SET first_approved_by = $2, first_approved_at = now(), claimed_by = NULL, claimed_until = NULL
			WHERE id = $1::uuid`, sessionID, mod.ID); err != nil {
			return fmt.Errorf("record first approval: %w", err)
		}
		if _, err := q.audit.Append(ctx, tx, audit.Entry{Kind: audit.KindCaseFirstApproval, SessionID: sessionID, Subject: iin,
			Data: map[string]any{"moderator_id": mod.ID, "note": note}}); err != nil {
			return err
		}
		recorded = true
		return nil
	})
	return recorded, firstBy, err
}

// Release gives a case back to the queue before its claim runs out.
func (q *Queue) Release(ctx context.Context, mod Moderator, sessionID string) error {
	if !ids.IsUUID(sessionID) {
		return ErrNotFound
	}
	_, err := q.pool.Exec(ctx, `
		UPDATE sessions SET claimed_by = NULL, claimed_until = NULL
		WHERE id = $1::uuid AND claimed_by = $2`, sessionID, mod.ID)
	if err != nil {
		return fmt.Errorf("release case: %w", err)
	}
	return nil
}
