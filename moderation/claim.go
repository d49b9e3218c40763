package moderation

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"vidid/internal/ids"
	"vidid/session"
)

// claimed checks that mod holds the claim on an open case and returns
// the session's IIN (a read: the claim is written by package session).
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

// Release gives a case back to the queue before its claim runs out.
func (q *Queue) Release(ctx context.Context, mod Moderator, sessionID string) error {
	return caseError(q.sessions.ReleaseCase(ctx, sessionID, mod.ID))
}
