package assertion

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Execer is what UseTokenTx needs: a *pgxpool.Pool, a pgx.Tx or a *pgx.Conn.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// PGTokens records consumed assertions in PostgreSQL (table assertion_jti),
// so every replica and every consumer sharing the database sees a token at
// most once.
type PGTokens struct {
	pool *pgxpool.Pool
}

var _ TokenUser = (*PGTokens)(nil)

// NewPGTokens returns a PGTokens on pool (migrated by store.Migrate).
func NewPGTokens(pool *pgxpool.Pool) *PGTokens { return &PGTokens{pool: pool} }

// UseToken records u; ErrReplayed when its jti was recorded before.
func (p *PGTokens) UseToken(ctx context.Context, u TokenUse) error {
	return UseTokenTx(ctx, p.pool, u)
}

// UseTokenTx records u through db — typically a transaction that also
// writes what the assertion was used for, so both happen or neither. One
// INSERT … ON CONFLICT DO NOTHING: inserting no row means the jti was
// already there (ErrReplayed). Concurrent callers with the same jti
// serialise on the primary key; exactly one inserts.
func UseTokenTx(ctx context.Context, db Execer, u TokenUse) error {
	if !jtiPattern.MatchString(u.JTI) {
		return fmt.Errorf("use token: %w: bad jti", ErrMalformed)
	}
	var usedAt any // nil: the database's now()
	if !u.UsedAt.IsZero() {
		usedAt = u.UsedAt
	}
	tag, err := db.Exec(ctx, `INSERT INTO assertion_jti (jti, sub, aud, exp, used_at)
		VALUES ($1, $2, $3, $4, COALESCE($5::timestamptz, now()))
		ON CONFLICT (jti) DO NOTHING`, u.JTI, u.Subject, u.Audience, u.Expiry, usedAt)
	if err != nil {
		return fmt.Errorf("use token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w (jti %s)", ErrReplayed, u.JTI)
	}
	return nil
}

// Purge deletes records of tokens that expired before cutoff; the verifier
// refuses those as expired anyway, so pass now minus (at least) the leeway.
func (p *PGTokens) Purge(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := p.pool.Exec(ctx, `DELETE FROM assertion_jti WHERE exp < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("purge used tokens: %w", err)
	}
	return tag.RowsAffected(), nil
}
