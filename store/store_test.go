package store_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/internal/pgtest"
	"vidid/store"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	base := pgtest.Empty(t).Config().ConnString()

	t.Run("pings and applies default limits", func(t *testing.T) {
		pool, err := store.Open(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		want := int32(max(4, 2*runtime.GOMAXPROCS(0)))
		if got := pool.Config().MaxConns; got != want {
			t.Errorf("MaxConns = %d, want %d", got, want)
		}
		var app string
		if err := pool.QueryRow(ctx, `SHOW application_name`).Scan(&app); err != nil || app != "vidid" {
			t.Errorf("application_name = %q, %v; want vidid", app, err)
		}
	})
	t.Run("URL pool settings win", func(t *testing.T) {
		pool, err := store.Open(ctx, base+"&pool_max_conns=3")
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		if got := pool.Config().MaxConns; got != 3 {
			t.Errorf("MaxConns = %d, want 3 from the URL", got)
		}
	})

	// A port nobody listens on: listen, note the port, close.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadPort := l.Addr().(*net.TCPAddr).Port
	l.Close()

	for _, tc := range []struct{ name, url, want string }{
		{"malformed", "postgres://%zz", "parse database url"},
		{"nothing listening", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/vidid?sslmode=disable&connect_timeout=5", deadPort), "connect to postgres 127.0.0.1"},
		{"no such database", strings.Replace(base, "/vidid_t_", "/vidid_missing_", 1), "does not exist"},
		{"password not echoed", "postgres://postgres:s3cret@127.0.0.1:%zz/x", "parse database url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool, err := store.Open(ctx, tc.url)
			if err == nil {
				pool.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks the password: %q", err)
			}
		})
	}
}

func TestEmbeddedMigrationsAreWellFormed(t *testing.T) {
	ms, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if ms[0].Version != 1 || ms[0].Name != "register" {
		t.Errorf("first migration = %03d_%s, want 001_register", ms[0].Version, ms[0].Name)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Version <= ms[i-1].Version {
			t.Errorf("migrations out of order: %d after %d", ms[i].Version, ms[i-1].Version)
		}
	}
}

func TestMigrateFresh(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Empty(t)
	if v, err := store.Version(ctx, pool); err != nil || v != 0 {
		t.Fatalf("Version of an empty database = %d, %v; want 0, nil", v, err)
	}
	if err := store.Migrate(ctx, pool); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	ms, _ := store.Migrations()
	applied := appliedVersions(t, pool)
	if len(applied) != len(ms) {
		t.Fatalf("applied %v, want %d migrations", applied, len(ms))
	}
	for i, m := range ms {
		if applied[i] != m.Version {
			t.Errorf("applied[%d] = %d, want %d", i, applied[i], m.Version)
		}
	}
	if v, _ := store.Version(ctx, pool); v != ms[len(ms)-1].Version {
		t.Errorf("Version = %d, want %d", v, ms[len(ms)-1].Version)
	}
	for _, table := range []string{"citizens", "register_embeddings"} {
		var ok bool
		if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok); err != nil || !ok {
			t.Errorf("table %s missing after Migrate (%v)", table, err)
		}
	}

	t.Run("re-run changes nothing", func(t *testing.T) {
		before := appliedAt(t, pool)
		if err := store.Migrate(ctx, pool); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		after := appliedAt(t, pool)
		if fmt.Sprint(before) != fmt.Sprint(after) {
			t.Errorf("schema_migrations changed on re-run:\n before %v\n after  %v", before, after)
		}
	})
}

func TestMigrateConcurrent(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Empty(t).Config().ConnString()
	const n = 4
	pools := make([]*pgxpool.Pool, n)
	for i := range pools {
		p, err := store.Open(ctx, url) // one pool each: separate sessions, as separate processes would have
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		pools[i] = p
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range pools {
		wg.Go(func() {
			<-start
			errs[i] = store.Migrate(ctx, pools[i])
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate #%d: %v", i, err)
		}
	}
	ms, _ := store.Migrations()
	if got := appliedVersions(t, pools[0]); len(got) != len(ms) {
		t.Errorf("applied %v, want each of %d migrations once", got, len(ms))
	}
}

func TestMigrateWaitsForTheLock(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Empty(t)
	holder, err := pgx.Connect(ctx, pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_lock($1)`, store.MigrateLockKey); err != nil {
		t.Fatal(err)
	}
	// While another session migrates (holds the lock), Migrate must wait, not
	// run alongside it: with a short deadline it gives up having done nothing.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := store.Migrate(short, pool); err == nil {
		t.Fatal("Migrate ran while another session held the migration lock")
	}
	if v, err := store.Version(ctx, pool); err != nil || v != 0 {
		t.Fatalf("Version = %d, %v after a cancelled Migrate; want 0", v, err)
	}
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_unlock($1)`, store.MigrateLockKey); err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx, pool); err != nil {
		t.Fatalf("Migrate after the lock was released: %v", err)
	}
}

func TestMigrateBrokenMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Empty(t)
	good := fstest.MapFS{
		"migrations/001_first.sql": {Data: []byte(`CREATE TABLE first_t (id int PRIMARY KEY);`)},
	}
	if err := store.MigrateFS(ctx, pool, good); err != nil {
		t.Fatal(err)
	}
	broken := fstest.MapFS{
		"migrations/001_first.sql": good["migrations/001_first.sql"],
		// Two statements succeed, the third fails: all three must be undone.
		"migrations/002_second.sql": {Data: []byte(`
			CREATE TABLE second_t (id int PRIMARY KEY);
			INSERT INTO first_t VALUES (1);
			INSERT INTO no_such_table VALUES (1);`)},
	}
	err := store.MigrateFS(ctx, pool, broken)
	if !errors.Is(err, store.ErrMigrationFailed) {
		t.Fatalf("Migrate = %v, want ErrMigrationFailed", err)
	}
	if !strings.Contains(err.Error(), "002_second.sql") || !strings.Contains(err.Error(), "no_such_table") {
		t.Errorf("error %q should name the file and the cause", err)
	}
	var second bool
	var rows int
	if err := pool.QueryRow(ctx, `SELECT to_regclass('second_t') IS NOT NULL, (SELECT count(*) FROM first_t)`).Scan(&second, &rows); err != nil {
		t.Fatal(err)
	}
	if second || rows != 0 {
		t.Errorf("after the failed migration: second_t exists=%v, first_t rows=%d; want nothing left", second, rows)
	}
	if got := appliedVersions(t, pool); fmt.Sprint(got) != "[1]" {
		t.Errorf("applied %v, want [1]", got)
	}

	fixed := fstest.MapFS{
		"migrations/001_first.sql":  good["migrations/001_first.sql"],
		"migrations/002_second.sql": {Data: []byte(`CREATE TABLE second_t (id int PRIMARY KEY);`)},
	}
	if err := store.MigrateFS(ctx, pool, fixed); err != nil {
		t.Fatalf("Migrate with the fixed file: %v", err)
	}
	if got := appliedVersions(t, pool); fmt.Sprint(got) != "[1 2]" {
		t.Errorf("applied %v, want [1 2]", got)
	}
}

func TestMigrateRefusesUnknownSchema(t *testing.T) {
	ctx := context.Background()
	one := fstest.MapFS{"migrations/001_a.sql": {Data: []byte(`CREATE TABLE a (id int);`)}}
	two := fstest.MapFS{
		"migrations/001_a.sql": one["migrations/001_a.sql"],
		"migrations/002_b.sql": {Data: []byte(`CREATE TABLE b (id int);`)},
	}
	threeWithGap := fstest.MapFS{
		"migrations/001_a.sql": one["migrations/001_a.sql"],
		"migrations/003_c.sql": {Data: []byte(`CREATE TABLE c (id int);`)},
	}
	renamed := fstest.MapFS{"migrations/001_other.sql": one["migrations/001_a.sql"]}

	for _, tc := range []struct {
		name    string
		applied fstest.MapFS
		binary  fstest.MapFS
		want    error
		say     string
	}{
		{"database newer than binary", two, one, store.ErrSchemaTooNew, "has version 2 (b), this binary knows up to 1"},
		{"applied version missing from binary", two, threeWithGap, store.ErrUnknownMigration, "version 2 (b)"},
		{"same version, other name", one, renamed, store.ErrUnknownMigration, `applied as "a" but embedded as "other"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := pgtest.Empty(t)
			if err := store.MigrateFS(ctx, pool, tc.applied); err != nil {
				t.Fatal(err)
			}
			before := appliedVersions(t, pool)
			err := store.MigrateFS(ctx, pool, tc.binary)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Migrate = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.say) {
				t.Errorf("error %q should say %q", err, tc.say)
			}
			if after := appliedVersions(t, pool); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("refused Migrate still changed schema_migrations: %v → %v", before, after)
			}
		})
	}

	t.Run("late lower version is applied", func(t *testing.T) {
		pool := pgtest.Empty(t)
		lateOnly := fstest.MapFS{
			"migrations/001_a.sql": one["migrations/001_a.sql"],
			"migrations/003_c.sql": threeWithGap["migrations/003_c.sql"],
		}
		if err := store.MigrateFS(ctx, pool, lateOnly); err != nil {
			t.Fatal(err)
		}
		all := fstest.MapFS{
			"migrations/001_a.sql": one["migrations/001_a.sql"],
			"migrations/002_b.sql": two["migrations/002_b.sql"],
			"migrations/003_c.sql": threeWithGap["migrations/003_c.sql"],
		}
		if err := store.MigrateFS(ctx, pool, all); err != nil {
			t.Fatal(err)
		}
		if got := appliedVersions(t, pool); fmt.Sprint(got) != "[1 2 3]" {
			t.Errorf("applied %v, want [1 2 3]", got)
		}
	})
}

func TestLoadMigrationsRejectsBadFiles(t *testing.T) {
	ok := &fstest.MapFile{Data: []byte("SELECT 1;")}
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
		say  string
	}{
		{"short number", fstest.MapFS{"migrations/1_a.sql": ok}, "1_a.sql"},
		{"upper case", fstest.MapFS{"migrations/001_Register.sql": ok}, "001_Register.sql"},
		{"no name", fstest.MapFS{"migrations/001.sql": ok}, "001.sql"},
		{"zero", fstest.MapFS{"migrations/000_a.sql": ok}, "positive"},
		{"duplicate version", fstest.MapFS{"migrations/002_a.sql": ok, "migrations/002_b.sql": ok}, "share version 2"},
		{"empty file", fstest.MapFS{"migrations/001_a.sql": {Data: []byte(" \n")}}, "empty"},
		{"no files", fstest.MapFS{"other/001_a.sql": ok}, "no migrations"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.LoadMigrations(tc.fsys)
			if !errors.Is(err, store.ErrBadMigration) || !strings.Contains(err.Error(), tc.say) {
				t.Errorf("LoadMigrations = %v, want ErrBadMigration mentioning %q", err, tc.say)
			}
		})
	}
	ms, err := store.LoadMigrations(fstest.MapFS{
		"migrations/010_c.sql": ok, "migrations/002_b.sql": ok, "migrations/001_a.sql": ok, "migrations/README": ok,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, fmt.Sprintf("%d_%s", m.Version, m.Name))
	}
	if fmt.Sprint(got) != "[1_a 2_b 10_c]" {
		t.Errorf("order = %v, want numeric [1_a 2_b 10_c]", got)
	}
}

func appliedVersions(t *testing.T, pool *pgxpool.Pool) []int {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func appliedAt(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT version || ' ' || name || ' ' || applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}
