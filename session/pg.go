package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/audit"
	"vidid/register"
	"vidid/rp"

	"vidid/internal/ids"
)

// Store is the session service the API and the capture pipeline call.
type Store interface {
	Create(ctx context.Context, req CreateRequest) (Session, string, error)
	ByToken(ctx context.Context, token string) (Session, error)
	Get(ctx context.Context, id string) (Session, error)
	Detail(ctx context.Context, id string) (Detail, error)
	RecordConsent(ctx context.Context, token, lang string, accepted bool) error
	StartAttempt(ctx context.Context, sessionID string) (Attempt, error)
	FinishAttempt(ctx context.Context, attemptID string, r Result) (Session, error)
	Cancel(ctx context.Context, sessionID string) (Session, error)
	Decide(ctx context.Context, sessionID string, approved bool, moderatorID, note string) (Session, error)
	Expire(ctx context.Context) (int, error)
}

var _ Store = (*PG)(nil)

// CreateRequest opens a verification session.
type CreateRequest struct {
	// ClientID is the authenticated relying party.
	ClientID string
	// IIN is the applicant's 12-digit individual identification number.
	IIN string
	// CallbackURL receives the signed decision; ReturnURL is where the
	// applicant's browser goes afterwards. Both must pass the client's
	// rp.Client.CheckURL.
	CallbackURL, ReturnURL string
	// TTL is the session's lifetime; 0 means Config.DefaultTTL.
	TTL time.Duration
}

// CallbackEvent is the event type of every session callback.
const CallbackEvent = "session.decided"

// PG is the Postgres-backed Store.
type PG struct {
	pool  *pgxpool.Pool
	cfg   Config
	audit *audit.Log
	log   *slog.Logger
	m     *metrics
}

// NewPG returns the session store. auditLog receives every decision inside
// the deciding transaction.
func NewPG(pool *pgxpool.Pool, cfg Config, auditLog *audit.Log) (*PG, error) {
	if pool == nil || auditLog == nil {
		return nil, errors.New("new session store: nil pool or audit log")
	}
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("new session store: %w", err)
	}
	return &PG{pool: pool, cfg: cfg, audit: auditLog, log: cfg.Logger, m: m}, nil
}

// Config returns the effective configuration (defaults filled in).
func (p *PG) Config() Config { return p.cfg }

// ---- reads -----------------------------------------------------------

const viewSelect = `
	SELECT s.id::text, s.client_id, s.iin, s.status, s.requires_moderation, s.callback_url, s.return_url,
	       s.created_at, s.expires_at, s.decided_at, s.attempts_started, s.failed_attempts,
	       coalesce(s.consent_accepted, false), coalesce(s.consent_lang, ''),
	       g.failures, g.last_failure_at, g.locked_until, clock_timestamp(),
	       coalesce(a.outcome, ''), coalesce(a.reason, ''), coalesce(a.running, false)
	FROM sessions s
	JOIN subject_guards g ON g.iin = s.iin
	LEFT JOIN LATERAL (
		SELECT outcome, reason, finished_at IS NULL AS running FROM session_attempts
		WHERE session_id = s.id ORDER BY n DESC LIMIT 1
	) a ON true
	WHERE `

func (p *PG) loadView(ctx context.Context, q rp.QueryRower, where string, arg any) (Session, error) {
	var s Session
	var state, outcome, reason string
	var decided, lastFailure, lockedUntil *time.Time
	var failures int
	var now time.Time
	err := q.QueryRow(ctx, viewSelect+where, arg).Scan(
		&s.ID, &s.ClientID, &s.IIN, &state, &s.RequiresModeration, &s.CallbackURL, &s.ReturnURL,
		&s.CreatedAt, &s.ExpiresAt, &decided, &s.AttemptsStarted, &s.FailedAttempts,
		&s.ConsentAccepted, &s.ConsentLang,
		&failures, &lastFailure, &lockedUntil, &now,
		&outcome, &reason, &s.AttemptRunning)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("load session: %w", err)
	}
	s.State, s.LastOutcome, s.LastReason = State(state), Outcome(outcome), Reason(reason)
	if decided != nil {
		s.DecidedAt = *decided
	}
	g := guard{failures: failures, lastFailure: lastFailure, lockedUntil: lockedUntil}
	if until, ok := g.locked(now); ok {
		s.LockedUntil = until
	}
	if s.State == StateOpen {
		if !now.Before(s.ExpiresAt) && !s.AttemptRunning {
			// Not yet swept; report what the next write will record.
			s.State = StateExpired
		} else {
			s.AttemptsLeft = max(0, p.cfg.MaxFailedAttempts-g.effectiveFailures(now, p.cfg.FailureWindow))
		}
	}
	return s, nil
}

// Get returns a session by id.
func (p *PG) Get(ctx context.Context, id string) (Session, error) {
	if !ids.IsUUID(id) {
		return Session{}, ErrNotFound
	}
	return p.loadView(ctx, p.pool, "s.id = $1::uuid", id)
}

// ByToken returns the session a capture token belongs to.
func (p *PG) ByToken(ctx context.Context, token string) (Session, error) {
	h, ok := hashToken(token)
	if !ok {
		return Session{}, ErrNotFound
	}
	return p.loadView(ctx, p.pool, "s.token_hash = $1", h)
}

// Detail returns the relying party's view of a session (see Detail).
func (p *PG) Detail(ctx context.Context, id string) (Detail, error) {
	s, err := p.Get(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{
		ID: s.ID, ClientID: s.ClientID, IINMasked: register.MaskIIN(s.IIN), State: s.State,
		RequiresModeration: s.RequiresModeration, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt,
		AttemptsStarted: s.AttemptsStarted, FailedAttempts: s.FailedAttempts, AttemptsLeft: s.AttemptsLeft,
		ConsentAccepted: s.ConsentAccepted, Attempts: []AttemptSummary{},
	}
	if !s.DecidedAt.IsZero() {
		t := s.DecidedAt
		d.DecidedAt = &t
	}
	if !s.LockedUntil.IsZero() {
		t := s.LockedUntil
		d.LockedUntil = &t
	}
	rows, err := p.pool.Query(ctx, `
		SELECT n, started_at, finished_at, coalesce(outcome, ''), coalesce(reason, ''), counted
		FROM session_attempts WHERE session_id = $1::uuid ORDER BY n`, id)
	if err != nil {
		return Detail{}, fmt.Errorf("load attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a AttemptSummary
		var outcome, reason string
		if err := rows.Scan(&a.N, &a.StartedAt, &a.FinishedAt, &outcome, &reason, &a.Counted); err != nil {
			return Detail{}, fmt.Errorf("load attempts: %w", err)
		}
		a.Outcome, a.Reason = Outcome(outcome), Reason(reason)
		d.Attempts = append(d.Attempts, a)
	}
	if err := rows.Err(); err != nil {
		return Detail{}, fmt.Errorf("load attempts: %w", err)
	}
	return d, nil
}

// subjectOf returns the IIN of a session (unlocked read: it never changes).
func (p *PG) subjectOf(ctx context.Context, where string, arg any) (id, iin string, err error) {
	err = p.pool.QueryRow(ctx, `SELECT id::text, iin FROM sessions WHERE `+where, arg).Scan(&id, &iin)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("look up session: %w", err)
	}
	return id, iin, nil
}

// ---- writes ----------------------------------------------------------

// Create opens a session. It refuses with a *LockedError while the IIN is
// locked out, and flags the session RequiresModeration after repeated
// lockouts (see Config.EscalateAfterLockouts). It returns the session and
// the capture token; only the token's hash is stored.
func (p *PG) Create(ctx context.Context, req CreateRequest) (Session, string, error) {
	if err := register.ValidateIIN(req.IIN); err != nil {
		return Session{}, "", fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = p.cfg.DefaultTTL
	}
	if ttl < time.Minute || ttl > p.cfg.MaxTTL {
		return Session{}, "", fmt.Errorf("%w: ttl %v not in [1m, %v]", ErrInvalidRequest, req.TTL, p.cfg.MaxTTL)
	}
	token, hash := newToken()
	var out Session
	err := p.inSubject(ctx, req.IIN, true, func(ctx context.Context, st *txState) error {
		client, err := rp.LoadClient(ctx, st.tx, req.ClientID)
		if err != nil {
			if errors.Is(err, rp.ErrNotFound) {
				return fmt.Errorf("%w: %w", ErrInvalidRequest, err)
			}
			return err
		}
		if client.Disabled {
			return fmt.Errorf("%w: client %s is disabled", ErrInvalidRequest, client.ID)
		}
		if _, err := client.CheckURL(req.CallbackURL); err != nil {
			return fmt.Errorf("%w: callback url: %w", ErrInvalidRequest, err)
		}
		if _, err := client.CheckURL(req.ReturnURL); err != nil {
			return fmt.Errorf("%w: return url: %w", ErrInvalidRequest, err)
		}
		if until, ok := st.g.locked(st.now); ok {
			return &LockedError{Until: until}
		}
		moderate := false
		if p.cfg.EscalateAfterLockouts > 0 && p.cfg.EscalationLockout == 0 {
			n, err := st.recentLockouts(ctx)
			if err != nil {
				return err
			}
			moderate = n >= p.cfg.EscalateAfterLockouts
		}
		var id string
		err = st.tx.QueryRow(ctx, `
			INSERT INTO sessions (client_id, iin, token_hash, requires_moderation, callback_url, return_url, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id::text`,
			client.ID, req.IIN, hash, moderate, req.CallbackURL, req.ReturnURL, st.now, st.now.Add(ttl)).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		st.queueAudit(audit.Entry{Kind: audit.KindSessionCreated, SessionID: id, Subject: req.IIN, Data: map[string]any{
			"client_id": client.ID, "ttl_seconds": int64(ttl / time.Second), "requires_moderation": moderate,
		}})
		st.afterCommit(func() {
			p.m.created.Inc()
			p.log.InfoContext(ctx, "session created", "session_id", id, "client_id", client.ID,
				"iin", register.MaskIIN(req.IIN), "requires_moderation", moderate)
		})
		out, err = p.loadView(ctx, st.tx, "s.id = $1::uuid", id)
		return err
	})
	if err != nil {
		return Session{}, "", err
	}
	return out, token, nil
}

// RecordConsent records the applicant's answer to the consent text shown
// in lang (kk, ru or en). Capture needs an accepted consent; a declined one
// can be changed while the session is open.
func (p *PG) RecordConsent(ctx context.Context, token, lang string, accepted bool) error {
	switch lang {
	case "kk", "ru", "en":
	default:
		return fmt.Errorf("%w: language %q is not kk, ru or en", ErrInvalidRequest, lang)
	}
	h, ok := hashToken(token)
	if !ok {
		return ErrNotFound
	}
	id, iin, err := p.subjectOf(ctx, "token_hash = $1", h)
	if err != nil {
		return err
	}
	return p.inSubject(ctx, iin, false, func(ctx context.Context, st *txState) error {
		s, err := st.lockSession(ctx, id)
		if err != nil {
			return err
		}
		if err := st.requireOpen(ctx, s); err != nil {
			return err
		}
		if _, err := st.tx.Exec(ctx, `
			UPDATE sessions SET consent_accepted = $2, consent_lang = $3, consent_at = $4 WHERE id = $1::uuid`,
			id, accepted, lang, st.now); err != nil {
			return fmt.Errorf("record consent: %w", err)
		}
		st.queueAudit(audit.Entry{Kind: audit.KindConsent, SessionID: id, Subject: iin,
			Data: map[string]any{"lang": lang, "accepted": accepted}})
		return nil
	})
}

// StartAttempt begins a capture run. It refuses with ErrAttemptInProgress
// while another attempt of the session runs (one older than
// MaxCaptureTime is first finished as timeout), with a *LockedError while
// the applicant is locked out, ErrSessionClosed once the session is final,
// ErrExpired and ErrConsentRequired.
func (p *PG) StartAttempt(ctx context.Context, sessionID string) (Attempt, error) {
	if !ids.IsUUID(sessionID) {
		return Attempt{}, ErrNotFound
	}
	_, iin, err := p.subjectOf(ctx, "id = $1::uuid", sessionID)
	if err != nil {
		return Attempt{}, err
	}
	var att Attempt
	err = p.inSubject(ctx, iin, false, func(ctx context.Context, st *txState) error {
		s, err := st.lockSession(ctx, sessionID)
		if err != nil {
			return err
		}
		if err := st.requireOpen(ctx, s); err != nil {
			return err
		}
		if until, ok := st.g.locked(st.now); ok {
			return &LockedError{Until: until}
		}
		if !s.consent {
			return ErrConsentRequired
		}
		running, err := st.runningAttempt(ctx, s.id)
		if err != nil {
			return err
		}
		if running != nil {
			if st.now.Before(running.startedAt.Add(p.cfg.MaxCaptureTime)) {
				return ErrAttemptInProgress
			}
			if err := st.finish(ctx, s, running, timeoutResult(), true); err != nil {
				return err
			}
			if s.state != StateOpen {
				return commitThen(st.closedError(s))
			}
		}
		if st.g.effectiveFailures(st.now, p.cfg.FailureWindow) >= p.cfg.MaxFailedAttempts {
			// Only after MaxFailedAttempts was lowered: lock now.
			if err := st.lockout(ctx, s, ""); err != nil {
				return err
			}
			return commitThen(st.closedError(s))
		}
		att = Attempt{SessionID: s.id, N: s.attemptsStarted + 1, StartedAt: st.now, Deadline: st.now.Add(p.cfg.MaxCaptureTime)}
		if err := st.tx.QueryRow(ctx, `
			INSERT INTO session_attempts (session_id, n, started_at) VALUES ($1::uuid, $2, $3) RETURNING id::text`,
			s.id, att.N, st.now).Scan(&att.ID); err != nil {
			return fmt.Errorf("insert attempt: %w", err)
		}
		if _, err := st.tx.Exec(ctx, `UPDATE sessions SET attempts_started = $2 WHERE id = $1::uuid`, s.id, att.N); err != nil {
			return fmt.Errorf("count attempt: %w", err)
		}
		return nil
	})
	if err != nil {
		return Attempt{}, err
	}
	return att, nil
}

// FinishAttempt records an attempt's result and returns the updated
// session: its new state, attempts left and lockout. A result arriving
// after MaxCaptureTime is recorded as timeout. A match closes the session
// as matched (or moderation when RequiresModeration); a register-photo
// problem or a no_match in the moderation band sends it to moderation; the
// MaxFailedAttempts-th counted failure locks the applicant out.
func (p *PG) FinishAttempt(ctx context.Context, attemptID string, r Result) (Session, error) {
	if err := r.normalise(); err != nil {
		return Session{}, err
	}
	if !ids.IsUUID(attemptID) {
		return Session{}, ErrNotFound
	}
	var sessionID, iin string
	err := p.pool.QueryRow(ctx, `
		SELECT s.id::text, s.iin FROM session_attempts a JOIN sessions s ON s.id = a.session_id
		WHERE a.id = $1::uuid`, attemptID).Scan(&sessionID, &iin)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("look up attempt: %w", err)
	}
	var out Session
	err = p.inSubject(ctx, iin, false, func(ctx context.Context, st *txState) error {
		s, err := st.lockSession(ctx, sessionID)
		if err != nil {
			return err
		}
		a, err := st.lockAttempt(ctx, attemptID)
		if err != nil {
			return err
		}
		if a.finished {
			return ErrAttemptFinished
		}
		late := !st.now.Before(a.startedAt.Add(p.cfg.MaxCaptureTime))
		if late {
			t := timeoutResult()
			t.Model, t.ThresholdVersion, t.EvidenceRef = r.Model, r.ThresholdVersion, r.EvidenceRef
			r = t
		}
		if err := st.finish(ctx, s, a, r, late); err != nil {
			return err
		}
		if s.state == StateOpen && !st.now.Before(s.expiresAt) {
			if err := st.decide(ctx, s, StateExpired, ""); err != nil {
				return err
			}
		}
		out, err = p.loadView(ctx, st.tx, "s.id = $1::uuid", sessionID)
		return err
	})
	if err != nil {
		return Session{}, err
	}
	return out, nil
}

// Cancel closes an open session at the relying party's request; a running
// attempt is aborted without counting.
func (p *PG) Cancel(ctx context.Context, sessionID string) (Session, error) {
	return p.transition(ctx, sessionID, func(ctx context.Context, st *txState, s *sessionRow) error {
		if s.state != StateOpen {
			return fmt.Errorf("%w: cancel a %s session", ErrInvalidTransition, s.state)
		}
		if err := st.abortRunning(ctx, s); err != nil {
			return err
		}
		return st.decide(ctx, s, StateCancelled, "")
	})
}

// Decide records a moderator's decision on a session in moderation:
// approved or rejected, without a rejection code (see DecideCase).
func (p *PG) Decide(ctx context.Context, sessionID string, approved bool, moderatorID, note string) (Session, error) {
	return p.DecideCase(ctx, sessionID, Decision{Approved: approved, ModeratorID: moderatorID, Note: note})
}

// Decision is a moderator's decision on a session in moderation.
type Decision struct {
	Approved    bool
	ModeratorID string
	Note        string
	// Reason is why a rejection was made, one of RejectReasons (empty
	// for an approval; optional for a rejection).
	Reason string
	// FirstApprovedBy is the moderator whose approval came first when
	// the case needed two (the four-eyes rule); recorded in the audit log.
	FirstApprovedBy string
}

// RejectReasons are the codes a rejection can give, for analysts.
var RejectReasons = []string{"different_person", "not_live", "register_photo_wrong", "poor_evidence", "other"}

// DecideCase records a moderator's decision on a session in moderation,
// with the moderator, the note and the rejection code in the session row
// and the audit log, in one transaction.
func (p *PG) DecideCase(ctx context.Context, sessionID string, d Decision) (Session, error) {
	if d.ModeratorID == "" || len(d.ModeratorID) > 200 || len(d.Note) > 4000 {
		return Session{}, fmt.Errorf("%w: moderator id (1..200 bytes) and note (≤4000 bytes) required", ErrInvalidRequest)
	}
	if d.Reason != "" && (d.Approved || !slices.Contains(RejectReasons, d.Reason)) {
		return Session{}, fmt.Errorf("%w: rejection reason %q (one of %v, and only for a rejection)", ErrInvalidRequest, d.Reason, RejectReasons)
	}
	return p.transition(ctx, sessionID, func(ctx context.Context, st *txState, s *sessionRow) error {
		to := StateRejected
		if d.Approved {
			to = StateApproved
		}
		if !CanTransition(s.state, to) {
			return fmt.Errorf("%w: %s → %s", ErrInvalidTransition, s.state, to)
		}
		if _, err := st.tx.Exec(ctx, `UPDATE sessions SET moderator_id = $2, moderation_note = $3, moderation_reason = nullif($4, '') WHERE id = $1::uuid`,
			s.id, d.ModeratorID, d.Note, d.Reason); err != nil {
			return fmt.Errorf("record moderation: %w", err)
		}
		if d.Approved {
			// The person was confirmed: their failure budget starts afresh.
			st.g.failures = 0
			if err := st.saveGuard(ctx); err != nil {
				return err
			}
		}
		data := map[string]any{"approved": d.Approved, "moderator_id": d.ModeratorID, "note": d.Note}
		if d.Reason != "" {
			data["reason"] = d.Reason
		}
		if d.FirstApprovedBy != "" {
			data["first_approved_by"] = d.FirstApprovedBy
		}
		st.queueAudit(audit.Entry{Kind: audit.KindModerationDecision, SessionID: s.id, Subject: s.iin, Data: data})
		return st.decide(ctx, s, to, "")
	})
}

// transition runs fn on a locked session and returns the updated view.
func (p *PG) transition(ctx context.Context, sessionID string, fn func(context.Context, *txState, *sessionRow) error) (Session, error) {
	if !ids.IsUUID(sessionID) {
		return Session{}, ErrNotFound
	}
	_, iin, err := p.subjectOf(ctx, "id = $1::uuid", sessionID)
	if err != nil {
		return Session{}, err
	}
	var out Session
	err = p.inSubject(ctx, iin, false, func(ctx context.Context, st *txState) error {
		s, err := st.lockSession(ctx, sessionID)
		if err != nil {
			return err
		}
		if err := fn(ctx, st, s); err != nil {
			return err
		}
		out, err = p.loadView(ctx, st.tx, "s.id = $1::uuid", sessionID)
		return err
	})
	if err != nil {
		return Session{}, err
	}
	return out, nil
}

// sweepBatch bounds one Expire query.
const sweepBatch = 100

// Expire finishes running attempts older than MaxCaptureTime as timeout
// (counted, so it can lock the applicant out) and closes open sessions past
// their expiry. It returns how many attempts and sessions it closed. Run it
// periodically (RunExpiry); reads already report an unswept session as
// expired.
func (p *PG) Expire(ctx context.Context) (int, error) {
	total := 0
	var errs []error
	sweep := func(query string, arg any, fn func(ctx context.Context, st *txState, id, other string) (bool, error)) {
		for ctx.Err() == nil {
			rows, err := p.pool.Query(ctx, query, arg, sweepBatch)
			if err != nil {
				errs = append(errs, fmt.Errorf("expire: %w", err))
				return
			}
			type item struct{ a, b, iin string }
			var items []item
			for rows.Next() {
				var it item
				if err := rows.Scan(&it.a, &it.b, &it.iin); err != nil {
					rows.Close()
					errs = append(errs, fmt.Errorf("expire: %w", err))
					return
				}
				items = append(items, it)
			}
			if err := rows.Err(); err != nil {
				errs = append(errs, fmt.Errorf("expire: %w", err))
				return
			}
			progress := 0
			for _, it := range items {
				changed := false
				err := p.inSubject(ctx, it.iin, false, func(ctx context.Context, st *txState) error {
					var err error
					changed, err = fn(ctx, st, it.a, it.b)
					return err
				})
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if changed {
					progress++
				}
			}
			total += progress
			if len(items) < sweepBatch || progress == 0 {
				return
			}
		}
	}
	// Stale attempts first: their sessions may then be expired below.
	sweep(`
		SELECT a.session_id::text, a.id::text, s.iin FROM session_attempts a JOIN sessions s ON s.id = a.session_id
		WHERE a.finished_at IS NULL AND a.started_at <= clock_timestamp() - make_interval(secs => $1)
		ORDER BY a.started_at LIMIT $2`, p.cfg.MaxCaptureTime.Seconds(),
		func(ctx context.Context, st *txState, sessionID, attemptID string) (bool, error) {
			s, err := st.lockSession(ctx, sessionID)
			if err != nil {
				return false, err
			}
			a, err := st.lockAttempt(ctx, attemptID)
			if err != nil {
				return false, err
			}
			if a.finished || st.now.Before(a.startedAt.Add(p.cfg.MaxCaptureTime)) {
				return false, nil
			}
			return true, st.finish(ctx, s, a, timeoutResult(), true)
		})
	sweep(`
		SELECT s.id::text, '', s.iin FROM sessions s
		WHERE s.status = 'open' AND s.expires_at <= clock_timestamp() - make_interval(secs => $1)
		  AND NOT EXISTS (SELECT 1 FROM session_attempts a WHERE a.session_id = s.id AND a.finished_at IS NULL)
		ORDER BY s.expires_at LIMIT $2`, 0.0,
		func(ctx context.Context, st *txState, sessionID, _ string) (bool, error) {
			s, err := st.lockSession(ctx, sessionID)
			if err != nil {
				return false, err
			}
			return st.expireIfDue(ctx, s)
		})
	if len(errs) > 0 {
		return total, errors.Join(errs...)
	}
	return total, ctx.Err()
}

// RunExpiry calls Expire every interval until ctx ends, logging failures.
func (p *PG) RunExpiry(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := p.Expire(ctx); err != nil && ctx.Err() == nil {
			p.log.WarnContext(ctx, "session expiry sweep failed", "err", err)
		} else if n > 0 {
			p.log.InfoContext(ctx, "session expiry sweep", "closed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ---- helpers ---------------------------------------------------------

func timeoutResult() Result { return Result{Outcome: OutcomeTimeout, Reason: ReasonTimeout} }

// tokenBytes is the capture token's entropy; the token is its base64url form.
const tokenBytes = 32

func newToken() (string, []byte) {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // never fails
	t := base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(t))
	return t, h[:]
}

func hashToken(t string) ([]byte, bool) {
	if len(t) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return nil, false
	}
	if _, err := base64.RawURLEncoding.DecodeString(t); err != nil {
		return nil, false
	}
	h := sha256.Sum256([]byte(t))
	return h[:], true
}

// LogValue logs a session without its IIN in full.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", s.ID), slog.String("client_id", s.ClientID),
		slog.String("iin", register.MaskIIN(s.IIN)), slog.String("state", string(s.State)))
}
