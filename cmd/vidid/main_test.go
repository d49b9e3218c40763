package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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

// `vidid bench --json` scores a small pair list and reports per-image
// timings of the stages it ran, one entry per image analysed.
func TestBenchCommand(t *testing.T) {
	data := testenv.DataDir(t)
	models := testenv.ModelRoot(t)
	dir := t.TempDir()
	for _, p := range []string{"o4n-rick", "o4n-daryl"} {
		if err := os.Symlink(filepath.Join(data, "faces", p), filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.jpg"), []byte("not a jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	list := "1\to4n-rick/1.jpg\to4n-rick/2.jpg\n" +
		"1\to4n-daryl/1.jpg\to4n-daryl/2.jpg\n" +
		"0\to4n-rick/1.jpg\to4n-daryl/1.jpg\n" +
		"0\to4n-rick/2.jpg\tbroken.jpg\n"
	pairs := filepath.Join(dir, "pairs.tsv")
	if err := os.WriteFile(pairs, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	scores := filepath.Join(dir, "scores.csv")
	code, out, errs := runCLI(t, "bench", "--json", "--threads", "1", "--models", models, "--pairs", pairs, "--scores", scores)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	var reports []struct {
		Pairs    int `json:"pairs"`
		Genuine  int `json:"genuine"`
		Impostor int `json:"impostor"`
		NoFace   int `json:"images_without_face"`
		Speed    struct {
			Threads int `json:"opencv_threads"`
			Analyze struct {
				Calls int     `json:"calls"`
				P50   float64 `json:"p50_ms"`
				P95   float64 `json:"p95_ms"`
				Max   float64 `json:"max_ms"`
			} `json:"analyze"`
			Embed struct {
				Calls int     `json:"calls"`
				P50   float64 `json:"p50_ms"`
			} `json:"embed"`
			TargetAnalyze float64 `json:"target_analyze_ms"`
			TargetEmbed   float64 `json:"target_embed_ms"`
		} `json:"speed"`
	}
	if err := json.Unmarshal([]byte(out), &reports); err != nil || len(reports) != 1 {
		t.Fatalf("output is not one JSON report: %v\n%s", err, out)
	}
	r := reports[0]
	if r.Pairs != 4 || r.Genuine != 2 || r.Impostor != 2 || r.NoFace != 1 {
		t.Errorf("counts %+v", r)
	}
	s := r.Speed
	// Four readable photos are analysed and embedded once each (the broken
	// file never reaches the engine).
	if s.Threads != 1 || s.Analyze.Calls != 4 || s.Embed.Calls != 4 {
		t.Errorf("speed %+v", s)
	}
	if !(s.Analyze.P50 > 0 && s.Analyze.P50 <= s.Analyze.P95 && s.Analyze.P95 <= s.Analyze.Max) || !(s.Embed.P50 > 0) {
		t.Errorf("timings not ordered: %+v", s)
	}
	if s.TargetAnalyze != 15 || s.TargetEmbed != 18 {
		t.Errorf("targets %v/%v", s.TargetAnalyze, s.TargetEmbed)
	}
	// The per-pair CSV: a header and the four pairs in list order, paths
	// relative to the list's folder; the pair with the broken file failed.
	b, err := os.ReadFile(scores)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) != 5 || strings.Join(rows[0], ",") != "model,a,b,same,score,failed" {
		t.Fatalf("scores CSV: %v\n%s", err, b)
	}
	if r := rows[4]; r[1] != "o4n-rick/2.jpg" || r[2] != "broken.jpg" || r[3] != "false" || r[4] != "0.000000" || r[5] != "true" {
		t.Errorf("broken pair row %v", r)
	}
	// Rick against Rick: a genuine pair that the model matches.
	if r := rows[1]; r[3] != "true" || r[5] != "false" {
		t.Errorf("genuine pair row %v", r)
	} else if v, err := strconv.ParseFloat(r[4], 64); err != nil || v < 0.7 {
		t.Errorf("genuine pair score %q: %v", r[4], err)
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
