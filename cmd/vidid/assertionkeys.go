package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/assertion"
)

// openAssertionKeys opens the shared signing keys (creating the first one).
func openAssertionKeys(ctx context.Context, pool *pgxpool.Pool, kek []byte) (*assertion.PGKeys, error) {
	keys, err := assertion.NewPGKeys(pool, assertion.PGKeysConfig{KEK: kek}, nil)
	if err != nil {
		return nil, err
	}
	if _, _, err := keys.EnsureKey(ctx); err != nil {
		return nil, fmt.Errorf("assertion signing key: %w", err)
	}
	return keys, nil
}
