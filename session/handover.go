package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Handover is what the identity assertion of a session a moderator
// approved is made from, once the applicant has passed the fresh capture
// that must follow the approval.
type Handover struct {
	Session     Session
	ModeratorID string
	// DecidedAt is when the moderator approved.
	DecidedAt time.Time
}

// handoverOpen says whether an approved session still accepts the fresh
// capture that hands its assertion over: not yet handed over, and within
// Config.HandoverWindow of the approval.
func (p *PG) handoverOpen(s *sessionRow, now time.Time) error {
	switch {
	case s.state != StateApproved:
		return fmt.Errorf("%w (state %s)", ErrNotApproved, s.state)
	case s.handedOver:
		return ErrHandedOver
	case s.decidedAt == nil || !now.Before(s.decidedAt.Add(p.cfg.HandoverWindow)):
		return ErrHandoverExpired
	}
	return nil
}

// MarkHandedOver records, in the caller's transaction (the one that
// records the assertion's issue in the audit log), that the assertion of
// an approved session was handed over: once, and only within the
// hand-over window. It is the only way an approval becomes an assertion,
// and the hand-over package calls it only for a fresh capture the
// decision policy matched to the approved person. ErrNotApproved,
// ErrHandedOver and ErrHandoverExpired say why not.
func (p *PG) MarkHandedOver(ctx context.Context, tx pgx.Tx, sessionID string) (Handover, error) {
	var iin string
	if err := tx.QueryRow(ctx, `SELECT iin FROM sessions WHERE id = $1::uuid`, sessionID).Scan(&iin); errors.Is(err, pgx.ErrNoRows) {
		return Handover{}, ErrNotFound
	} else if err != nil {
		return Handover{}, fmt.Errorf("look up session: %w", err)
	}
	st := &txState{p: p, tx: tx, iin: iin}
	if err := tx.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&st.now); err != nil {
		return Handover{}, fmt.Errorf("read clock: %w", err)
	}
	s, err := st.lockSession(ctx, sessionID)
	if err != nil {
		return Handover{}, err
	}
	if err := p.handoverOpen(s, st.now); err != nil {
		return Handover{}, err
	}
	var moderator *string
	if err := tx.QueryRow(ctx, `SELECT moderator_id FROM sessions WHERE id = $1::uuid`, s.id).Scan(&moderator); err != nil {
		return Handover{}, fmt.Errorf("read moderator: %w", err)
	}
	if moderator == nil {
		return Handover{}, fmt.Errorf("approved session %s has no moderator", s.id)
	}
	if _, err := tx.Exec(ctx, `UPDATE sessions SET handed_over_at = $2 WHERE id = $1::uuid`, s.id, st.now); err != nil {
		return Handover{}, fmt.Errorf("mark handed over: %w", err)
	}
	view, err := p.loadView(ctx, tx, "s.id = $1::uuid", s.id)
	if err != nil {
		return Handover{}, err
	}
	p.log.InfoContext(ctx, "approved session handed over", "session_id", s.id)
	return Handover{Session: view, ModeratorID: *moderator, DecidedAt: *s.decidedAt}, nil
}

// ApprovedAttempt is the attempt whose frames the moderator approved: the
// newest attempt with stored evidence that finished before the approval.
// The fresh capture of the hand-over is compared with its best frames.
func (p *PG) ApprovedAttempt(ctx context.Context, sessionID string) (string, error) {
	var id string
	err := p.pool.QueryRow(ctx, `
		SELECT a.id::text FROM session_attempts a JOIN sessions s ON s.id = a.session_id
		WHERE s.id = $1::uuid AND s.status = 'approved' AND a.evidence_ref IS NOT NULL AND a.finished_at <= s.decided_at
		ORDER BY a.n DESC LIMIT 1`, sessionID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("%w: no approved attempt with evidence in session %s", ErrNotFound, sessionID)
	}
	if err != nil {
		return "", fmt.Errorf("find the approved attempt: %w", err)
	}
	return id, nil
}
