package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"embed"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"vidid/assertion"
	"vidid/i18n"
	"vidid/idnum"
	"vidid/web"
)

// Authority is what the server needs from the CA (*ca.Authority).
type Authority interface {
	// Check verifies an assertion without consuming it.
	Check(ctx context.Context, token string) (*assertion.Verified, error)
	Enroll(ctx context.Context, token, password string) (p12 []byte, cert *x509.Certificate, err error)
	EnrollCSR(ctx context.Context, token string, csrPEM []byte) (chainPEM []byte, cert *x509.Certificate, err error)
	// ChainPEM is the issuing and root CA certificates.
	ChainPEM() []byte
}

// Config configures the server.
type Config struct {
	// DefaultLang is the page language when the browser asks for none of
	// kk, ru, en; default kk.
	DefaultLang string
	// MaxBodyBytes bounds form and JSON bodies; default 128 KiB (a CSR
	// may be up to 64 KiB).
	MaxBodyBytes int64
	// VerifyURL, if set, is linked from error pages for applicants who
	// must verify again (vidid's start page).
	VerifyURL string
	// Ping, if set, is /healthz's check (the database).
	Ping func(context.Context) error
	// Gatherer serves /metrics; default reg when it is a Gatherer (a
	// *prometheus.Registry). Without either /metrics is not served.
	Gatherer prometheus.Gatherer
}

//go:embed templates/*.html
var templateFS embed.FS

// style is the only styling, inline so that the pages load nothing else;
// the Content-Security-Policy admits exactly this block by its hash.
const style = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:0 auto;padding:1rem;line-height:1.5;color:#1a1a1a}
header{display:flex;justify-content:space-between;flex-wrap:wrap;gap:.5rem;border-bottom:1px solid #ccc;padding-bottom:.5rem}
nav form{display:inline}nav button,nav a,nav span{margin-left:.5rem;font:inherit;background:none;border:0;padding:0;color:#0645ad;cursor:pointer}
nav span{color:#1a1a1a;font-weight:bold}
h1{font-size:1.4rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:bold}dd{margin:0}
label{display:block;margin-top:.75rem;font-weight:bold}input[type=password]{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button[type=submit],.button{display:inline-block;margin-top:1rem;padding:.6rem 1.2rem;background:#00599c;color:#fff;border:0;border-radius:.25rem;font-size:1rem;text-decoration:none}
nav button[type=submit]{margin-top:0;padding:0;background:none;color:#0645ad}
.error{color:#a00;font-weight:bold}.hint,.note{color:#555;font-size:.9rem}`

var (
	styleHash = func() string {
		h := sha256.Sum256([]byte(style))
		return base64.StdEncoding.EncodeToString(h[:])
	}()
	csp = "default-src 'none'; style-src 'sha256-" + styleHash + "'; img-src data:; form-action 'self'; " +
		"frame-ancestors 'none'; base-uri 'none'"
	pages = func() map[string]*template.Template {
		out := map[string]*template.Template{}
		for _, name := range []string{"index", "enroll", "success", "error"} {
			out[name] = template.Must(template.New(name).Option("missingkey=error").ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
		}
		return out
	}()
)

type server struct {
	cfg Config
	ca  Authority
	log *slog.Logger
	m   *metrics
}

// New returns the CA's HTTP handler:
//
//	GET  /                  what this is, link to the CA certificates
//	POST /enroll            form field assertion → password page (assertion checked, not consumed)
//	POST /enroll/keystore   assertion, password, confirm → key store (page with the download, or the
//	                        raw file when Accept names application/x-pkcs12)
//	POST /v1/enroll/csr     JSON {"assertion", "csr"} → 201 {"certificate", "chain", …}
//	GET  /ca.pem            issuing + root CA certificates
//	GET  /healthz, /metrics
func New(cfg Config, authority Authority, log *slog.Logger, reg prometheus.Registerer) (http.Handler, error) {
	if authority == nil {
		return nil, errors.New("caserver: no authority")
	}
	if cfg.DefaultLang == "" {
		cfg.DefaultLang = languages[0]
	}
	if _, ok := languageNames[cfg.DefaultLang]; !ok {
		return nil, fmt.Errorf("caserver: default language %q is not one of %v", cfg.DefaultLang, languages)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 128 << 10
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	if cfg.Gatherer == nil {
		cfg.Gatherer, _ = reg.(prometheus.Gatherer)
	}
	s := &server{cfg: cfg, ca: authority, log: log, m: m}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("POST /enroll", s.enrollPage)
	mux.HandleFunc("POST /enroll/keystore", s.enrollKeyStore)
	mux.HandleFunc("POST /v1/enroll/csr", s.enrollCSR)
	mux.HandleFunc("GET /ca.pem", s.chain)
	mux.HandleFunc("GET /healthz", s.healthz)
	if cfg.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	}
	return s.wrap(mux), nil
}

// wrap adds the security headers every response carries and turns a panic
// into a 500 instead of a dropped connection.
func (s *server) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "caserver: panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type langLink struct{ Code, Name string }

var langLinks = func() []langLink {
	var out []langLink
	for _, l := range languages {
		out = append(out, langLink{l, languageNames[l]})
	}
	return out
}()

// page is the data of every template.
type page struct {
	Lang    string
	T       map[string]string
	Langs   []langLink
	Style   template.CSS
	Icon    template.URL // the site icon, a data: URL (the policy admits images only as data:)
	GetPage bool         // language links may be plain ?lang= links

	Assertion string // carried in hidden fields (and the language switcher)
	Name      string
	MaskedIIN string
	Error     string
	Code      string
	VerifyURL string

	FileName   string
	Download   template.URL
	Serial     string
	ValidUntil string
}

func (s *server) newPage(lang string) *page {
	return &page{Lang: lang, T: textsByLang[lang], Langs: langLinks, Style: template.CSS(style), Icon: web.FaviconDataURL()}
}

func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.ErrorContext(r.Context(), "caserver: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", p.Lang)
	w.Header().Set("Vary", "Accept-Language")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *server) index(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(pickLang(r, s.cfg.DefaultLang))
	p.GetPage = true
	s.render(w, r, http.StatusOK, "index", p)
}

// failPage records a failure and shows the error page.
func (s *server) failPage(w http.ResponseWriter, r *http.Request, lang string, err error) {
	ae := s.fail(r, err)
	p := s.newPage(lang)
	p.Error, p.Code, p.VerifyURL = p.T[ae.MsgKey], ae.Code, s.cfg.VerifyURL
	if ae.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `VididAssertion realm="vidid-ca"`)
	}
	s.render(w, r, ae.Status, "error", p)
}

// fail maps err, counts it and logs it (server faults at error level).
func (s *server) fail(r *http.Request, err error) *apiError {
	ae := toAPIError(err)
	s.m.failures.WithLabelValues(ae.Code).Inc()
	if ae.Status >= 500 {
		s.log.ErrorContext(r.Context(), "enrolment failed", "path", r.URL.Path, "code", ae.Code, "err", err)
	} else {
		s.log.InfoContext(r.Context(), "enrolment refused", "path", r.URL.Path, "code", ae.Code, "err", err)
	}
	return ae
}

// form parses a bounded urlencoded form.
func (s *server) form(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return badRequest(err)
	}
	return nil
}

// enrollPage is where vidid's result page posts the assertion: it checks
// the assertion (without consuming it) and asks for the key-store password.
func (s *server) enrollPage(w http.ResponseWriter, r *http.Request) {
	if err := s.form(w, r); err != nil {
		s.failPage(w, r, fromAcceptLanguage(r.Header.Get("Accept-Language"), s.cfg.DefaultLang), err)
		return
	}
	lang := pickLang(r, s.cfg.DefaultLang)
	token := strings.TrimSpace(r.PostForm.Get("assertion"))
	if token == "" {
		s.failPage(w, r, lang, errMissingAssertion)
		return
	}
	start := time.Now()
	ver, err := s.ca.Check(r.Context(), token)
	s.observe("check", start, err)
	if err != nil {
		s.failPage(w, r, lang, err)
		return
	}
	s.render(w, r, http.StatusOK, "enroll", s.enrollForm(lang, token, ver, ""))
}

func (s *server) enrollForm(lang, token string, ver *assertion.Verified, errKey string) *page {
	p := s.newPage(lang)
	p.Assertion = token
	p.Name = fullName(ver.Claims.Person)
	p.MaskedIIN = idnum.MaskIIN(ver.Claims.Subject)
	if errKey != "" {
		p.Error = p.T[errKey]
	}
	return p
}

func fullName(p assertion.Person) string {
	return strings.Join(strings.Fields(p.FamilyName+" "+p.GivenName+" "+p.MiddleName), " ")
}

// enrollKeyStore issues the certificate and hands over the PKCS#12.
func (s *server) enrollKeyStore(w http.ResponseWriter, r *http.Request) {
	if err := s.form(w, r); err != nil {
		s.failPage(w, r, fromAcceptLanguage(r.Header.Get("Accept-Language"), s.cfg.DefaultLang), err)
		return
	}
	lang := pickLang(r, s.cfg.DefaultLang)
	token := strings.TrimSpace(r.PostForm.Get("assertion"))
	password, confirm := r.PostForm.Get("password"), r.PostForm.Get("confirm")
	if token == "" {
		s.failPage(w, r, lang, errMissingAssertion)
		return
	}
	// The form is shown again for a password problem; anything else (the
	// assertion expired meanwhile, …) gets the error page.
	again := func(errKey string, cause error) {
		ver, err := s.ca.Check(r.Context(), token)
		if err != nil {
			s.failPage(w, r, lang, err)
			return
		}
		ae := s.fail(r, cause)
		s.render(w, r, ae.Status, "enroll", s.enrollForm(lang, token, ver, errKey))
	}
	if password != confirm {
		again(errPasswordMismatch.MsgKey, errPasswordMismatch)
		return
	}
	start := time.Now()
	p12, cert, err := s.ca.Enroll(r.Context(), token, password)
	s.observe("keystore", start, err)
	if err != nil {
		if ae := toAPIError(err); ae.Code == "weak_password" {
			again(ae.MsgKey, err)
			return
		}
		s.failPage(w, r, lang, err)
		return
	}
	s.m.issued.WithLabelValues("keystore").Inc()
	iin := strings.TrimPrefix(cert.Subject.SerialNumber, "IIN")
	fileName := iin + ".p12"
	if acceptsP12(r) {
		w.Header().Set("Content-Type", "application/x-pkcs12")
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fileName}))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(p12)
		return
	}
	p := s.newPage(lang)
	p.Name = strings.Join(strings.Fields(cert.Subject.CommonName), " ")
	p.MaskedIIN = idnum.MaskIIN(iin)
	p.FileName = fileName
	// The key store exists only in this response: a data: URL, so nothing
	// is kept server-side for a later download.
	p.Download = template.URL("data:application/x-pkcs12;base64," + base64.StdEncoding.EncodeToString(p12))
	p.Serial = strings.ToUpper(cert.SerialNumber.Text(16))
	p.ValidUntil = i18n.FormatDate(p.Lang, cert.NotAfter.UTC())
	s.render(w, r, http.StatusOK, "success", p)
}

func acceptsP12(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
		if mt == "application/x-pkcs12" {
			return true
		}
	}
	return false
}

type csrRequest struct {
	Assertion string `json:"assertion"`
	CSR       string `json:"csr"`
}

type csrResponse struct {
	Certificate string    `json:"certificate"` // PEM
	Chain       string    `json:"chain"`       // PEM: certificate then issuing CA
	Serial      string    `json:"serial"`      // hex
	Subject     string    `json:"subject"`
	NotBefore   time.Time `json:"not_before"`
	NotAfter    time.Time `json:"not_after"`
}

// enrollCSR is the JSON API for applicants (or their software) holding
// their own key.
func (s *server) enrollCSR(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		s.failJSON(w, r, errUnsupportedMedia)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var req csrRequest
	if err := dec.Decode(&req); err != nil {
		var tooLarge *http.MaxBytesError
		if !errors.As(err, &tooLarge) {
			err = badRequest(err)
		}
		s.failJSON(w, r, err)
		return
	}
	if strings.TrimSpace(req.Assertion) == "" {
		s.failJSON(w, r, errMissingAssertion)
		return
	}
	start := time.Now()
	chain, cert, err := s.ca.EnrollCSR(r.Context(), strings.TrimSpace(req.Assertion), []byte(req.CSR))
	s.observe("csr", start, err)
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	s.m.issued.WithLabelValues("csr").Inc()
	writeJSON(w, http.StatusCreated, csrResponse{
		Certificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
		Chain:       string(chain),
		Serial:      cert.SerialNumber.Text(16),
		Subject:     cert.Subject.String(),
		NotBefore:   cert.NotBefore.UTC(),
		NotAfter:    cert.NotAfter.UTC(),
	})
}

func (s *server) failJSON(w http.ResponseWriter, r *http.Request, err error) {
	ae := s.fail(r, err)
	if ae.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `VididAssertion realm="vidid-ca"`)
	}
	writeJSON(w, ae.Status, map[string]string{"error": ae.Code, "message": ae.Message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *server) observe(method string, start time.Time, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	s.m.duration.WithLabelValues(method, outcome).Observe(time.Since(start).Seconds())
}

func (s *server) chain(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/pem-certificate-chain")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(s.ca.ChainPEM())
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ping != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := s.cfg.Ping(ctx); err != nil {
			s.log.WarnContext(r.Context(), "healthz", "err", err)
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}
