package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"vidid/api"
	"vidid/engine/assemble"
	"vidid/idnum"
	"vidid/internal/pgtest"
	"vidid/internal/testenv"
	"vidid/policy"
	"vidid/register"
	"vidid/rp"
	"vidid/verify"
)

type fixture struct {
	reg *prometheus.Registry
	srv *httptest.Server
	// key is an analyst client's API key, plain a relying party's without
	// the analyst scope.
	key, plain string
	iin        string
	data       string
	audit      *verifyLog
}

func clientAuth(c *rp.Clients) api.ClientAuth {
	return authFunc(func(ctx context.Context, key string) (api.Client, error) {
		cl, err := c.Authenticate(ctx, key)
		return api.Client{ID: cl.ID, Name: cl.Name, Analyst: cl.HasScope(rp.ScopeAnalyst)}, err
	})
}

// verifyLog records /v1/verify audit calls.
type verifyLog struct {
	mu      sync.Mutex
	answers []string
	fail    bool
}

func (l *verifyLog) RecordVerify(_ context.Context, clientID, iin, answer string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail {
		return errors.New("audit log unavailable")
	}
	l.answers = append(l.answers, answer)
	return nil
}

func (l *verifyLog) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.answers) == 0 {
		return ""
	}
	return l.answers[len(l.answers)-1]
}

type authFunc func(ctx context.Context, key string) (api.Client, error)

func (f authFunc) Authenticate(ctx context.Context, key string) (api.Client, error) {
	return f(ctx, key)
}

func newFixture(t *testing.T) *fixture { return newFixtureWith(t, api.Config{}) }

func newFixtureWith(t *testing.T, cfg api.Config) *fixture {
	t.Helper()
	data := testenv.DataDir(t)
	pool := pgtest.New(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	eng, err := assemble.Open(assemble.Config{ModelRoot: testenv.ModelRoot(t)}, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	repo, err := register.NewPG(pool, bytes.Repeat([]byte{0x42}, register.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	iin, err := idnum.GenerateIIN(time.Date(1954, 12, 24, 0, 0, 0, 0, time.UTC), true, 1)
	if err != nil {
		t.Fatal(err)
	}
	photo, err := os.ReadFile(filepath.Join(data, "faces", "lfw-Anthony_Fauci", "1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Put(ctx, register.Citizen{IIN: iin, Surname: "Fauci", GivenName: "Anthony", BirthDate: time.Date(1954, 12, 24, 0, 0, 0, 0, time.UTC), Photo: photo}); err != nil {
		t.Fatal(err)
	}
	clients := rp.NewClients(pool)
	analyst, key, _, err := clients.Create(ctx, "test", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := clients.SetScopes(ctx, analyst, []string{rp.ScopeAnalyst}); err != nil {
		t.Fatal(err)
	}
	_, plain, _, err := clients.Create(ctx, "portal", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	al := &verifyLog{}
	s, err := api.New(api.Config{PublicURL: "http://test", VerifyPerMinute: cfg.VerifyPerMinute, VerifyBurst: cfg.VerifyBurst},
		api.Deps{Verifier: verify.New(repo, eng, log), Policies: policy.Static{P: policy.Builtin()}, VerifyAudit: al, Clients: clientAuth(clients)},
		[]api.Check{{Name: "database", Func: func(ctx context.Context) error { return pool.Ping(ctx) }}}, log, reg, reg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &fixture{reg: reg, srv: srv, key: key, plain: plain, iin: iin, data: data, audit: al}
}

func (f *fixture) post(t *testing.T, iin string, img []byte, auth bool) (int, map[string]any) {
	t.Helper()
	key := ""
	if auth {
		key = f.key
	}
	code, out, _ := f.postAs(t, key, iin, img)
	return code, out
}

// postAs posts to /v1/verify with an API key ("" for none).
func (f *fixture) postAs(t *testing.T, key, iin string, img []byte) (int, map[string]any, http.Header) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("iin", iin)
	w, _ := mw.CreateFormFile("image", "selfie.jpg")
	_, _ = w.Write(img)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/verify", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("response is not JSON: %q", b)
	}
	return resp.StatusCode, out, resp.Header
}

func (f *fixture) file(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.data, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func grey() []byte {
	img := image.NewGray(image.Rect(0, 0, 320, 240))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

func TestVerifyEndpoint(t *testing.T) {
	f := newFixture(t)
	same := f.file(t, "faces/lfw-Anthony_Fauci/2.jpg")
	other := f.file(t, "faces/lfw-Benjamin_Netanyahu/1.jpg")
	two := f.file(t, "spoof/multi-face/s09-zubair-frames/s09-zubair-fake-01.jpg")
	unknown, _ := idnum.GenerateIIN(time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), false, 7)
	badSum := f.iin[:11] + string('0'+(f.iin[11]-'0'+1)%10)
	tests := []struct {
		name   string
		iin    string
		img    []byte
		auth   bool
		status int
		code   string
		match  any
	}{
		{"same person", f.iin, same, true, 200, "", true},
		{"other person", f.iin, other, true, 200, "", false},
		{"no api key", f.iin, same, false, 401, "unauthorized", nil},
		{"invalid IIN checksum", badSum, same, true, 400, "invalid_iin", nil},
		{"IIN not a number", "12345", same, true, 400, "invalid_iin", nil},
		{"unknown IIN", unknown, same, true, 404, "unknown_iin", nil},
		{"not an image", f.iin, []byte("%PDF-1.4 this is not an image"), true, 400, "bad_image", nil},
		{"corrupt JPEG", f.iin, same[:len(same)/3], true, 400, "bad_image", nil},
		{"empty upload", f.iin, nil, true, 400, "bad_image", nil},
		{"no face", f.iin, grey(), true, 422, "no_face", nil},
		{"two faces", f.iin, two, true, 422, "multiple_faces", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, out := f.post(t, tc.iin, tc.img, tc.auth)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, out)
			}
			if tc.code != "" {
				if out["error"] != tc.code || out["message"] == "" {
					t.Fatalf("body %v, want error %q with a message", out, tc.code)
				}
				return
			}
			if out["match"] != tc.match {
				t.Fatalf("match = %v, want %v (%v)", out["match"], tc.match, out)
			}
			if s, ok := out["score"].(float64); !ok || s < 0 || s > 1 {
				t.Fatalf("score %v not in [0,1]", out["score"])
			}
			if out["iin"] == tc.iin {
				t.Fatalf("the response carries the full IIN")
			}
		})
	}
}

// A relying party without the analyst scope gets match or no match only:
// no score, and an unknown IIN reads as a no match (no register
// oracle). Every call is audited with what really happened.
func TestVerifyWithoutAnalystScope(t *testing.T) {
	f := newFixture(t)
	same := f.file(t, "faces/lfw-Anthony_Fauci/2.jpg")
	other := f.file(t, "faces/lfw-Benjamin_Netanyahu/1.jpg")
	unknown, _ := idnum.GenerateIIN(time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), false, 7)
	shape := func(out map[string]any) string {
		var keys []string
		for k := range out {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return strings.Join(keys, ",")
	}
	for _, tc := range []struct {
		name  string
		iin   string
		img   []byte
		match bool
		audit string
	}{
		{"same person", f.iin, same, true, "match"},
		{"other person", f.iin, other, false, "no_match"},
		{"unknown IIN", unknown, same, false, "refused:unknown_iin"},
	} {
		code, out, _ := f.postAs(t, f.plain, tc.iin, tc.img)
		if code != 200 || out["match"] != tc.match {
			t.Fatalf("%s: HTTP %d %v, want 200 match=%v", tc.name, code, out, tc.match)
		}
		if _, ok := out["score"]; ok {
			t.Errorf("%s: a score for a client without the analyst scope: %v", tc.name, out)
		}
		if _, ok := out["threshold"]; ok {
			t.Errorf("%s: a threshold for a client without the analyst scope: %v", tc.name, out)
		}
		if got := f.audit.last(); got != tc.audit {
			t.Errorf("%s: audited %q, want %q", tc.name, got, tc.audit)
		}
	}
	// The unknown IIN's answer has the shape of a no match (nothing says
	// "not registered").
	_, known, _ := f.postAs(t, f.plain, f.iin, other)
	_, unk, _ := f.postAs(t, f.plain, unknown, other)
	if unk["match"] != false || shape(unk) != shape(known) {
		t.Errorf("an unknown IIN answers %v (%s), a known one %v (%s)", unk, shape(unk), known, shape(known))
	}
	// A faceless image is refused alike, registered or not.
	if c1, o1, _ := f.postAs(t, f.plain, unknown, grey()); c1 != 422 || o1["error"] != "no_face" {
		t.Errorf("unknown IIN, no face: %d %v", c1, o1)
	}
	// An analyst is told why.
	if code, out, _ := f.postAs(t, f.key, unknown, same); code != 404 || out["error"] != "unknown_iin" {
		t.Errorf("analyst, unknown IIN: %d %v", code, out)
	}
	// No audit record, no answer.
	f.audit.mu.Lock()
	f.audit.fail = true
	f.audit.mu.Unlock()
	if code, out, _ := f.postAs(t, f.plain, f.iin, same); code != 500 || out["match"] != nil {
		t.Errorf("with the audit log down: %d %v, want 500 and no answer", code, out)
	}
}

// Each client's /v1/verify calls are rate-limited: over the burst, 429
// with Retry-After; another client is not affected.
func TestVerifyRateLimit(t *testing.T) {
	f := newFixtureWith(t, api.Config{VerifyPerMinute: 2, VerifyBurst: 2})
	img := grey()
	for i := range 2 {
		if code, out, _ := f.postAs(t, f.plain, f.iin, img); code != 422 {
			t.Fatalf("call %d: %d %v", i+1, code, out)
		}
	}
	code, out, h := f.postAs(t, f.plain, f.iin, img)
	if code != http.StatusTooManyRequests || out["error"] != "rate_limited" || h.Get("Retry-After") == "" {
		t.Fatalf("over the rate: %d %v Retry-After %q", code, out, h.Get("Retry-After"))
	}
	if code, _, _ := f.postAs(t, f.key, f.iin, img); code != 422 {
		t.Fatalf("another client was limited too: %d", code)
	}
}

func TestOpsEndpoints(t *testing.T) {
	f := newFixture(t)
	f.post(t, f.iin, f.file(t, "faces/lfw-Anthony_Fauci/2.jpg"), true)
	for _, tc := range []struct {
		path, want string
	}{
		{"/healthz", "ok"},
		{"/readyz", `"ready":true`},
		{"/metrics", "vidid_engine_stage_duration_seconds_bucket"},
		{"/metrics", `vidid_http_request_duration_seconds_count{code="200",method="POST",route="/v1/verify"}`},
	} {
		resp, err := http.Get(f.srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s: %d, body lacks %q", tc.path, resp.StatusCode, tc.want)
		}
	}
	if probs, err := testutil.CollectAndLint(f.reg); err != nil || len(probs) > 0 {
		t.Fatalf("metric lint: %v %v", probs, err)
	}
}
