package register

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"vidid/internal/pgtest"
)

// dataDir returns the public test data (VIDID_DATA, else ../shared/data
// beside the repository), skipping the test with a clear message only when
// it is absent.
func dataDir(t testing.TB) string {
	t.Helper()
	d := os.Getenv("VIDID_DATA")
	if d == "" {
		d = filepath.Join("..", "..", "shared", "data")
	}
	if _, err := os.Stat(filepath.Join(d, "faces")); err != nil {
		t.Skipf("public test data not found at %s (set VIDID_DATA to the shared data folder): %v", d, err)
	}
	return d
}

// photo reads a real register photo from the public test data.
func photo(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testKey is the register key of the tests.
var testKey = bytes.Repeat([]byte{0x5a}, KeySize)

func newRepo(t testing.TB) (*PG, context.Context) {
	t.Helper()
	r, err := NewPG(pgtest.New(t), testKey)
	if err != nil {
		t.Fatal(err)
	}
	return r, context.Background()
}

func count(t testing.TB, repo *PG, ctx context.Context) int {
	t.Helper()
	n, err := repo.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
