package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"vidid/audit"
	"vidid/idnum"
	"vidid/policy"
	"vidid/rp"
)

// Every write runs in one transaction that first locks the applicant's
// subject_guards row (SELECT … FOR UPDATE), then session rows, then attempt
// rows, inserts callbacks, and appends audit records last. Because all
// writers for one IIN queue on that row, replicas sharing the database
// cannot interleave decisions, and all time comparisons use the database
// clock read after the lock was granted.

// guard is the applicant's subject_guards row.
type guard struct {
	failures    int
	lastFailure *time.Time
	lockedUntil *time.Time
}

func (g guard) locked(now time.Time) (time.Time, bool) {
	if g.lockedUntil != nil && g.lockedUntil.After(now) {
		return *g.lockedUntil, true
	}
	return time.Time{}, false
}

// effectiveFailures forgets failures whose newest is older than window.
func (g guard) effectiveFailures(now time.Time, window time.Duration) int {
	if g.lastFailure != nil && g.lastFailure.Before(now.Add(-window)) {
		return 0
	}
	return g.failures
}

type txState struct {
	p      *PG
	tx     pgx.Tx
	iin    string
	now    time.Time
	g      guard
	audits []audit.Entry
	after  []func()
}

// commitErr makes inSubject commit the transaction and then return err: for
// refusals that come with a write (an attempt timed out, a session expired).
type commitErr struct{ err error }

func (e *commitErr) Error() string { return e.err.Error() }

func commitThen(err error) error { return &commitErr{err} }

// inSubject runs fn in a transaction holding iin's guard row lock, appends
// the queued audit records, commits, then runs the after-commit hooks.
func (p *PG) inSubject(ctx context.Context, iin string, create bool, fn func(context.Context, *txState) error) error {
	var st *txState
	var refusal error
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		st = &txState{p: p, tx: tx, iin: iin}
		if create {
			if _, err := tx.Exec(ctx, `INSERT INTO subject_guards (iin) VALUES ($1) ON CONFLICT (iin) DO NOTHING`, iin); err != nil {
				return fmt.Errorf("create subject guard: %w", err)
			}
		}
		err := tx.QueryRow(ctx, `
			SELECT failures, last_failure_at, locked_until FROM subject_guards WHERE iin = $1 FOR UPDATE`, iin).
			Scan(&st.g.failures, &st.g.lastFailure, &st.g.lockedUntil)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock subject: %w", err)
		}
		// Read the clock only now that the lock is ours.
		if err := tx.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&st.now); err != nil {
			return fmt.Errorf("read database clock: %w", err)
		}
		if err := fn(ctx, st); err != nil {
			var ce *commitErr
			if !errors.As(err, &ce) {
				return err
			}
			refusal = ce.err
		}
		for _, e := range st.audits {
			if _, err := p.audit.Append(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range st.after {
		f()
	}
	return refusal
}

func (st *txState) queueAudit(e audit.Entry) { st.audits = append(st.audits, e) }
func (st *txState) afterCommit(f func())     { st.after = append(st.after, f) }

// sessionRow is a session locked FOR UPDATE.
type sessionRow struct {
	id, clientID, iin, callbackURL string
	state                          State
	requiresModeration             bool
	expiresAt                      time.Time
	attemptsStarted, failed        int
	consent                        bool
	decidedAt                      *time.Time
	handedOver                     bool
}

func (st *txState) lockSession(ctx context.Context, id string) (*sessionRow, error) {
	s := &sessionRow{}
	var state string
	err := st.tx.QueryRow(ctx, `
		SELECT id::text, client_id, iin, callback_url, status, requires_moderation, expires_at,
		       attempts_started, failed_attempts, coalesce(consent_accepted, false), decided_at, handed_over_at IS NOT NULL
		FROM sessions WHERE id = $1::uuid FOR UPDATE`, id).
		Scan(&s.id, &s.clientID, &s.iin, &s.callbackURL, &state, &s.requiresModeration, &s.expiresAt,
			&s.attemptsStarted, &s.failed, &s.consent, &s.decidedAt, &s.handedOver)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("lock session: %w", err)
	}
	if s.iin != st.iin {
		return nil, fmt.Errorf("lock session: subject mismatch") // cannot happen: iin never changes
	}
	s.state = State(state)
	return s, nil
}

type attemptRow struct {
	id        string
	n         int
	startedAt time.Time
	finished  bool
}

func (st *txState) lockAttempt(ctx context.Context, id string) (*attemptRow, error) {
	a := &attemptRow{}
	err := st.tx.QueryRow(ctx, `
		SELECT id::text, n, started_at, finished_at IS NOT NULL FROM session_attempts WHERE id = $1::uuid FOR UPDATE`, id).
		Scan(&a.id, &a.n, &a.startedAt, &a.finished)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("lock attempt: %w", err)
	}
	return a, nil
}

func (st *txState) runningAttempt(ctx context.Context, sessionID string) (*attemptRow, error) {
	a := &attemptRow{}
	err := st.tx.QueryRow(ctx, `
		SELECT id::text, n, started_at FROM session_attempts
		WHERE session_id = $1::uuid AND finished_at IS NULL FOR UPDATE`, sessionID).
		Scan(&a.id, &a.n, &a.startedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find running attempt: %w", err)
	}
	return a, nil
}

// otherRunning reports whether another session of the subject has an
// attempt started less than maxAge ago and not finished. The caller holds
// the subject's guard lock, so no attempt of the subject starts meanwhile.
// An older one is left for its own session to finish as timeout.
func (st *txState) otherRunning(ctx context.Context, sessionID string, maxAge time.Duration) (bool, error) {
	var n int
	err := st.tx.QueryRow(ctx, `
		SELECT count(*) FROM session_attempts a JOIN sessions s ON s.id = a.session_id
		WHERE s.iin = $1 AND s.id <> $2::uuid AND a.finished_at IS NULL AND a.started_at > $3`,
		st.iin, sessionID, st.now.Add(-maxAge)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("find running attempts of the subject: %w", err)
	}
	return n > 0, nil
}

// closedError is the refusal for a session that is not open: a
// *LockedError while its lockout lasts, ErrExpired, or ErrSessionClosed.
func (st *txState) closedError(s *sessionRow) error {
	switch s.state {
	case StateLocked:
		if until, ok := st.g.locked(st.now); ok {
			return &LockedError{Until: until}
		}
	case StateExpired:
		return ErrExpired
	}
	return fmt.Errorf("%w (%s)", ErrSessionClosed, s.state)
}

// requireOpen refuses unless s is open and unexpired; an open session
// past its expiry is closed as expired first (committed).
// requireCapturable: an open session, or an approved one whose hand-over
// capture is still due (not handed over, within the window).
func (st *txState) requireCapturable(ctx context.Context, s *sessionRow) error {
	if s.state == StateApproved {
		return st.p.handoverOpen(s, st.now)
	}
	return st.requireOpen(ctx, s)
}

func (st *txState) requireOpen(ctx context.Context, s *sessionRow) error {
	if s.state != StateOpen {
		return st.closedError(s)
	}
	if st.now.Before(s.expiresAt) {
		return nil
	}
	if _, err := st.expireIfDue(ctx, s); err != nil {
		return err
	}
	return commitThen(ErrExpired)
}

// expireIfDue closes an open session past its expiry. A running attempt
// still within MaxCaptureTime keeps it open (its result may still come);
// an older one is finished as timeout first.
func (st *txState) expireIfDue(ctx context.Context, s *sessionRow) (bool, error) {
	if s.state != StateOpen || st.now.Before(s.expiresAt) {
		return false, nil
	}
	running, err := st.runningAttempt(ctx, s.id)
	if err != nil {
		return false, err
	}
	if running != nil {
		if st.now.Before(running.startedAt.Add(st.p.cfg.MaxCaptureTime)) {
			return false, nil
		}
		if err := st.finish(ctx, s, running, timeoutResult(), true); err != nil {
			return false, err
		}
		if s.state != StateOpen {
			return true, nil
		}
	}
	return true, st.decide(ctx, s, StateExpired, "")
}

func (st *txState) saveGuard(ctx context.Context) error {
	_, err := st.tx.Exec(ctx, `
		UPDATE subject_guards SET failures = $2, last_failure_at = $3, locked_until = $4, updated_at = $5 WHERE iin = $1`,
		st.iin, st.g.failures, st.g.lastFailure, st.g.lockedUntil, st.now)
	if err != nil {
		return fmt.Errorf("update subject guard: %w", err)
	}
	return nil
}

func (st *txState) recentLockouts(ctx context.Context) (int, error) {
	var n int
	err := st.tx.QueryRow(ctx, `SELECT count(*) FROM subject_lockouts WHERE iin = $1 AND locked_at > $2`,
		st.iin, st.now.Add(-st.p.cfg.EscalationWindow)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count lockouts: %w", err)
	}
	return n, nil
}

// finish records a's result and applies it to s and the guard.
func (st *txState) finish(ctx context.Context, s *sessionRow, a *attemptRow, r Result, late bool) error {
	p := st.p
	open := s.state == StateOpen
	// A hand-over capture of an approved session counts its failures too:
	// someone else holding the link gets ten tries, then the lockout.
	handover := s.state == StateApproved
	counted := (open || handover) && r.Route == policy.RouteCount
	var reason *string
	if r.Reason != "" {
		s := string(r.Reason)
		reason = &s
	}
	var samePerson *float64
	if r.SamePersonScore > 0 {
		samePerson = &r.SamePersonScore
	}
	_, err := st.tx.Exec(ctx, `
		UPDATE session_attempts
		SET finished_at = $2, outcome = $3, reason = $4, counted = $5, liveness_score = $6, match_score = $7,
		    threshold = $8, threshold_version = nullif($9, ''), model = nullif($10, ''), evidence_ref = nullif($11, ''),
		    same_person_score = $12, policy_version = nullif($13, ''), measurements = $14
		WHERE id = $1::uuid`,
		a.id, st.now, string(r.Outcome), reason, counted, r.LivenessScore, r.MatchScore,
		r.Threshold, r.ThresholdVersion, r.Model, r.EvidenceRef, samePerson, r.PolicyVersion, measurementsArg(r.Measurements))
	if err != nil {
		return fmt.Errorf("record attempt result: %w", err)
	}
	st.queueAudit(audit.Entry{Kind: audit.KindAttemptResult, SessionID: s.id, Subject: s.iin, Data: map[string]any{
		"attempt_id": a.id, "n": a.n, "outcome": r.Outcome, "reason": r.Reason, "counted": counted, "late": late,
		"liveness_score": r.LivenessScore, "match_score": r.MatchScore, "same_person_score": samePerson, "threshold": r.Threshold,
		"threshold_version": r.ThresholdVersion, "model": r.Model, "evidence_ref": r.EvidenceRef,
		"route": r.Route, "policy_version": r.PolicyVersion, "decided_by": r.DecidedBy,
	}})
	st.afterCommit(func() { p.m.attempts.WithLabelValues(string(r.Outcome)).Inc() })
	if handover && counted {
		return st.countFailure(ctx, s, r.Reason)
	}
	if !open {
		return nil
	}
	switch {
	case r.Outcome == OutcomeMatch:
		// A match (issued, or sent to a person after repeated lockouts)
		// clears the failures. A session flagged for moderation never
		// issues, whatever the route says.
		st.g.failures = 0
		if err := st.saveGuard(ctx); err != nil {
			return err
		}
		to := StateMatched
		if s.requiresModeration || r.Route == policy.RouteModerate {
			to = StateModeration
		}
		return st.decide(ctx, s, to, "")
	case r.Route == policy.RouteModerate:
		return st.decide(ctx, s, StateModeration, r.Reason)
	case counted:
		return st.countFailure(ctx, s, r.Reason)
	}
	return nil
}

// countFailure counts a failed attempt against the session and the
// applicant's guard, and locks the applicant out at the limit.
func (st *txState) countFailure(ctx context.Context, s *sessionRow, reason Reason) error {
	p := st.p
	s.failed++
	if _, err := st.tx.Exec(ctx, `UPDATE sessions SET failed_attempts = $2 WHERE id = $1::uuid`, s.id, s.failed); err != nil {
		return fmt.Errorf("count failure: %w", err)
	}
	st.g.failures = st.g.effectiveFailures(st.now, p.cfg.FailureWindow) + 1
	now := st.now
	st.g.lastFailure = &now
	if err := st.saveGuard(ctx); err != nil {
		return err
	}
	if st.g.failures >= p.cfg.MaxFailedAttempts {
		return st.lockout(ctx, s, reason)
	}
	return nil
}

// lockout locks the applicant out, closes s and every other open session
// of the IIN as locked, and records the lockout for escalation.
func (st *txState) lockout(ctx context.Context, s *sessionRow, reason Reason) error {
	p := st.p
	d, escalated := p.cfg.LockoutDuration, false
	if p.cfg.EscalationLockout > 0 && p.cfg.EscalateAfterLockouts > 0 {
		n, err := st.recentLockouts(ctx)
		if err != nil {
			return err
		}
		if n+1 >= p.cfg.EscalateAfterLockouts {
			d, escalated = p.cfg.EscalationLockout, true
		}
	}
	until := st.now.Add(d)
	st.g.lockedUntil, st.g.failures = &until, 0
	if err := st.saveGuard(ctx); err != nil {
		return err
	}
	if _, err := st.tx.Exec(ctx, `
		INSERT INTO subject_lockouts (iin, session_id, locked_at, locked_until, escalated) VALUES ($1, $2::uuid, $3, $4, $5)`,
		st.iin, s.id, st.now, until, escalated); err != nil {
		return fmt.Errorf("record lockout: %w", err)
	}
	var closed []string
	if s.state == StateOpen { // an approved session stays approved; its hand-over waits out the lockout
		if err := st.decide(ctx, s, StateLocked, reason); err != nil {
			return err
		}
		closed = append(closed, s.id)
	}
	rows, err := st.tx.Query(ctx, `
		SELECT id::text FROM sessions WHERE iin = $1 AND status = 'open' AND id <> $2::uuid ORDER BY id`, st.iin, s.id)
	if err != nil {
		return fmt.Errorf("find open sessions: %w", err)
	}
	others, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("find open sessions: %w", err)
	}
	for _, id := range others {
		o, err := st.lockSession(ctx, id)
		if err != nil {
			return err
		}
		if err := st.abortRunning(ctx, o); err != nil {
			return err
		}
		if err := st.decide(ctx, o, StateLocked, reason); err != nil {
			return err
		}
		closed = append(closed, id)
	}
	st.queueAudit(audit.Entry{Kind: audit.KindLockout, SessionID: s.id, Subject: st.iin, Data: map[string]any{
		"until": until.UTC().Format(time.RFC3339Nano), "duration_seconds": int64(d / time.Second),
		"escalated": escalated, "sessions_closed": closed,
	}})
	st.afterCommit(func() {
		p.m.lockouts.Inc()
		p.log.WarnContext(ctx, "applicant locked out", "session_id", s.id, "iin", idnum.MaskIIN(st.iin),
			"until", until, "escalated", escalated, "sessions_closed", len(closed))
	})
	return nil
}

// abortRunning finishes a running attempt of a session being closed for
// another reason; it does not count toward the lockout.
func (st *txState) abortRunning(ctx context.Context, s *sessionRow) error {
	rows, err := st.tx.Query(ctx, `
		UPDATE session_attempts SET finished_at = $2, outcome = 'aborted', reason = 'aborted', counted = false
		WHERE session_id = $1::uuid AND finished_at IS NULL RETURNING id::text, n`, s.id, st.now)
	if err != nil {
		return fmt.Errorf("abort running attempt: %w", err)
	}
	type ab struct {
		ID string
		N  int
	}
	aborted, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ab])
	if err != nil {
		return fmt.Errorf("abort running attempt: %w", err)
	}
	for _, a := range aborted {
		st.queueAudit(audit.Entry{Kind: audit.KindAttemptResult, SessionID: s.id, Subject: s.iin, Data: map[string]any{
			"attempt_id": a.ID, "n": a.N, "outcome": OutcomeAborted, "reason": ReasonAborted, "counted": false,
			"closed_with_session": true,
		}})
		st.afterCommit(func() { st.p.m.attempts.WithLabelValues(string(OutcomeAborted)).Inc() })
	}
	return nil
}

// decisionData is the "data" of a session.decided callback. It carries no
// IIN and no scores.
type decisionData struct {
	SessionID          string     `json:"session_id"`
	State              State      `json:"state"`
	PreviousState      State      `json:"previous_state"`
	Reason             Reason     `json:"reason,omitempty"`
	RequiresModeration bool       `json:"requires_moderation"`
	AttemptsStarted    int        `json:"attempts_started"`
	FailedAttempts     int        `json:"failed_attempts"`
	LockedUntil        *time.Time `json:"locked_until,omitempty"`
	DecidedAt          time.Time  `json:"decided_at"`
}

// decide moves s to a new state, enqueues the relying party's callback and
// queues the audit record, all in the current transaction.
func (st *txState) decide(ctx context.Context, s *sessionRow, to State, reason Reason) error {
	from := s.state
	if !CanTransition(from, to) {
		return fmt.Errorf("%w: %s → %s", ErrInvalidTransition, from, to)
	}
	if _, err := st.tx.Exec(ctx, `UPDATE sessions SET status = $2, decided_at = $3 WHERE id = $1::uuid`,
		s.id, string(to), st.now); err != nil {
		return fmt.Errorf("update session state: %w", err)
	}
	s.state = to
	data := decisionData{
		SessionID: s.id, State: to, PreviousState: from, Reason: reason, RequiresModeration: s.requiresModeration,
		AttemptsStarted: s.attemptsStarted, FailedAttempts: s.failed, DecidedAt: st.now.UTC(),
	}
	if until, ok := st.g.locked(st.now); ok && to == StateLocked {
		u := until.UTC()
		data.LockedUntil = &u
	}
	eventID, err := rp.Enqueue(ctx, st.tx, rp.Callback{
		ClientID: s.clientID, SessionID: s.id, URL: s.callbackURL, Event: CallbackEvent, Data: data,
	})
	if err != nil {
		return err
	}
	st.queueAudit(audit.Entry{Kind: audit.KindSessionDecided, SessionID: s.id, Subject: s.iin, Data: map[string]any{
		"from": from, "to": to, "reason": reason, "requires_moderation": s.requiresModeration,
		"failed_attempts": s.failed, "attempts_started": s.attemptsStarted, "callback_event_id": eventID,
	}})
	st.afterCommit(func() {
		st.p.m.decisions.WithLabelValues(string(to)).Inc()
		st.p.log.InfoContext(ctx, "session decided", "session_id", s.id, "iin", idnum.MaskIIN(s.iin),
			"from", from, "to", to, "reason", reason)
	})
	return nil
}

// measurementsArg stores empty measurements as NULL.
func measurementsArg(m []byte) any {
	if len(m) == 0 {
		return nil
	}
	return string(m)
}
