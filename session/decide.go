package session

import (
	"context"
	"fmt"
	"slices"

	"vidid/audit"

	"vidid/internal/ids"
)

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
	// Claimed requires ModeratorID to hold an unexpired claim on the case
	// (ClaimCase), checked under the row lock: ErrNotClaimed otherwise.
	// The decision releases the claim.
	Claimed bool
	// TwoApprovals, when set, says whether an approval of the case needs
	// two moderators (the four-eyes rule), from the case's kind: its last
	// finished attempt's reason and whether it was flagged for moderation.
	// The first such approval is recorded, the claim released and the
	// session stays in moderation; the second must come from another
	// moderator (ErrSecondApprover) and is the decision. A rejection
	// needs one moderator.
	TwoApprovals func(lastReason Reason, flagged bool) bool
}

// RejectReasons are the codes a rejection can give, for analysts.
var RejectReasons = []string{"different_person", "not_live", "register_photo_wrong", "poor_evidence", "other"}

// DecideCase records a moderator's decision on a session in moderation,
// with the claim check and the four-eyes rule (see Decision): the
// moderator, the note and the rejection code in the session row, the
// state change, the relying party's callback, the release of the claim
// and the audit records, all in one transaction. A session in moderation
// after a successful DecideCase had a first approval recorded. A session
// not in moderation gives ErrInvalidTransition.
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
		c, err := st.loadCase(ctx, s)
		if err != nil {
			return err
		}
		if d.Claimed && !c.heldBy(d.ModeratorID, st.now) {
			return ErrNotClaimed
		}
		var firstBy string
		if d.Approved && d.TwoApprovals != nil && d.TwoApprovals(c.lastReason, s.requiresModeration) {
			switch {
			case c.firstBy == nil:
				return st.recordFirstApproval(ctx, s, d)
			case *c.firstBy == d.ModeratorID:
				return ErrSecondApprover
			}
			firstBy = *c.firstBy
		}
		if _, err := st.tx.Exec(ctx, `
			UPDATE sessions SET moderator_id = $2, moderation_note = $3, moderation_reason = nullif($4, ''),
			       claimed_by = NULL, claimed_until = NULL
			WHERE id = $1::uuid`, s.id, d.ModeratorID, d.Note, d.Reason); err != nil {
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
		if firstBy != "" {
			data["first_approved_by"] = firstBy
		}
		st.queueAudit(audit.Entry{Kind: audit.KindModerationDecision, SessionID: s.id, Subject: s.iin, Data: data})
		return st.decide(ctx, s, to, "")
	})
}

// transition runs fn on a locked session and returns the updated view.
func (p *PG) transition(ctx context.Context, sessionID string, fn func(context.Context, *txState, *sessionRow) error) (Session, error) {
	var out Session
	err := p.onLocked(ctx, sessionID, func(ctx context.Context, st *txState, s *sessionRow) error {
		if err := fn(ctx, st, s); err != nil {
			return err
		}
		var err error
		out, err = p.loadView(ctx, st.tx, "s.id = $1::uuid", sessionID)
		return err
	})
	if err != nil {
		return Session{}, err
	}
	return out, nil
}

// onLocked runs fn on a session locked in inSubject's transaction.
func (p *PG) onLocked(ctx context.Context, sessionID string, fn func(context.Context, *txState, *sessionRow) error) error {
	if !ids.IsUUID(sessionID) {
		return ErrNotFound
	}
	_, iin, err := p.subjectOf(ctx, "id = $1::uuid", sessionID)
	if err != nil {
		return err
	}
	return p.inSubject(ctx, iin, false, func(ctx context.Context, st *txState) error {
		s, err := st.lockSession(ctx, sessionID)
		if err != nil {
			return err
		}
		return fn(ctx, st, s)
	})
}
