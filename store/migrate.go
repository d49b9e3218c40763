package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The schema, one file per change: migrations/NNN_name.sql. Files are applied
// in numeric order, each in its own transaction, and never edited once
// merged: change the schema by adding a file. Statements that cannot run
// inside a transaction (CREATE INDEX CONCURRENTLY, ALTER TYPE … ADD VALUE on
// old servers) are therefore not allowed.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migrateLockKey is the pg_advisory_lock key that serialises Migrate across
// processes sharing a database ("vidid" + "migr" as bytes).
const migrateLockKey int64 = 0x7669646964_6d6967

var migrationName = regexp.MustCompile(`^([0-9]{3,})_([a-z0-9][a-z0-9_]*)\.sql$`)

// Migration is one embedded schema change.
type Migration struct {
	Version int    // from the file name's number
	Name    string // the rest of the file name, without ".sql"
	SQL     string
}

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) { return loadMigrations(migrationFS) }

// Migrate brings the database schema up to date: every embedded migration
// the database has not recorded in schema_migrations is applied in version
// order, each in its own transaction together with its schema_migrations
// row, so a failing migration leaves nothing behind. A version missing below
// the newest applied one (a file merged late) is applied too, in order.
//
// It holds a session-level pg_advisory_lock for the duration, so several
// processes may call it at once; the later ones wait, then find nothing to do.
// It refuses (ErrSchemaTooNew) a database that records a version newer than
// any this binary embeds, and (ErrUnknownMigration) one that records a
// version this binary lacks or under a different name.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return migrate(ctx, pool, migrationFS)
}

// Version returns the highest applied migration version, 0 for an empty database.
func Version(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	var v int
	err := pool.QueryRow(ctx, `SELECT COALESCE(max(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		if isUndefinedTable(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

func migrate(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS) error {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: acquire connection: %w", err)
	}
	defer conn.Release()

	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
		return fmt.Errorf("migrate: take advisory lock: %w", err)
	}
	defer func() {
		// Unlock even when ctx is done; if that fails too, drop the connection
		// (a session lock dies with its session) rather than pool it locked.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, migrateLockKey); err != nil {
			_ = conn.Conn().Close(uctx)
		}
	}()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY CHECK (version > 0),
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}

	applied := map[int]string{}
	rows, err := conn.Query(ctx, `SELECT version, name FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v int
		var n string
		if err := rows.Scan(&v, &n); err != nil {
			rows.Close()
			return fmt.Errorf("migrate: read schema_migrations: %w", err)
		}
		applied[v] = n
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("migrate: read schema_migrations: %w", err)
	}

	known := map[int]Migration{}
	newest := 0
	for _, m := range ms {
		known[m.Version] = m
		newest = max(newest, m.Version)
	}
	for _, v := range slices.Sorted(maps.Keys(applied)) {
		m, ok := known[v]
		switch {
		case !ok && v > newest:
			return fmt.Errorf("migrate: %w: the database has version %d (%s), this binary knows up to %d; run a newer vidid",
				ErrSchemaTooNew, v, applied[v], newest)
		case !ok:
			return fmt.Errorf("migrate: %w: version %d (%s) is applied but not embedded", ErrUnknownMigration, v, applied[v])
		case m.Name != applied[v]:
			return fmt.Errorf("migrate: %w: version %d is applied as %q but embedded as %q", ErrUnknownMigration, v, applied[v], m.Name)
		}
	}

	for _, m := range ms {
		if _, done := applied[m.Version]; done {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// No arguments: pgx uses the simple protocol, which runs a file of
			// several statements in one round trip.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: %w: %03d_%s.sql (rolled back): %w", ErrMigrationFailed, m.Version, m.Name, err)
		}
	}
	return nil
}

// loadMigrations reads migrations/*.sql from fsys, checking names, numbers and content.
func loadMigrations(fsys fs.FS) ([]Migration, error) {
	paths, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []Migration
	seen := map[int]string{}
	for _, p := range paths {
		base := path.Base(p)
		sub := migrationName.FindStringSubmatch(base)
		if sub == nil {
			return nil, fmt.Errorf("%w: %s: want NNN_lower_snake_name.sql", ErrBadMigration, base)
		}
		v, err := strconv.Atoi(sub[1])
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%w: %s: version must be a positive number", ErrBadMigration, base)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("%w: %s and %s share version %d", ErrBadMigration, other, base, v)
		}
		seen[v] = base
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		if strings.TrimSpace(string(b)) == "" {
			return nil, fmt.Errorf("%w: %s is empty", ErrBadMigration, base)
		}
		ms = append(ms, Migration{Version: v, Name: sub[2], SQL: string(b)})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("%w: no migrations/*.sql files", ErrBadMigration)
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	return ms, nil
}

func isUndefinedTable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}
