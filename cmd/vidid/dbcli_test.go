package main

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/internal/pgtest"
)

// dbCLI gives a fresh test database and a runner of the command line
// against it (with its own secrets folder); the runner returns the exit
// status and stdout+stderr.
func dbCLI(t *testing.T) (*pgxpool.Pool, func(args ...string) (int, string)) {
	t.Helper()
	pool := pgtest.New(t)
	url := pgtest.URL(t)
	secrets := t.TempDir()
	return pool, func(args ...string) (int, string) {
		t.Helper()
		code, out, errs := runCLI(t, append(args, "--db", url, "--secrets", secrets)...)
		return code, out + errs
	}
}

// usageCase is a command line that must exit 2 saying want.
type usageCase struct {
	args []string
	want string
}

// wantUsage checks each command line exits 2 with its message, before
// touching a database.
func wantUsage(t *testing.T, cases ...usageCase) {
	t.Helper()
	for _, tc := range cases {
		if code, out, errs := runCLI(t, tc.args...); code != 2 || !strings.Contains(out+errs, tc.want) {
			t.Errorf("%v: exit %d, output lacks %q: %s%s", tc.args, code, tc.want, out, errs)
		}
	}
}
