package moderation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"vidid/audit"
	"vidid/internal/ids"
	"vidid/session"
)

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
