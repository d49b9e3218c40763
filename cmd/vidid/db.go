package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/store"
)

// dbFlags: the database URL flag every database command takes.
type dbFlags struct{ url string }

func (f *dbFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "db", envOr("VIDID_DATABASE_URL", ""), "PostgreSQL `url` (env VIDID_DATABASE_URL; default: the private server of 'make db', var/pg/url)")
}

// openMigrated connects (as open) and applies pending migrations; on an
// error the pool is closed.
func (f *dbFlags) openMigrated(ctx context.Context) (*pgxpool.Pool, error) {
	pool, err := f.open(ctx)
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// open connects, defaulting to the URL the private server wrote.
func (f *dbFlags) open(ctx context.Context) (*pgxpool.Pool, error) {
	url := f.url
	if url == "" {
		b, err := os.ReadFile("var/pg/url")
		if err != nil {
			return nil, fmt.Errorf("no database: pass --db or set VIDID_DATABASE_URL (or run 'make db')")
		}
		url = strings.TrimSpace(string(b))
	}
	pool, err := store.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, nil
}

func init() {
	addCommand(command{name: "migrate", summary: "apply the embedded database migrations", run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		fs := newFlags("migrate", "migrate [--db URL]", `
Applies every schema migration embedded in this binary that the database has
not seen yet, in order, each in its own transaction, under an advisory lock
(several replicas may start at once). 'vidid serve' does the same on start.
Refuses a database migrated by a newer vidid.`, stderr)
		var db dbFlags
		db.add(fs)
		if err := parse(fs, args); err != nil {
			return err
		}
		pool, err := db.openMigrated(ctx)
		if err != nil {
			return err
		}
		pool.Close()
		fmt.Fprintln(stdout, "migrations applied")
		return nil
	}})
}
