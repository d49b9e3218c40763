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
