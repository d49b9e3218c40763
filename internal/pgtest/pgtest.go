// Package pgtest gives each test its own freshly migrated PostgreSQL
// database on the server named by VIDID_TEST_DATABASE (a server URL as
// written by scripts/pg.sh, e.g. postgres://postgres@127.0.0.1:PORT/vidid).
//
// The first test of a process makes sure a template database exists for the
// current set of embedded migrations (its name carries a hash of them);
// creation is serialised across processes by an advisory lock on the
// database named in the URL, so `go test ./...` running packages in parallel
// builds it once. Each test then gets CREATE DATABASE … TEMPLATE, which is
// much cheaper than migrating, and the database is dropped in t.Cleanup.
//
// Without VIDID_TEST_DATABASE a test fails (never passes silently) unless it
// runs under -short, where it is skipped.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/store"
)

// EnvVar names the environment variable holding the test server's URL.
const EnvVar = "VIDID_TEST_DATABASE"

const (
	templatePrefix = "vidid_tmpl_"
	testDBPrefix   = "vidid_t_"
	// Test databases left by killed test binaries are dropped once they are
	// this old (their names carry their creation time).
	staleAfter = 24 * time.Hour
	// templateLockKey serialises template creation across processes ("vidid"+"tmp").
	templateLockKey int64 = 0x7669646964_746d70
)

var (
	mu        sync.Mutex
	templates = map[string]error{} // template name → creation result, per process
	swept     bool
	dbs       = map[testing.TB]*testDB{}
)

type testDB struct {
	name string
	url  string
	pool *pgxpool.Pool
}

// New returns a pool on a fresh, fully migrated database private to t,
// closed and dropped when t ends. Calling New (or URL) again with the same t
// returns the same database.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	db := database(t)
	mu.Lock()
	defer mu.Unlock()
	if db.pool != nil {
		return db.pool
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := store.Open(ctx, db.url)
	if err != nil {
		t.Fatalf("pgtest: open test database %s: %v", db.name, err)
	}
	db.pool = pool
	t.Cleanup(pool.Close) // runs before the drop registered earlier
	return pool
}

// URL returns the URL of t's private database (the one New(t) uses),
// creating it if needed: for tests that hand the database to a second
// process. The database is dropped when t ends, whoever is still connected.
func URL(t testing.TB) string {
	t.Helper()
	return database(t).url
}

// Empty returns a pool on a fresh database private to t with no migrations
// applied (for testing migrations themselves); closed and dropped when t
// ends. Each call makes a new database.
func Empty(t testing.TB) *pgxpool.Pool {
	t.Helper()
	server := serverURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := createDB(ctx, t, server, "")
	pool, err := store.Open(ctx, withDB(server, name))
	if err != nil {
		t.Fatalf("pgtest: open test database %s: %v", name, err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func database(t testing.TB) *testDB {
	t.Helper()
	mu.Lock()
	db, ok := dbs[t]
	mu.Unlock()
	if ok {
		return db
	}
	server := serverURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tmpl, err := ensureTemplate(ctx, server)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := createDB(ctx, t, server, tmpl)
	db = &testDB{name: name, url: withDB(server, name)}
	mu.Lock()
	dbs[t] = db
	mu.Unlock()
	t.Cleanup(func() {
		mu.Lock()
		delete(dbs, t)
		mu.Unlock()
	})
	return db
}

// serverURL reads VIDID_TEST_DATABASE, skipping under -short and failing
// the test when it is unset or malformed.
func serverURL(t testing.TB) *url.URL {
	t.Helper()
	if testing.Short() {
		t.Skip("pgtest: skipped under -short (needs PostgreSQL)")
	}
	raw := os.Getenv(EnvVar)
	if raw == "" {
		t.Fatalf("pgtest: %s is not set. This test needs PostgreSQL: run `make test`, or start the private server with "+
			"`VIDID_PG_FAST=1 scripts/pg.sh start` and `export %s=$(scripts/pg.sh url)` (use -short to skip database tests)", EnvVar, EnvVar)
	}
	server, err := url.Parse(raw)
	if err != nil || (server.Scheme != "postgres" && server.Scheme != "postgresql") || strings.Trim(server.Path, "/") == "" {
		t.Fatalf("pgtest: %s must be a URL like postgres://user@host:port/dbname (as scripts/pg.sh url prints); got something else", EnvVar)
	}

	return server
}

// createDB creates a uniquely named database (a copy of tmpl, or empty when
// tmpl is "") and registers its drop, after any pool is closed, in t.Cleanup.
func createDB(ctx context.Context, t testing.TB, server *url.URL, tmpl string) string {
	t.Helper()
	name := testDBPrefix + strconv.FormatInt(time.Now().Unix(), 10) + "_" + randHex(6)
	admin, err := pgx.Connect(ctx, server.String())
	if err != nil {
		t.Fatalf("pgtest: connect to %s (%s): %v — is the server running? (scripts/pg.sh start)", EnvVar, redacted(server), err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	stmt := "CREATE DATABASE " + ident(name)
	if tmpl != "" {
		stmt += " TEMPLATE " + ident(tmpl)
	}
	if _, err := admin.Exec(ctx, stmt); err != nil {
		t.Fatalf("pgtest: create test database: %v", err)
	}
	// Registered before any pool's Close, so it runs after it (cleanups are LIFO).
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := dropDatabase(ctx, server, name); err != nil {
			t.Errorf("pgtest: drop test database %s: %v", name, err)
		}
	})
	return name
}

// ensureTemplate returns the name of the migrated template database for the
// embedded migrations, creating it if no process has yet.
func ensureTemplate(ctx context.Context, server *url.URL) (string, error) {
	ms, err := store.Migrations()
	if err != nil {
		return "", fmt.Errorf("read embedded migrations: %w", err)
	}
	h := sha256.New()
	for _, m := range ms {
		fmt.Fprintf(h, "%d\x00%s\x00%d\x00%s\x00", m.Version, m.Name, len(m.SQL), m.SQL)
	}
	name := templatePrefix + hex.EncodeToString(h.Sum(nil))[:16]

	mu.Lock()
	defer mu.Unlock() // one creator per process; others wait here
	if err, done := templates[name]; done {
		return name, err
	}
	err = createTemplate(ctx, server, name)
	if err == nil && !swept {
		swept = true
		sweepStale(ctx, server)
	}
	templates[name] = err
	return name, err
}

func createTemplate(ctx context.Context, server *url.URL, name string) error {
	admin, err := pgx.Connect(ctx, server.String())
	if err != nil {
		return fmt.Errorf("connect to %s (%s): %w — is the server running? (scripts/pg.sh start)", EnvVar, redacted(server), err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	// Session lock on the maintenance database: concurrent test binaries wait
	// here while the first builds the template.
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock($1)`, templateLockKey); err != nil {
		return fmt.Errorf("lock template creation: %w", err)
	}
	defer admin.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, templateLockKey) //nolint:errcheck // the lock also ends with the session

	var isTemplate bool
	err = admin.QueryRow(ctx, `SELECT datistemplate FROM pg_database WHERE datname = $1`, name).Scan(&isTemplate)
	switch {
	case err == nil && isTemplate:
		return nil // built by another process (or an earlier run)
	case err == nil:
		// Left half-built by a process that died: start again.
		if err := dropDatabase(ctx, server, name); err != nil {
			return fmt.Errorf("drop half-built template %s: %w", name, err)
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("look up template %s: %w", name, err)
	}

	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident(name)); err != nil {
		return fmt.Errorf("create template %s: %w", name, err)
	}
	if err := migrateTemplate(ctx, withDB(server, name)); err != nil {
		_ = dropDatabase(context.WithoutCancel(ctx), server, name)
		return fmt.Errorf("migrate template %s: %w", name, err)
	}
	// Marking it a template that refuses connections is the "ready" flag, and
	// keeps stray connections from blocking CREATE DATABASE … TEMPLATE.
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+ident(name)+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("mark template %s: %w", name, err)
	}
	return nil
}

func migrateTemplate(ctx context.Context, dbURL string) error {
	pool, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	return store.Migrate(ctx, pool)
}

// sweepStale drops test databases that killed test binaries left behind.
// Errors are ignored: another process may be dropping the same ones.
func sweepStale(ctx context.Context, server *url.URL) {
	admin, err := pgx.Connect(ctx, server.String())
	if err != nil {
		return
	}
	defer admin.Close(ctx)
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'vidid\_t\_%'`)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-staleAfter).Unix()
	for _, n := range names {
		ts, _, _ := strings.Cut(strings.TrimPrefix(n, testDBPrefix), "_")
		if sec, err := strconv.ParseInt(ts, 10, 64); err == nil && sec < cutoff {
			_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(n)+" WITH (FORCE)")
		}
	}
}

func dropDatabase(ctx context.Context, server *url.URL, name string) error {
	admin, err := pgx.Connect(ctx, server.String())
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	// A template must be unmarked before it can be dropped.
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+ident(name)+" WITH IS_TEMPLATE false"); err != nil && !strings.Contains(err.Error(), "does not exist") {
		return err
	}
	// FORCE ends sessions still connected (a second process the test started).
	_, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)")
	return err
}

func withDB(server *url.URL, name string) string {
	u := *server
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

func redacted(u *url.URL) string { return u.Redacted() }

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
