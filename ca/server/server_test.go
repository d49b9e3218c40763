package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"vidid/assertion"
	"vidid/assertion/assertiontest"
	"vidid/ca"
	"vidid/ca/catest"
	"vidid/ca/server"
	"vidid/internal/pgtest"
)

const (
	testIssuer = catest.Issuer
	testCA     = catest.CAID
	iin        = "900515400123"
)

var _ server.Authority = (*ca.Authority)(nil)

type fixture struct {
	pool   *pgxpool.Pool
	clock  *assertiontest.Clock
	keys   *assertion.PGKeys
	issuer *assertion.Issuer
	vidid  *catest.Vidid
	reg    *prometheus.Registry
	srv    *httptest.Server
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool := pgtest.New(t)
	clock := assertiontest.NewClock(time.Now())
	v := catest.NewVidid(t, pool, clock)
	authority, err := catest.Authority(pool, v.JWKS, clock, bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	h, err := server.New(server.Config{VerifyURL: "https://vidid.example.kz/", Ping: func(ctx context.Context) error { return pool.Ping(ctx) }},
		authority, slog.New(slog.DiscardHandler), reg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &fixture{pool: pool, clock: clock, keys: v.Keys, issuer: v.Issuer, vidid: v, reg: reg, srv: srv}
}

func (f *fixture) token(t *testing.T, change ...func(*assertion.Claims)) string {
	t.Helper()
	return f.vidid.Token(t, change...)
}

type response struct {
	status int
	header http.Header
	body   string
}

func (f *fixture) do(t *testing.T, method, path string, body io.Reader, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func (f *fixture) postForm(t *testing.T, path string, form url.Values, acceptLang string) response {
	t.Helper()
	return f.do(t, http.MethodPost, path, strings.NewReader(form.Encode()), map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Accept-Language": acceptLang,
	})
}

func (f *fixture) countCerts(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM ca_certificates`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustContain(t *testing.T, r response, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(r.body, w) {
			t.Errorf("response (%d) lacks %q:\n%s", r.status, w, r.body)
		}
	}
}

var downloadRE = regexp.MustCompile(`href="data:application/x-pkcs12;base64,([^"]+)" download="([^"]+)"`)

// TestEnrollFlow walks the applicant's path in Russian: the password page,
// a mismatch and a weak password shown again on the form, the key store,
// then the same assertion refused.
func TestEnrollFlow(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t)
	const ru = "ru-RU,ru;q=0.9,en;q=0.8"

	page := f.postForm(t, "/enroll", url.Values{"assertion": {tok}}, ru)
	if page.status != http.StatusOK || page.header.Get("Content-Language") != "ru" {
		t.Fatalf("enroll page: %d %s\n%s", page.status, page.header.Get("Content-Language"), page.body)
	}
	mustContain(t, page, "Задайте пароль", "Сапарова Айгерим Нурлановна", "90********23", `name="password"`, `name="confirm"`,
		`<input type="hidden" name="assertion" value="`+tok+`">`, `action="/enroll?lang=en"`)
	if strings.Contains(page.body, iin) {
		t.Fatal("the page shows the full IIN")
	}

	mismatch := f.postForm(t, "/enroll/keystore", url.Values{"assertion": {tok}, "password": {"first password"}, "confirm": {"other password"}}, ru)
	if mismatch.status != http.StatusUnprocessableEntity {
		t.Fatalf("mismatch: %d", mismatch.status)
	}
	mustContain(t, mismatch, "Пароли не совпадают", `name="password"`)

	weak := f.postForm(t, "/enroll/keystore", url.Values{"assertion": {tok}, "password": {"short"}, "confirm": {"short"}}, ru)
	if weak.status != http.StatusUnprocessableEntity {
		t.Fatalf("weak: %d", weak.status)
	}
	mustContain(t, weak, "не менее 8 символов", `name="password"`)
	if n := f.countCerts(t); n != 0 {
		t.Fatalf("%d certificates before a valid password", n)
	}

	const password = "жасыл алма 2025"
	ok := f.postForm(t, "/enroll/keystore", url.Values{"assertion": {tok}, "password": {password}, "confirm": {password}}, ru)
	if ok.status != http.StatusOK {
		t.Fatalf("keystore: %d\n%s", ok.status, ok.body)
	}
	mustContain(t, ok, "Ваш сертификат готов", "90********23")
	m := downloadRE.FindStringSubmatch(ok.body)
	if m == nil {
		t.Fatalf("no key store download link:\n%s", ok.body)
	}
	if m[2] != iin+".p12" {
		t.Fatalf("download name %q", m[2])
	}
	p12, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	key, cert, cas, err := pkcs12.DecodeChain(p12, password)
	if err != nil {
		t.Fatalf("key store does not open with the password: %v", err)
	}
	if cert.Subject.SerialNumber != "IIN"+iin || len(cas) != 2 || !key.(*rsa.PrivateKey).PublicKey.Equal(cert.PublicKey) {
		t.Fatalf("key store: subject %s, %d CA certificates", cert.Subject, len(cas))
	}
	if ok.header.Get("Cache-Control") != "no-store" {
		t.Fatal("the key store page may be cached")
	}

	again := f.postForm(t, "/enroll/keystore", url.Values{"assertion": {tok}, "password": {password}, "confirm": {password}}, ru)
	if again.status != http.StatusConflict {
		t.Fatalf("replay: %d", again.status)
	}
	mustContain(t, again, "сертификат уже выпущен", "assertion_replayed")
	back := f.postForm(t, "/enroll", url.Values{"assertion": {tok}}, ru)
	if back.status != http.StatusConflict {
		t.Fatalf("enroll page after use: %d", back.status)
	}
	if n := f.countCerts(t); n != 1 {
		t.Fatalf("%d certificates, want 1", n)
	}
}

func TestRawKeyStoreDownload(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t)
	form := url.Values{"assertion": {tok}, "password": {"another fine one"}, "confirm": {"another fine one"}}
	r := f.do(t, http.MethodPost, "/enroll/keystore", strings.NewReader(form.Encode()), map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/x-pkcs12",
	})
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/x-pkcs12" ||
		r.header.Get("Content-Disposition") != `attachment; filename=`+iin+`.p12` {
		t.Fatalf("%d %v", r.status, r.header)
	}
	if _, _, _, err := pkcs12.DecodeChain([]byte(r.body), "another fine one"); err != nil {
		t.Fatal(err)
	}
}

func TestEnrollPageErrors(t *testing.T) {
	f := newFixture(t)
	otherAud, err := assertion.NewIssuer(assertion.IssuerConfig{Issuer: testIssuer, Audience: "another-ca"}, f.keys, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	wrongAud, _, err := otherAud.Issue(context.Background(), assertiontest.SampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	expired := f.token(t)
	cases := []struct {
		name   string
		form   url.Values
		lang   string
		at     time.Duration
		status int
		code   string
		text   string
	}{
		{"missing assertion", url.Values{}, "en", 0, 401, "missing_assertion", "No verification result was received"},
		{"garbage", url.Values{"assertion": {"abc.def.ghi"}}, "en", 0, 401, "assertion_malformed", "cannot be accepted"},
		{"expired, in Kazakh", url.Values{"assertion": {expired}}, "kk", 6*time.Minute + time.Second, 401, "assertion_expired", "мерзімі өтіп кетті"},
		{"wrong audience", url.Values{"assertion": {wrongAud}}, "en", 0, 401, "assertion_wrong_audience", "cannot be accepted"},
		{"tampered", url.Values{"assertion": {tamper(t, f.token(t))}}, "ru", 0, 401, "assertion_bad_signature", "не может быть принят"},
	}
	start := f.clock.Now()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.Set(start.Add(tc.at))
			defer f.clock.Set(start)
			r := f.postForm(t, "/enroll?lang="+tc.lang, tc.form, "")
			if r.status != tc.status || r.header.Get("Content-Language") != tc.lang {
				t.Fatalf("status %d lang %s, want %d %s", r.status, r.header.Get("Content-Language"), tc.status, tc.lang)
			}
			mustContain(t, r, tc.code, tc.text, `href="https://vidid.example.kz/"`)
		})
	}
}

func tamper(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	payload = bytes.Replace(payload, []byte("Айгерим"), []byte("Айжан"), 1)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
}

// TestNamesAreEscaped: register data reaches the page as text, not markup.
func TestNamesAreEscaped(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, func(c *assertion.Claims) { c.Person.GivenName = `<script>alert(1)</script>` })
	r := f.postForm(t, "/enroll", url.Values{"assertion": {tok}}, "en")
	if r.status != 200 || strings.Contains(r.body, "<script>") {
		t.Fatalf("%d: markup from a name reached the page", r.status)
	}
	mustContain(t, r, "&lt;script&gt;")
}

func TestCSRAPI(t *testing.T) {
	f := newFixture(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	good := csr(t, key)
	used := f.token(t)
	post := func(body string, contentType string) response {
		return f.do(t, http.MethodPost, "/v1/enroll/csr", strings.NewReader(body), map[string]string{"Content-Type": contentType})
	}
	js := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}

	r := post(js(map[string]string{"assertion": used, "csr": good}), "application/json")
	if r.status != http.StatusCreated {
		t.Fatalf("csr: %d %s", r.status, r.body)
	}
	var out struct {
		Certificate, Chain, Serial, Subject string
		NotAfter                            time.Time `json:"not_after"`
	}
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode([]byte(out.Certificate))
	if blk == nil {
		t.Fatalf("certificate %q", out.Certificate)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.SerialNumber != "IIN"+iin || !key.PublicKey.Equal(cert.PublicKey) || out.Serial != cert.SerialNumber.Text(16) ||
		strings.Count(out.Chain, "BEGIN CERTIFICATE") != 2 || !out.NotAfter.Equal(cert.NotAfter) {
		t.Fatalf("response %+v", out)
	}

	cases := []struct {
		name        string
		body        string
		contentType string
		status      int
		code        string
	}{
		{"replayed", js(map[string]string{"assertion": used, "csr": good}), "application/json", 409, "assertion_replayed"},
		{"bad csr", js(map[string]string{"assertion": f.token(t), "csr": "nope"}), "application/json", 400, "bad_csr"},
		{"small RSA key", js(map[string]string{"assertion": f.token(t), "csr": csr(t, small)}), "application/json", 400, "unsupported_key"},
		{"bad assertion", js(map[string]string{"assertion": "x.y.z", "csr": good}), "application/json", 401, "assertion_malformed"},
		{"missing assertion", js(map[string]string{"csr": good}), "application/json", 401, "missing_assertion"},
		{"form instead of JSON", "assertion=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
		{"broken JSON", `{"assertion":`, "application/json", 400, "bad_request"},
		{"unknown field", `{"assertion":"a","csr":"b","subject":"CN=me"}`, "application/json", 400, "bad_request"},
		{"oversized", js(map[string]string{"assertion": "a", "csr": strings.Repeat("A", 200<<10)}), "application/json", 413, "body_too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := post(tc.body, tc.contentType)
			var e map[string]string
			if err := json.Unmarshal([]byte(r.body), &e); err != nil {
				t.Fatalf("%d: not JSON: %s", r.status, r.body)
			}
			if r.status != tc.status || e["error"] != tc.code || e["message"] == "" {
				t.Fatalf("got %d %v, want %d %s", r.status, e, tc.status, tc.code)
			}
		})
	}
	if n := f.countCerts(t); n != 1 {
		t.Fatalf("%d certificates, want 1", n)
	}
}

func csr(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "Someone Else"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func TestEndpoints(t *testing.T) {
	f := newFixture(t)

	chain := f.do(t, http.MethodGet, "/ca.pem", nil, nil)
	if chain.status != 200 || chain.header.Get("Content-Type") != "application/pem-certificate-chain" || strings.Count(chain.body, "BEGIN CERTIFICATE") != 2 {
		t.Fatalf("ca.pem: %d %s", chain.status, chain.header.Get("Content-Type"))
	}
	if h := f.do(t, http.MethodGet, "/healthz", nil, nil); h.status != 200 {
		t.Fatalf("healthz: %d", h.status)
	}
	index := f.do(t, http.MethodGet, "/", nil, map[string]string{"Accept-Language": "fr-FR, de;q=0.5"})
	if index.status != 200 || index.header.Get("Content-Language") != "kk" {
		t.Fatalf("index: %d %s", index.status, index.header.Get("Content-Language"))
	}
	mustContain(t, index, "куәландырушы орталығы", `href="?lang=en"`)
	if r := f.do(t, http.MethodGet, "/enroll", nil, nil); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("GET /enroll: %d", r.status)
	}

	// Security headers, and the inline style is exactly what the CSP admits.
	csp := index.header.Get("Content-Security-Policy")
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(index.body)
	if style == nil {
		t.Fatal("no style block")
	}
	sum := sha256.Sum256([]byte(style[1]))
	if !strings.Contains(csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("CSP %q does not admit the page's style", csp)
	}
	for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
		if index.header.Get(k) != v {
			t.Errorf("%s = %q", k, index.header.Get(k))
		}
	}

	// One success and one failure, then the metrics.
	f.postForm(t, "/enroll/keystore", url.Values{"assertion": {"garbage"}, "password": {"x"}, "confirm": {"x"}}, "")
	tok := f.token(t)
	if r := f.postForm(t, "/enroll/keystore", url.Values{"assertion": {tok}, "password": {"good password"}, "confirm": {"good password"}}, ""); r.status != 200 {
		t.Fatalf("enroll: %d", r.status)
	}
	metrics := f.do(t, http.MethodGet, "/metrics", nil, nil)
	mustContain(t, metrics, `vidid_ca_certificates_issued_total{method="keystore"} 1`,
		`vidid_ca_enroll_failures_total{reason="assertion_malformed"} 1`, "vidid_ca_enroll_duration_seconds_bucket")
	problems, err := testutil.GatherAndLint(f.reg)
	if err != nil || len(problems) > 0 {
		t.Fatalf("metric lint: %v %v", problems, err)
	}
}
