package pgtest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"vidid/store"
)

func TestNewGivesAMigratedPrivateDatabase(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	ms, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var names [2]string
	for i := range names {
		t.Run("db", func(t *testing.T) {
			pool := New(t)
			var n int
			if err := pool.QueryRow(ctx, `SELECT current_database(), (SELECT count(*) FROM schema_migrations)`).Scan(&names[i], &n); err != nil {
				t.Fatal(err)
			}
			if n != len(ms) {
				t.Errorf("schema_migrations has %d rows, want %d (all embedded migrations)", n, len(ms))
			}
			if New(t) != pool {
				t.Error("a second New(t) returned another pool")
			}
			// A write in this database must not be visible in the next one.
			var seen int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = 99999`).Scan(&seen); err != nil || seen != 0 {
				t.Errorf("database is not fresh: %d marker rows (%v)", seen, err)
			}
			if _, err := pool.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (99999, 'marker')`); err != nil {
				t.Fatal(err)
			}
		})
	}
	if names[0] == names[1] || !strings.HasPrefix(names[0], testDBPrefix) {
		t.Errorf("databases %q and %q: want two distinct %s… names", names[0], names[1], testDBPrefix)
	}
	for _, n := range names {
		if exists(t, n) {
			t.Errorf("database %s still exists after its test ended", n)
		}
	}
}

func TestURLIsTheSameDatabaseAndDropIsForced(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	var name string
	t.Run("inner", func(t *testing.T) {
		u := URL(t)
		pool := New(t)
		if err := pool.QueryRow(ctx, `SELECT current_database()`).Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(strings.SplitN(u, "?", 2)[0], "/"+name) {
			t.Errorf("URL(t) = %s, New(t) is on %s", u, name)
		}
		// A connection left open (as a second process might) must not keep
		// the database from being dropped.
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
	})
	if exists(t, name) {
		t.Errorf("database %s survived its test", name)
	}
}

func TestEmptyHasNoSchema(t *testing.T) {
	pool := Empty(t)
	var ok bool
	if err := pool.QueryRow(context.Background(), `SELECT to_regclass('schema_migrations') IS NULL`).Scan(&ok); err != nil || !ok {
		t.Errorf("Empty database has schema_migrations (%v)", err)
	}
}

func TestTemplateCreationIsSerialised(t *testing.T) {
	ctx := context.Background()
	server := serverURL(t)
	name := templatePrefix + "concurrency_" + randHex(4)
	t.Cleanup(func() {
		if err := dropDatabase(context.Background(), server, name); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	// Four "processes" (separate sessions) build the same template at once:
	// one creates it, the others wait on the advisory lock and reuse it.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = createTemplate(ctx, server, name) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("createTemplate #%d: %v", i, err)
		}
	}
	admin, err := pgx.Connect(ctx, server.String())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var isTemplate, allowConn bool
	if err := admin.QueryRow(ctx, `SELECT datistemplate, datallowconn FROM pg_database WHERE datname = $1`, name).Scan(&isTemplate, &allowConn); err != nil {
		t.Fatal(err)
	}
	if !isTemplate || allowConn {
		t.Errorf("template flags: is_template=%v allow_connections=%v; want true, false", isTemplate, allowConn)
	}
}

func TestHalfBuiltTemplateIsRebuilt(t *testing.T) {
	ctx := context.Background()
	server := serverURL(t)
	name := templatePrefix + "halfbuilt_" + randHex(4)
	t.Cleanup(func() { _ = dropDatabase(context.Background(), server, name) })
	admin, err := pgx.Connect(ctx, server.String())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	// What a test binary killed mid-migration leaves: a database not yet marked template.
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident(name)); err != nil {
		t.Fatal(err)
	}
	if err := createTemplate(ctx, server, name); err != nil {
		t.Fatal(err)
	}
	var isTemplate bool
	if err := admin.QueryRow(ctx, `SELECT datistemplate FROM pg_database WHERE datname = $1`, name).Scan(&isTemplate); err != nil || !isTemplate {
		t.Errorf("half-built template not rebuilt: is_template=%v (%v)", isTemplate, err)
	}
}

// Without VIDID_TEST_DATABASE a database test must fail loudly, telling the
// developer what to run, and must not pass or skip.
func TestMissingServerFailsWithInstructions(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") == "1" {
		New(t)
		t.Log("unreachable: New returned without a server")
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestMissingServerFailsWithInstructions$", "-test.v")
	cmd.Env = append(withoutEnv(os.Environ(), EnvVar), "PGTEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("child test passed without a database:\n%s", out)
	}
	for _, want := range []string{"--- FAIL", EnvVar + " is not set", "make test", "scripts/pg.sh start"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "--- SKIP") {
		t.Errorf("child skipped instead of failing:\n%s", out)
	}
}

func TestMalformedServerURLFails(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") == "1" {
		New(t)
		return
	}
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "-test.run=^TestMalformedServerURLFails$")
	cmd.Env = append(withoutEnv(os.Environ(), EnvVar), "PGTEST_CHILD=1", EnvVar+"=host=localhost user=postgres")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "must be a URL like postgres://") {
		t.Errorf("child with a key=value DSN: err=%v, output:\n%s", err, out)
	}
}

func exists(t *testing.T, name string) bool {
	t.Helper()
	admin, err := pgx.Connect(context.Background(), serverURL(t).String())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	var ok bool
	if err := admin.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func withoutEnv(env []string, key string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL; skipped under -short")
	}
}
