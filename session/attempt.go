package session

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"vidid/internal/ids"
	"vidid/policy"
)

// StartAttempt begins a capture run. It refuses with ErrAttemptInProgress
// while another attempt of the session runs (one older than
// MaxCaptureTime is first finished as timeout), or one of another session
// of the same IIN (younger than MaxCaptureTime): one capture per person at
// a time, however many sessions relying parties open. A *LockedError while
// the applicant is locked out, ErrSessionClosed once the session is final,
// ErrExpired and ErrConsentRequired. An approved session takes the fresh
// capture of its hand-over until it is handed over (ErrHandedOver) or its
// window has passed (ErrHandoverExpired).
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
		if err := st.requireCapturable(ctx, s); err != nil {
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
			if s.state != StateOpen && s.state != StateApproved {
				return commitThen(st.closedError(s))
			}
		}
		if busy, err := st.otherRunning(ctx, s.id, p.cfg.MaxCaptureTime); err != nil {
			return err
		} else if busy {
			return commitThen(ErrAttemptInProgress)
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

func timeoutResult() Result {
	return Result{Outcome: OutcomeTimeout, Reason: ReasonTimeout, Route: policy.RouteCount}
}
