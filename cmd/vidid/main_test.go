package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"vidid/audit"
	"vidid/idnum"
	"vidid/internal/pgtest"
	"vidid/internal/testenv"
	"vidid/register"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"help"}, 0, "Commands:"},
		{[]string{"nonsense"}, 2, "unknown command"},
		{[]string{"compare", "only-one.jpg"}, 2, "need two image files"},
		{[]string{"compare", "--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"verify", "x.jpg"}, 2, "need --iin"},
		{[]string{"register"}, 2, "missing subcommand"},
		{[]string{"compare", "--help"}, 0, "Exit status"},
		{[]string{"version"}, 0, "vidid"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(out+errs, tc.want) {
				t.Fatalf("exit %d (want %d); output lacks %q:\n%s%s", code, tc.code, tc.want, out, errs)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	data := testenv.DataDir(t)
	models := testenv.ModelRoot(t)
	face := func(p string) string { return filepath.Join(data, "faces", p) }
	bad := filepath.Join(t.TempDir(), "bad.jpg")
	if err := os.WriteFile(bad, []byte("not a jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		a, b  string
		code  int
		match bool
	}{
		{"same person", face("lfw-Anthony_Fauci/1.jpg"), face("lfw-Anthony_Fauci/2.jpg"), 0, true},
		{"different people", face("lfw-Anthony_Fauci/1.jpg"), face("lfw-Benjamin_Netanyahu/1.jpg"), 3, false},
		{"not an image", face("lfw-Anthony_Fauci/1.jpg"), bad, 4, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "compare", "--json", "--models", models, tc.a, tc.b)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s%s", code, tc.code, out, errs)
			}
			if code == 4 {
				if !strings.Contains(errs, "not a usable image") {
					t.Fatalf("stderr %q does not explain the bad image", errs)
				}
				return
			}
			var v struct {
				Score *float64 `json:"score"`
				Match bool     `json:"match"`
			}
			if err := json.Unmarshal([]byte(out), &v); err != nil || v.Score == nil {
				t.Fatalf("output is not the JSON object: %q (%v)", out, err)
			}
			if v.Match != tc.match {
				t.Fatalf("match %v, want %v (score %v)", v.Match, tc.match, *v.Score)
			}
		})
	}
}

func TestVerifyCommand(t *testing.T) {
	data := testenv.DataDir(t)
	models := testenv.ModelRoot(t)
	pool := pgtest.New(t)
	url := pgtest.URL(t)
	iin, _ := idnum.GenerateIIN(time.Date(1954, 12, 24, 0, 0, 0, 0, time.UTC), true, 3)
	photo, err := os.ReadFile(filepath.Join(data, "faces", "lfw-Anthony_Fauci", "1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	// The register key the CLI reads from --secrets, and another one.
	secrets, wrongSecrets := t.TempDir(), t.TempDir()
	key := bytes.Repeat([]byte{0x42}, register.KeySize)
	for dir, k := range map[string][]byte{secrets: key, wrongSecrets: bytes.Repeat([]byte{0x24}, register.KeySize)} {
		if err := os.WriteFile(filepath.Join(dir, "register-key"), []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "audit-subject-key"), []byte(hex.EncodeToString(bytes.Repeat([]byte{5}, 32))+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	repo, err := register.NewPG(pool, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Put(context.Background(), register.Citizen{IIN: iin, Surname: "Fauci", GivenName: "Anthony",
		BirthDate: time.Date(1954, 12, 24, 0, 0, 0, 0, time.UTC), Photo: photo}); err != nil {
		t.Fatal(err)
	}
	selfie := filepath.Join(data, "faces", "lfw-Anthony_Fauci", "2.jpg")
	unknown, _ := idnum.GenerateIIN(time.Date(1980, 5, 5, 0, 0, 0, 0, time.UTC), false, 9)
	tests := []struct {
		name    string
		iin     string
		secrets string
		code    int
		want    string
	}{
		{"match", iin, secrets, 0, `"match": true`},
		{"invalid checksum", iin[:11] + string('0'+(iin[11]-'0'+1)%10), secrets, 4, "invalid IIN"},
		{"unknown", unknown, secrets, 4, "not found"},
		{"wrong register key", iin, wrongSecrets, 1, "register data cannot be decrypted: the register holds data sealed under key " + register.KeyID(key)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "verify", "--json", "--models", models, "--db", url, "--secrets", tc.secrets, "--create-secrets=false", "--iin", tc.iin, selfie)
			if code != tc.code || !strings.Contains(strings.ToLower(out+errs), strings.ToLower(tc.want)) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s%s", code, tc.code, tc.want, out, errs)
			}
		})
	}
}

// every runs the job at once, again each interval, and returns when its
// context ends.
func TestEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	runs := make(chan struct{}, 100)
	done := make(chan struct{})
	go func() {
		every(ctx, time.Millisecond, func(context.Context) { runs <- struct{}{} })
		close(done)
	}()
	for i := 0; i < 3; i++ {
		select {
		case <-runs:
		case <-time.After(10 * time.Second):
			t.Fatalf("run %d did not happen", i+1)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("every did not return after its context ended")
	}
}

// `vidid audit verify` prints the head to publish, and with published
// anchors notices records cut from the end of the log.
func TestAuditVerifyAnchors(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	url := pgtest.URL(t)
	l, err := audit.New(audit.Config{SubjectKey: bytes.Repeat([]byte{9}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, err := l.Append(ctx, tx, audit.Entry{Kind: audit.KindSessionCreated, Data: map[string]any{"i": i}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs := runCLI(t, "audit", "verify", "--db", url)
	m := regexp.MustCompile(`head \(publish it\): (4:[0-9a-f]{64})`).FindStringSubmatch(out)
	if code != 0 || !strings.HasPrefix(out, "intact: 4 records") || m == nil {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	anchors := filepath.Join(t.TempDir(), "anchors")
	if err := os.WriteFile(anchors, []byte("# published daily\n\n"+m[1]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCLI(t, "audit", "verify", "--db", url, "--anchors", anchors); code != 0 || !strings.Contains(out, "1 anchors checked") {
		t.Fatalf("with its own head: exit %d: %s%s", code, out, errs)
	}
	// A superuser cuts the last record.
	for _, sql := range []string{`ALTER TABLE audit_log DISABLE TRIGGER USER`, `DELETE FROM audit_log WHERE seq = 4`, `ALTER TABLE audit_log ENABLE TRIGGER USER`} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, _ := runCLI(t, "audit", "verify", "--db", url); code != 0 {
		t.Fatalf("without anchors the cut log verifies (the chain cannot tell): exit %d %s", code, out)
	}
	code, out, errs = runCLI(t, "audit", "verify", "--db", url, "--anchor", m[1])
	if code != 1 || !strings.Contains(out, "TAMPERED") || !strings.Contains(out, "removed from the end") {
		t.Fatalf("cut log with the anchor: exit %d: %s%s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "audit", "verify", "--db", url, "--anchor", "4:nothex"); code != 2 || !strings.Contains(errs, "hex digits") {
		t.Fatalf("bad anchor: exit %d: %s", code, errs)
	}
}

// Rotating the register key from the command line: the old key goes to
// register-key-previous, a new one to register-key, and the next register
// command reseals everything; then the old key can go.
func TestRegisterKeyRotation(t *testing.T) {
	ctx := context.Background()
	data := testenv.DataDir(t)
	pool := pgtest.New(t)
	url := pgtest.URL(t)
	secrets := t.TempDir()
	oldKey, newKey := bytes.Repeat([]byte{0x11}, register.KeySize), bytes.Repeat([]byte{0x22}, register.KeySize)
	write := func(name string, k []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(secrets, name), []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	repo, err := register.NewPG(pool, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	photo, err := os.ReadFile(filepath.Join(data, "faces", "lfw-Anthony_Fauci", "1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	iin, _ := idnum.GenerateIIN(time.Date(1954, 12, 24, 0, 0, 0, 0, time.UTC), true, 3)
	if err := repo.Put(ctx, register.Citizen{IIN: iin, Surname: "Fauci", Photo: photo}); err != nil {
		t.Fatal(err)
	}
	list := func() (int, string) {
		code, out, errs := runCLI(t, "register", "list", "--db", url, "--secrets", secrets, "--create-secrets=false")
		return code, out + errs
	}
	write("audit-subject-key", bytes.Repeat([]byte{5}, 32))
	write("register-key", newKey) // the new key alone: refused, nothing changed
	if code, out := list(); code == 0 || !strings.Contains(out, register.KeyID(oldKey)) {
		t.Fatalf("new key without the previous: exit %d: %s", code, out)
	}
	write("register-key-previous", oldKey)
	if code, out := list(); code != 0 || !strings.Contains(out, "Fauci") {
		t.Fatalf("rotation: exit %d: %s", code, out)
	}
	if err := os.Remove(filepath.Join(secrets, "register-key-previous")); err != nil {
		t.Fatal(err)
	}
	if code, out := list(); code != 0 {
		t.Fatalf("after the rotation, without the previous key: exit %d: %s", code, out)
	}
	rotated, err := register.NewPG(pool, newKey)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := rotated.Get(ctx, iin); err != nil || !bytes.Equal(c.Photo, photo) {
		t.Fatalf("photo under the new key: %v", err)
	}
	// The reseal is on record.
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE kind = 'register_resealed' AND data->>'key_id' = $1`, register.KeyID(newKey)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("register_resealed audit records: %d, %v", n, err)
	}
}
