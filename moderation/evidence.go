package moderation

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"vidid/evidence"
)

// RegisterPhoto returns the register photo of a case mod has open, and
// its media type.
func (q *Queue) RegisterPhoto(ctx context.Context, mod Moderator, sessionID string) ([]byte, string, error) {
	iin, err := q.claimed(ctx, mod, sessionID)
	if err != nil {
		return nil, "", err
	}
	cz, err := q.register.Get(ctx, iin)
	if err != nil {
		return nil, "", fmt.Errorf("register photo: %w", err)
	}
	if len(cz.Photo) == 0 {
		return nil, "", fmt.Errorf("%w: the register has no photo", ErrNoEvidence)
	}
	return cz.Photo, cz.PhotoType, nil
}

// Frame returns frame i (from 0) of the given kind of attempt n of a case
// mod has open, as JPEG.
func (q *Queue) Frame(ctx context.Context, mod Moderator, sessionID string, attempt int, kind string, i int) ([]byte, error) {
	if kind != FramesBest && kind != FramesClip || attempt < 1 || i < 0 {
		return nil, fmt.Errorf("%w: frame %s/%d/%d", ErrInvalidRequest, kind, attempt, i)
	}
	if _, err := q.claimed(ctx, mod, sessionID); err != nil {
		return nil, err
	}
	if q.evidence == nil {
		return nil, ErrNoEvidence
	}
	var attemptID string
	err := q.pool.QueryRow(ctx, `SELECT id::text FROM session_attempts WHERE session_id = $1::uuid AND n = $2`, sessionID, attempt).Scan(&attemptID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: no attempt %d", ErrNoEvidence, attempt)
	}
	if err != nil {
		return nil, fmt.Errorf("look up attempt: %w", err)
	}
	frames, err := q.evidence.Load(ctx, attemptID, kind)
	if errors.Is(err, evidence.ErrNotFound) {
		return nil, fmt.Errorf("%w: attempt %d has no %s frames", ErrNoEvidence, attempt, kind)
	}
	if err != nil {
		return nil, fmt.Errorf("load frames: %w", err)
	}
	if i >= len(frames) {
		return nil, fmt.Errorf("%w: attempt %d has %d %s frames", ErrNoEvidence, attempt, len(frames), kind)
	}
	return frames[i], nil
}
