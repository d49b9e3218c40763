// Package evidence keeps the best frames of each capture attempt for the
// moderators who decide undecided sessions. Frames are biometric personal
// data: they are sealed with AES-256-GCM under a key kept outside the
// database (the ciphertext is bound to its attempt and position, so rows
// cannot be swapped), read back only through Load, and deleted by Purge
// once the retention period has passed.
package evidence

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/internal/seal"
)

// Errors.
var (
	ErrNotFound = errors.New("no evidence for that attempt")
	// ErrSealed: a row does not open with the configured key (wrong key,
	// or the row was altered or moved).
	ErrSealed = errors.New("evidence does not open with this key")
)

// PG stores evidence in Postgres.
type PG struct {
	pool *pgxpool.Pool
	keys *seal.Ring // the current key seals; earlier ones only open
}

// NewPG returns a store sealing with the 32-byte key. previous are earlier
// evidence keys, after a key rotation: evidence sealed under them still
// loads until the retention job has purged it, and then they can go.
func NewPG(pool *pgxpool.Pool, key []byte, previous ...[]byte) (*PG, error) {
	keys, err := seal.NewDomainRing("evidence key", "vidid evidence key id", key, previous...)
	if err != nil {
		return nil, err
	}
	return &PG{pool: pool, keys: keys}, nil
}

// KeyID names the current evidence key (stored with each frame).
func (p *PG) KeyID() string { return p.keys.Current().ID() }

// open opens one stored frame sealed under the key with id keyID.
func (p *PG) open(sealed []byte, keyID string, aad []byte) ([]byte, error) {
	k, ok := p.keys.Key(keyID)
	if !ok {
		return nil, fmt.Errorf("%w: sealed with key %s, this process has key %s (and %d previous)",
			ErrSealed, keyID, p.KeyID(), len(p.keys.IDs())-1)
	}
	plain, err := k.Open(sealed, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSealed, err)
	}
	return plain, nil
}

// Kinds of evidence.
const (
	KindBest = "best" // the best frames, full size
	KindClip = "clip" // a short clip: downscaled frames spread over the attempt
)

func aad(attemptID, kind string, n int) []byte {
	if kind == KindBest { // rows sealed before clips existed
		return []byte(attemptID + "/" + strconv.Itoa(n))
	}
	return []byte(attemptID + "/" + kind + "/" + strconv.Itoa(n))
}

// Save seals and stores the frames (JPEG bytes) of one kind for one
// attempt in one transaction and returns the reference recorded with the
// attempt.
func (p *PG) Save(ctx context.Context, attemptID, kind string, jpegs [][]byte) (string, error) {
	if kind != KindBest && kind != KindClip {
		return "", fmt.Errorf("evidence: unknown kind %q", kind)
	}
	if len(jpegs) == 0 {
		return "", errors.New("evidence: no frames")
	}
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		for n, j := range jpegs {
			sealed, err := p.keys.Current().Seal(nil, j, aad(attemptID, kind, n))
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO attempt_evidence (attempt_id, kind, n, key_id, sealed) VALUES ($1, $2, $3, $4, $5)`,
				attemptID, kind, n, p.KeyID(), sealed); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("save evidence: %w", err)
	}
	return "attempt:" + attemptID, nil
}

// Load returns the frames of one kind of one attempt, in order.
func (p *PG) Load(ctx context.Context, attemptID, kind string) ([][]byte, error) {
	rows, err := p.pool.Query(ctx, `SELECT n, key_id, sealed FROM attempt_evidence WHERE attempt_id = $1 AND kind = $2 ORDER BY n`, attemptID, kind)
	if err != nil {
		return nil, fmt.Errorf("load evidence: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var n int
		var keyID string
		var sealed []byte
		if err := rows.Scan(&n, &keyID, &sealed); err != nil {
			return nil, fmt.Errorf("load evidence: %w", err)
		}
		plain, err := p.open(sealed, keyID, aad(attemptID, kind, n))
		if err != nil {
			return nil, fmt.Errorf("frame %d: %w", n, err)
		}
		out = append(out, plain)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load evidence: %w", err)
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return out, nil
}

// Purge deletes evidence older than the retention period (by the database
// clock) and returns how many frames went.
func (p *PG) Purge(ctx context.Context, retention time.Duration) (int64, error) {
	tag, err := p.pool.Exec(ctx, `DELETE FROM attempt_evidence WHERE created_at < now() - $1::interval`, fmt.Sprintf("%d seconds", int64(retention.Seconds())))
	if err != nil {
		return 0, fmt.Errorf("purge evidence: %w", err)
	}
	return tag.RowsAffected(), nil
}
