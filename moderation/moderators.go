package moderation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/audit"
	"vidid/internal/apikey"
	"vidid/session"
)

// TokenPrefix starts every moderator access token.
const TokenPrefix = "vmod_"

const maxNameLen = 200

// Moderator is a person who decides cases (no secrets).
type Moderator struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	Disabled  bool      `json:"disabled"`
}

// Moderators manages moderator accounts in the moderators table. Each
// account has one access token, shown once when it is created; a lost
// token means disabling the account and creating a new one.
type Moderators struct {
	pool  *pgxpool.Pool
	audit *audit.Log
	dummy []byte
}

// NewModerators returns the account store; changes are recorded in
// auditLog.
func NewModerators(pool *pgxpool.Pool, auditLog *audit.Log) *Moderators {
	return &Moderators{pool: pool, audit: auditLog, dummy: apikey.Hash("vidid unknown moderator")}
}

// Create adds a moderator and returns the account and its access token.
func (m *Moderators) Create(ctx context.Context, name string) (Moderator, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > maxNameLen || strings.ContainsFunc(name, unicode.IsControl) {
		return Moderator{}, "", fmt.Errorf("%w: name must be 1..%d printable bytes", ErrInvalidRequest, maxNameLen)
	}
	id, token, hash := apikey.New(TokenPrefix)
	mod := Moderator{ID: id, Name: name}
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO moderators (id, name, token_hash) VALUES ($1, $2, $3) RETURNING created_at`,
			id, name, hash).Scan(&mod.CreatedAt); err != nil {
			return fmt.Errorf("insert moderator: %w", err)
		}
		_, err := m.audit.Append(ctx, tx, audit.Entry{Kind: audit.KindModeratorChanged,
			Data: map[string]any{"moderator_id": id, "action": "created"}})
		return err
	})
	if err != nil {
		return Moderator{}, "", err
	}
	return mod, token, nil
}

// Authenticate returns the moderator a token belongs to, or ErrUnauthorized.
func (m *Moderators) Authenticate(ctx context.Context, token string) (Moderator, error) {
	id, sum, ok := apikey.Parse(TokenPrefix, token)
	if !ok {
		return Moderator{}, ErrUnauthorized
	}
	var mod Moderator
	var stored []byte
	var disabledAt *time.Time
	err := m.pool.QueryRow(ctx, `SELECT id, name, created_at, disabled_at, token_hash FROM moderators WHERE id = $1`, id).
		Scan(&mod.ID, &mod.Name, &mod.CreatedAt, &disabledAt, &stored)
	found := true
	if errors.Is(err, pgx.ErrNoRows) {
		found, stored = false, m.dummy
	} else if err != nil {
		return Moderator{}, fmt.Errorf("look up moderator: %w", err)
	}
	if match := apikey.Equal(sum, stored); !found || !match || disabledAt != nil {
		return Moderator{}, ErrUnauthorized
	}
	return mod, nil
}

// Disable stops a moderator from signing in; their claims lapse at once.
func (m *Moderators) Disable(ctx context.Context, id string) error {
	return pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE moderators SET disabled_at = now() WHERE id = $1 AND disabled_at IS NULL`, id)
		if err != nil {
			return fmt.Errorf("disable moderator: %w", err)
		}
		if tag.RowsAffected() == 0 {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT true FROM moderators WHERE id = $1`, id).Scan(&exists); errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("%w: moderator %q", ErrNotFound, id)
			} else if err != nil {
				return fmt.Errorf("look up moderator: %w", err)
			}
			return nil // already disabled
		}
		if err := session.ReleaseClaims(ctx, tx, id); err != nil {
			return err
		}
		_, err = m.audit.Append(ctx, tx, audit.Entry{Kind: audit.KindModeratorChanged,
			Data: map[string]any{"moderator_id": id, "action": "disabled"}})
		return err
	})
}

// List returns every moderator, oldest first.
func (m *Moderators) List(ctx context.Context) ([]Moderator, error) {
	rows, err := m.pool.Query(ctx, `SELECT id, name, created_at, disabled_at IS NOT NULL FROM moderators ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list moderators: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Moderator, error) {
		var mod Moderator
		err := r.Scan(&mod.ID, &mod.Name, &mod.CreatedAt, &mod.Disabled)
		return mod, err
	})
}
