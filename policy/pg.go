package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/audit"
)

// Status is a stored policy version's state.
type Status string

// Statuses.
const (
	StatusProposed Status = "proposed"
	StatusActive   Status = "active"
	StatusRetired  Status = "retired"
	// StatusDerived: made from another version by flag overrides.
	StatusDerived Status = "derived"
)

// Auditor records policy changes in the audit log, in the caller's
// transaction.
type Auditor interface {
	Append(ctx context.Context, tx pgx.Tx, e audit.Entry) (audit.Record, error)
}

// Store keeps policy versions in Postgres (migration 015).
type Store struct {
	pool  *pgxpool.Pool
	audit Auditor
}

// NewStore returns a Store.
func NewStore(pool *pgxpool.Pool, a Auditor) *Store { return &Store{pool: pool, audit: a} }

// Info describes a stored version.
type Info struct {
	Version     string    `json:"version"`
	Parent      string    `json:"parent,omitempty"`
	Status      Status    `json:"status"`
	Digest      string    `json:"digest"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	ActivatedAt time.Time `json:"activated_at,omitzero"`
	ActivatedBy string    `json:"activated_by,omitempty"`
}

// Put stores p (validated) with status proposed or derived, audited.
// Storing the same version with the same contents again is a no-op
// (replicas deriving the same overrides); other contents give ErrExists.
func (s *Store) Put(ctx context.Context, p *Policy, st Status, by string) error {
	if st != StatusProposed && st != StatusDerived {
		return fmt.Errorf("%w: a new version is proposed or derived, not %s", ErrInvalid, st)
	}
	if err := p.Validate(); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := s.put(ctx, tx, p, st, by)
		return err
	})
}

func (s *Store) put(ctx context.Context, tx pgx.Tx, p *Policy, st Status, by string) (bool, error) {
	if by == "" {
		return false, fmt.Errorf("%w: who writes the policy is required", ErrInvalid)
	}
	var parent *string
	if p.Parent != "" {
		parent = &p.Parent
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO policies (version, parent, body, digest, status, created_by)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (version) DO NOTHING`,
		p.Version, parent, p.JSON(), p.Digest(), string(st), by)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23503" {
			return false, fmt.Errorf("%w: parent %s is not stored", ErrNotFound, p.Parent)
		}
		return false, fmt.Errorf("store policy %s: %w", p.Version, err)
	}
	if tag.RowsAffected() == 0 {
		var digest string
		if err := tx.QueryRow(ctx, `SELECT digest FROM policies WHERE version = $1`, p.Version).Scan(&digest); err != nil {
			return false, fmt.Errorf("read policy %s: %w", p.Version, err)
		}
		if digest != p.Digest() {
			return false, fmt.Errorf("%w: %s", ErrExists, p.Version)
		}
		return false, nil
	}
	_, err = s.audit.Append(ctx, tx, audit.Entry{Kind: audit.KindPolicyProposed, Data: map[string]any{
		"version": p.Version, "parent": p.Parent, "status": st, "digest": p.Digest(), "by": by, "evidence": p.Evidence}})
	return true, err
}

// Seed makes p the active policy when none is active (a new database):
// stored, activated and audited in one transaction; concurrent replicas
// seed once. It reports whether it did.
func (s *Store) Seed(ctx context.Context, p *Policy, by string) (bool, error) {
	if err := p.Validate(); err != nil {
		return false, err
	}
	seeded := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE policies IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("lock policies: %w", err)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM policies WHERE status = 'active'`).Scan(&n); err != nil {
			return fmt.Errorf("count active policies: %w", err)
		}
		if n > 0 {
			return nil
		}
		if _, err := s.put(ctx, tx, p, StatusProposed, by); err != nil {
			return err
		}
		seeded = true
		return s.activate(ctx, tx, p.Version, by)
	})
	return seeded, err
}

// Activate makes version the active policy (the previous one retired),
// audited with both versions. The version must be stored and valid.
func (s *Store) Activate(ctx context.Context, version, by string) error {
	if by == "" {
		return fmt.Errorf("%w: who activates the policy is required", ErrInvalid)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE policies IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("lock policies: %w", err)
		}
		return s.activate(ctx, tx, version, by)
	})
}

func (s *Store) activate(ctx context.Context, tx pgx.Tx, version, by string) error {
	p, st, err := get(ctx, tx, version)
	if err != nil {
		return err
	}
	if st == StatusActive {
		return nil
	}
	var prev *string
	if err := tx.QueryRow(ctx, `SELECT version FROM policies WHERE status = 'active'`).Scan(&prev); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("read active policy: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE policies SET status = 'retired' WHERE status = 'active'`); err != nil {
		return fmt.Errorf("retire active policy: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE policies SET status = 'active', activated_at = clock_timestamp(), activated_by = $2
		WHERE version = $1`, version, by); err != nil {
		return fmt.Errorf("activate policy %s: %w", version, err)
	}
	data := map[string]any{"version": version, "digest": p.Digest(), "by": by, "previous": prev}
	_, err = s.audit.Append(ctx, tx, audit.Entry{Kind: audit.KindPolicyActivated, Data: data})
	return err
}

// Active returns the active policy, re-validated and checked against its
// stored digest. ErrNoActive when there is none.
func (s *Store) Active(ctx context.Context) (*Policy, error) {
	var version string
	err := s.pool.QueryRow(ctx, `SELECT version FROM policies WHERE status = 'active'`).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoActive
	}
	if err != nil {
		return nil, fmt.Errorf("read active policy: %w", err)
	}
	return s.Get(ctx, version)
}

// Get returns a stored version.
func (s *Store) Get(ctx context.Context, version string) (*Policy, error) {
	var p *Policy
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		p, _, err = get(ctx, tx, version)
		return err
	})
	return p, err
}

func get(ctx context.Context, tx pgx.Tx, version string) (*Policy, Status, error) {
	var body []byte
	var digest, st string
	err := tx.QueryRow(ctx, `SELECT body, digest, status FROM policies WHERE version = $1`, version).Scan(&body, &digest, &st)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", fmt.Errorf("%w: %s", ErrNotFound, version)
	}
	if err != nil {
		return nil, "", fmt.Errorf("read policy %s: %w", version, err)
	}
	p, err := Parse(body)
	if err != nil {
		return nil, "", fmt.Errorf("stored policy %s: %w", version, err)
	}
	if p.Digest() != digest || p.Version != version {
		return nil, "", fmt.Errorf("%w: stored policy %s does not match its digest", ErrInvalid, version)
	}
	return p, Status(st), nil
}

// List returns every stored version, newest first.
func (s *Store) List(ctx context.Context) ([]Info, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT version, coalesce(parent, ''), status, digest, created_at, created_by,
		       coalesce(activated_at, 'epoch'::timestamptz), coalesce(activated_by, '')
		FROM policies ORDER BY created_at DESC, version`)
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Info, error) {
		var i Info
		err := r.Scan(&i.Version, &i.Parent, &i.Status, &i.Digest, &i.CreatedAt, &i.CreatedBy, &i.ActivatedAt, &i.ActivatedBy)
		if i.ActivatedAt.Equal(time.Unix(0, 0)) {
			i.ActivatedAt = time.Time{}
		}
		return i, err
	})
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	return out, nil
}

// MarshalIndent is the policy as people read it.
func (p *Policy) MarshalIndent() []byte {
	b, _ := json.MarshalIndent(p, "", "  ")
	return append(b, '\n')
}
