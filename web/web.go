package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"vidid/i18n"
)

// StaticPrefix is the URL path under which Assets must be served: the page
// loads /static/capture.css and /static/capture.js. With echo:
//
//	e.StaticFS("/static", web.Assets())
//
// and with net/http:
//
//	mux.Handle(web.StaticPrefix, http.StripPrefix(web.StaticPrefix, http.FileServerFS(web.Assets())))
const StaticPrefix = "/static/"

// ContentSecurityPolicy is a policy the capture page works under (no inline
// scripts or styles; fetches go to the page's own origin; the final form may
// post to the CA over https). Set it on the page response.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self' https:; base-uri 'none'; frame-ancestors 'none'"

// ContentSecurityPolicyFor is ContentSecurityPolicy with form submissions
// allowed only to the page itself and the given origins (the CA the page
// hands a matched applicant to), instead of any https origin.
func ContentSecurityPolicyFor(formOrigins ...string) string {
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; form-action " + strings.Join(append([]string{"'self'"}, formOrigins...), " ") +
		"; base-uri 'none'; frame-ancestors 'none'"
}

// DefaultLang is the language the page is rendered in when CapturePageData
// has none; the browser then switches to the applicant's preferred language
// (navigator.languages) if it is one of Languages.
const DefaultLang = i18n.Default

// languages the page is written in, in the order the selector shows them.
var languages = i18n.Languages()

// Languages returns the page's languages: kk, ru, en.
func Languages() []string { return i18n.Languages() }

// ICEServer is one STUN or TURN server for the browser's RTCPeerConnection;
// it is passed to the page as is (the WebRTC RTCIceServer dictionary).
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// CapturePageData.Moderation values.
const (
	ModerationPending  = "pending"
	ModerationApproved = "approved"
	ModerationRejected = "rejected"
	// ModerationHandoverExpired: approved, but the time to take the
	// hand-over capture has passed.
	ModerationHandoverExpired = "handover_expired"
	// ModerationHandedOver: approved, and the assertion was handed over.
	ModerationHandedOver = "handed_over"
)

// CapturePageData is what the capture page needs from the session.
type CapturePageData struct {
	// Token is the session's capture token, as in /capture/{token}.
	Token string
	// Lang is "kk", "ru", "en" or "" (choose from the browser). A region
	// suffix ("ru-KZ") and upper case are accepted.
	Lang string
	// ExpiresAt is when the session ends; zero hides the notice.
	ExpiresAt time.Time
	// ReturnURL is the relying party's page to go back to (http or https);
	// empty hides the link.
	ReturnURL string
	// ConsentAccepted skips the consent step.
	ConsentAccepted bool
	// Moderation is where a session sent to a moderator stands when the
	// applicant opens the link again: "pending" (the page says it is being
	// reviewed), "approved" (it offers the short live capture that hands
	// the assertion over), "handover_expired" (approved, but the time for
	// that capture has passed), "handed_over" (already done), "rejected"
	// (it says so); "" for any other session.
	Moderation string
	// ICEServers are given to RTCPeerConnection; none means host candidates only.
	ICEServers []ICEServer
}

// Assets returns the static files (CSS, JavaScript) the capture page loads,
// rooted so that "capture.js" is served as StaticPrefix+"capture.js".
func Assets() fs.FS {
	sub, _ := fs.Sub(source(), "static") // fs.Sub fails only for an invalid name; "static" is valid
	return sub
}

// CapturePage validates data and renders the capture page to w. On a
// validation error (ErrInvalidPageData) or a broken template (ErrAssets)
// nothing is written. The page is complete in itself apart from the files
// under StaticPrefix.
func CapturePage(w io.Writer, data CapturePageData) error {
	lang, err := data.validate()
	if err != nil {
		return err
	}
	p, err := currentPage()
	if err != nil {
		return err
	}
	render := lang
	if render == "" {
		render = DefaultLang
	}
	cfg := pageConfig{
		Token: data.Token, Lang: lang, ReturnURL: data.ReturnURL,
		ConsentAccepted: data.ConsentAccepted, Moderation: data.Moderation, ICEServers: data.ICEServers,
	}
	if cfg.ICEServers == nil {
		cfg.ICEServers = []ICEServer{}
	}
	if !data.ExpiresAt.IsZero() {
		cfg.ExpiresAt = data.ExpiresAt.UTC().Format(time.RFC3339)
	}
	var buf bytes.Buffer
	err = p.tmpl[render].Execute(&buf, view{
		Lang: render, Config: cfg, I18N: p.i18nJSON, Version: p.version,
		Static: StaticPrefix, ReturnURL: data.ReturnURL, Languages: p.names,
	})
	if err != nil {
		return fmt.Errorf("render capture page: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write capture page: %w", err)
	}
	return nil
}

// pageConfig is handed to capture.js as JSON.
type pageConfig struct {
	Token           string      `json:"token"`
	Lang            string      `json:"lang"`
	ExpiresAt       string      `json:"expiresAt,omitempty"`
	ReturnURL       string      `json:"returnURL,omitempty"`
	ConsentAccepted bool        `json:"consentAccepted"`
	Moderation      string      `json:"moderation,omitempty"`
	ICEServers      []ICEServer `json:"iceServers"`
}

// langName is one entry of the language selector.
type langName struct{ Code, Name string }

// view is the template's data.
type view struct {
	Lang      string
	Config    pageConfig
	I18N      template.JS // the dictionaries, marshalled once
	Version   string
	Static    string
	ReturnURL string
	Languages []langName
}

var tokenRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,512}$`)

// validate checks d and returns its normalised language ("" when unset).
// Messages never repeat the token: it is a bearer secret.
func (d CapturePageData) validate() (string, error) {
	if !tokenRE.MatchString(d.Token) {
		return "", fmt.Errorf("%w: token must be 1-512 characters of [A-Za-z0-9._~-]", ErrInvalidPageData)
	}
	lang, err := normaliseLang(d.Lang)
	if err != nil {
		return "", err
	}
	switch d.Moderation {
	case "", ModerationPending, ModerationApproved, ModerationRejected, ModerationHandoverExpired, ModerationHandedOver:
	default:
		return "", fmt.Errorf("%w: moderation %q is not pending, approved, handover_expired, handed_over or rejected", ErrInvalidPageData, d.Moderation)
	}
	if d.ReturnURL != "" {
		if err := checkReturnURL(d.ReturnURL); err != nil {
			return "", err
		}
	}
	for i, s := range d.ICEServers {
		if err := s.validate(); err != nil {
			return "", fmt.Errorf("ice server %d: %w", i, err)
		}
	}
	return lang, nil
}

func normaliseLang(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	lang, ok := i18n.Normalise(s)
	if !ok {
		return "", fmt.Errorf("%w: language %q is not one of %s", ErrInvalidPageData, s, strings.Join(languages, ", "))
	}
	return lang, nil
}

func checkReturnURL(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: return URL is not UTF-8", ErrInvalidPageData)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%w: return URL: %v", ErrInvalidPageData, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return fmt.Errorf("%w: return URL must be an absolute http(s) URL without user info", ErrInvalidPageData)
	}
	return nil
}

func (s ICEServer) validate() error {
	if len(s.URLs) == 0 {
		return fmt.Errorf("%w: no URLs", ErrInvalidPageData)
	}
	if !utf8.ValidString(s.Username) || !utf8.ValidString(s.Credential) {
		return fmt.Errorf("%w: username or credential is not UTF-8", ErrInvalidPageData)
	}
	for _, u := range s.URLs {
		scheme, rest, ok := strings.Cut(u, ":")
		switch {
		case !ok || rest == "" || strings.ContainsAny(u, " \t\r\n"):
			return fmt.Errorf("%w: %q is not a stun: or turn: URL", ErrInvalidPageData, u)
		case scheme == "stun" || scheme == "stuns":
		case scheme == "turn" || scheme == "turns":
			if s.Username == "" || s.Credential == "" {
				return fmt.Errorf("%w: TURN server %q needs a username and a credential", ErrInvalidPageData, u)
			}
		default:
			return fmt.Errorf("%w: %q is not a stun: or turn: URL", ErrInvalidPageData, u)
		}
	}
	return nil
}

// page is the parsed template (one per language) and the dictionaries.
type page struct {
	tmpl     map[string]*template.Template
	dicts    map[string]map[string]string
	i18nJSON template.JS
	names    []langName
	version  string
}

var cachedPage = sync.OnceValues(loadPage)

func currentPage() (*page, error) {
	if reloadEveryTime {
		return loadPage()
	}
	return cachedPage()
}

func loadPage() (*page, error) {
	src := source()
	dicts, err := i18n.Dicts(i18n.Capture)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAssets, err)
	}
	p := &page{tmpl: map[string]*template.Template{}, dicts: dicts}
	for _, lang := range languages {
		p.names = append(p.names, langName{Code: lang, Name: dicts[lang]["lang.name"]})
	}
	// json.Marshal escapes <, >, & and U+2028/9, so the text is safe inside
	// the <script type="application/json"> element as it is.
	b, err := json.Marshal(p.dicts)
	if err != nil {
		return nil, fmt.Errorf("%w: marshal dictionaries: %v", ErrAssets, err)
	}
	p.i18nJSON = template.JS(b)
	base, err := template.New("capture.html").Funcs(template.FuncMap{"t": unboundT}).ParseFS(src, "templates/capture.html")
	if err != nil {
		return nil, fmt.Errorf("%w: parse capture template: %v", ErrAssets, err)
	}
	for _, lang := range languages {
		c, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("%w: clone capture template: %v", ErrAssets, err)
		}
		p.tmpl[lang] = c.Funcs(template.FuncMap{"t": boundT(lang, p.dicts[lang])})
	}
	if p.version, err = hashTree(src, "static"); err != nil {
		return nil, fmt.Errorf("%w: hash static files: %v", ErrAssets, err)
	}
	return p, nil
}

func unboundT(string) (string, error) {
	return "", fmt.Errorf("%w: t used outside a language", ErrAssets)
}

// boundT looks up a server-rendered string; a missing key fails the render
// rather than showing an empty heading.
func boundT(lang string, d map[string]string) func(string) (string, error) {
	return func(key string) (string, error) {
		s, ok := d[key]
		if !ok {
			return "", fmt.Errorf("%w: no %q in the %s dictionary", ErrAssets, key, lang)
		}
		return s, nil
	}
}

// hashTree returns a short content hash of every file under dir, used as a
// cache-busting query string on asset URLs.
func hashTree(src fs.FS, dir string) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(src, dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(src, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}
