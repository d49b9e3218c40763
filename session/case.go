package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"vidid/audit"
	"vidid/internal/ids"
)

// A session in state moderation is a case. Package moderation lists the
// queue and orchestrates a review; every write a review makes to the
// sessions row — a moderator's claim, its release, the first of two
// approvals and the decision — is here, so this package alone writes the
// sessions table. Claims and decisions run in inSubject's transaction
// (guard row, then session row, audit records last) and compare times with
// the database clock read after the locks were granted.

// Claim is a moderator's hold on a case: while it lasts, no other
// moderator can open or decide the case.
type Claim struct {
	SessionID   string
	IIN         string
	ModeratorID string
	Until       time.Time
}

// ClaimedError says which moderator holds a case and until when. It wraps
// ErrClaimed.
type ClaimedError struct {
	ModeratorID string
	Until       time.Time
}

func (e *ClaimedError) Error() string {
	return fmt.Sprintf("%v (moderator %s, until %s)", ErrClaimed, e.ModeratorID, e.Until.UTC().Format(time.RFC3339))
}

func (e *ClaimedError) Unwrap() error { return ErrClaimed }

// ClaimCase claims the case sessionID for moderatorID for ttl by the
// database clock (the holder opening it again extends the claim) and
// records the opening in the audit log. view, when not nil, is called in
// the same transaction after the claim is written, to read what the
// moderator is shown: an error from it rolls the claim back, so every look
// at a case follows an audited opening. A case another moderator holds
// gives a *ClaimedError; a session not in moderation ErrNotInModeration.
func (p *PG) ClaimCase(ctx context.Context, sessionID, moderatorID string, ttl time.Duration,
	view func(ctx context.Context, tx pgx.Tx, c Claim) error) error {
	if moderatorID == "" || ttl <= 0 {
		return fmt.Errorf("%w: claim needs a moderator and a positive duration", ErrInvalidRequest)
	}
	return p.onLocked(ctx, sessionID, func(ctx context.Context, st *txState, s *sessionRow) error {
		c, err := st.loadCase(ctx, s)
		if err != nil {
			return err
		}
		if by, until, ok := c.heldByOther(moderatorID, st.now); ok {
			return &ClaimedError{ModeratorID: by, Until: until}
		}
		cl := Claim{SessionID: s.id, IIN: s.iin, ModeratorID: moderatorID, Until: st.now.Add(ttl)}
		if _, err := st.tx.Exec(ctx, `UPDATE sessions SET claimed_by = $2, claimed_until = $3 WHERE id = $1::uuid`,
			s.id, moderatorID, cl.Until); err != nil {
			return fmt.Errorf("claim case: %w", err)
		}
		st.queueAudit(audit.Entry{Kind: audit.KindCaseOpened, SessionID: s.id, Subject: s.iin,
			Data: map[string]any{"moderator_id": moderatorID, "claimed_until": cl.Until.UTC()}})
		if view == nil {
			return nil
		}
		return view(ctx, st.tx, cl)
	})
}

// ReleaseCase gives a case moderatorID holds back to the queue. Releasing
// a case the moderator does not hold changes nothing.
func (p *PG) ReleaseCase(ctx context.Context, sessionID, moderatorID string) error {
	if !ids.IsUUID(sessionID) {
		return ErrNotFound
	}
	// One statement on one row: it needs neither the guard lock nor the
	// audit log.
	if _, err := p.pool.Exec(ctx, `UPDATE sessions SET claimed_by = NULL, claimed_until = NULL
		WHERE id = $1::uuid AND claimed_by = $2`, sessionID, moderatorID); err != nil {
		return fmt.Errorf("release case: %w", err)
	}
	return nil
}

// ReleaseClaims releases every claim moderatorID holds, inside tx: for a
// moderator account being disabled, in the transaction that disables it.
func ReleaseClaims(ctx context.Context, tx pgx.Tx, moderatorID string) error {
	if _, err := tx.Exec(ctx, `UPDATE sessions SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1`,
		moderatorID); err != nil {
		return fmt.Errorf("release claims: %w", err)
	}
	return nil
}

// caseRow is the moderation part of a locked session row.
type caseRow struct {
	claimedBy    *string
	claimedUntil *time.Time
	firstBy      *string
	lastReason   Reason
}

// loadCase reads the case columns of s, which the caller has locked, and
// refuses unless s is in moderation.
func (st *txState) loadCase(ctx context.Context, s *sessionRow) (caseRow, error) {
	if s.state != StateModeration {
		return caseRow{}, fmt.Errorf("%w (state %s)", ErrNotInModeration, s.state)
	}
	var c caseRow
	var reason *string
	err := st.tx.QueryRow(ctx, `
		SELECT claimed_by, claimed_until, first_approved_by,
		       (SELECT a.reason FROM session_attempts a
		         WHERE a.session_id = s.id AND a.finished_at IS NOT NULL ORDER BY a.n DESC LIMIT 1)
		FROM sessions s WHERE id = $1::uuid`, s.id).Scan(&c.claimedBy, &c.claimedUntil, &c.firstBy, &reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return caseRow{}, ErrNotFound
	}
	if err != nil {
		return caseRow{}, fmt.Errorf("load case: %w", err)
	}
	if reason != nil {
		c.lastReason = Reason(*reason)
	}
	return c, nil
}

// heldBy reports whether moderatorID holds an unexpired claim at now.
func (c caseRow) heldBy(moderatorID string, now time.Time) bool {
	return c.claimedBy != nil && *c.claimedBy == moderatorID && c.claimedUntil.After(now)
}

// heldByOther returns the other moderator holding an unexpired claim.
func (c caseRow) heldByOther(moderatorID string, now time.Time) (string, time.Time, bool) {
	if c.claimedBy == nil || *c.claimedBy == moderatorID || !c.claimedUntil.After(now) {
		return "", time.Time{}, false
	}
	return *c.claimedBy, *c.claimedUntil, true
}

// recordFirstApproval records d as the first of the two approvals s needs
// and releases the claim, so another moderator can take the case; s stays
// in moderation.
func (st *txState) recordFirstApproval(ctx context.Context, s *sessionRow, d Decision) error {
	if _, err := st.tx.Exec(ctx, `
		UPDATE sessions SET first_approved_by = $2, first_approved_at = $3, claimed_by = NULL, claimed_until = NULL
		WHERE id = $1::uuid`, s.id, d.ModeratorID, st.now); err != nil {
		return fmt.Errorf("record first approval: %w", err)
	}
	st.queueAudit(audit.Entry{Kind: audit.KindCaseFirstApproval, SessionID: s.id, Subject: s.iin,
		Data: map[string]any{"moderator_id": d.ModeratorID, "note": d.Note}})
	return nil
}
