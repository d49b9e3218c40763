package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
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
	reg  *prometheus.Registry
	srv  *httptest.Server
	key  string
	iin  string
	data string
}

func clientAuth(c *rp.Clients) api.ClientAuth {
	return authFunc(func(ctx context.Context, key string) (api.Client, error) {
		cl, err := c.Authenticate(ctx, key)
		return api.Client{ID: cl.ID, Name: cl.Name}, err
	})
}

type authFunc func(ctx context.Context, key string) (api.Client, error)

func (f authFunc) Authenticate(ctx context.Context, key string) (api.Client, error) {
	return f(ctx, key)
}

func newFixture(t *testing.T) *fixture {
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
	_, key, _, err := clients.Create(ctx, "test", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	s, err := api.New(api.Config{PublicURL: "http://test"}, api.Deps{Verifier: verify.New(repo, eng, log), Policies: policy.Static{P: policy.Builtin()}, Clients: clientAuth(clients)},
		[]api.Check{{Name: "database", Func: func(ctx context.Context) error { return pool.Ping(ctx) }}}, log, reg, reg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &fixture{reg: reg, srv: srv, key: key, iin: iin, data: data}
}

func (f *fixture) post(t *testing.T, iin string, img []byte, auth bool) (int, map[string]any) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("iin", iin)
	w, _ := mw.CreateFormFile("image", "selfie.jpg")
	_, _ = w.Write(img)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/verify", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if auth {
		req.Header.Set("Authorization", "Bearer "+f.key)
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
	return resp.StatusCode, out
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
