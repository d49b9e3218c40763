package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Handover is what the identity assertion of a session a moderator
// approved is made from.
type Handover struct {
	Session     Session
	ModeratorID string
	// DecidedAt is when the moderator approved.
	DecidedAt time.Time
	// The session's attempt with the highest match score, for the
	// assertion's evidence (scores 0 when not measured).
	AttemptID        string
	MatchScore       float64
	LivenessScore    float64
	ThresholdVersion string
	Model            string
}

// Handover hands the applicant of an approved session (by capture token)
// their assertion, once: issue is called inside the transaction that marks
// the session handed over, and must record the issue through tx (the audit
// log) — if it fails, nothing is marked and the applicant may try again.
// A session not approved gives ErrNotApproved, a second hand-over
// ErrHandedOver.
func (p *PG) Handover(ctx context.Context, token string, issue func(ctx context.Context, tx pgx.Tx, h Handover) error) (Session, error) {
	th, ok := hashToken(token)
	if !ok {
		return Session{}, ErrNotFound
	}
	var id string
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var status string
		var handedOver, decided *time.Time
		var moderator *string
		err := tx.QueryRow(ctx, `
			SELECT id::text, status, handed_over_at, moderator_id, decided_at
			FROM sessions WHERE token_hash = $1 FOR UPDATE`, th).Scan(&id, &status, &handedOver, &moderator, &decided)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock session: %w", err)
		}
		switch {
		case State(status) != StateApproved:
			return fmt.Errorf("%w (state %s)", ErrNotApproved, status)
		case handedOver != nil:
			return fmt.Errorf("%w at %s", ErrHandedOver, handedOver.UTC().Format(time.RFC3339))
		case moderator == nil || decided == nil:
			return fmt.Errorf("approved session %s has no moderator or decision time", id)
		}
		h := Handover{ModeratorID: *moderator, DecidedAt: *decided}
		err = tx.QueryRow(ctx, `
			SELECT id::text, coalesce(match_score, 0), coalesce(liveness_score, 0),
			       coalesce(threshold_version, ''), coalesce(model, '')
			FROM session_attempts WHERE session_id = $1::uuid AND finished_at IS NOT NULL
			ORDER BY match_score DESC NULLS LAST, n DESC LIMIT 1`, id).
			Scan(&h.AttemptID, &h.MatchScore, &h.LivenessScore, &h.ThresholdVersion, &h.Model)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("load attempts: %w", err)
		}
		if h.Session, err = p.loadView(ctx, tx, "s.id = $1::uuid", id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET handed_over_at = clock_timestamp() WHERE id = $1::uuid`, id); err != nil {
			return fmt.Errorf("mark handed over: %w", err)
		}
		return issue(ctx, tx, h)
	})
	if err != nil {
		return Session{}, err
	}
	p.log.InfoContext(ctx, "approved session handed over", "session_id", id)
	return p.Get(ctx, id)
}
