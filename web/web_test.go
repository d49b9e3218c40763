package web_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"html"
	"io/fs"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"vidid/capture"
	"vidid/i18n"
	"vidid/session"
	"vidid/web"
)

// pageConfig mirrors the JSON the template hands to capture.js.
type pageConfig struct {
	Token           string          `json:"token"`
	Lang            string          `json:"lang"`
	ExpiresAt       string          `json:"expiresAt"`
	ReturnURL       string          `json:"returnURL"`
	ConsentAccepted bool            `json:"consentAccepted"`
	ICEServers      []web.ICEServer `json:"iceServers"`
}

var (
	configRE = regexp.MustCompile(`(?s)<script type="application/json" id="vidid-config">(.*?)</script>`)
	i18nRE   = regexp.MustCompile(`(?s)<script type="application/json" id="vidid-i18n">(.*?)</script>`)
	htmlLang = regexp.MustCompile(`<html lang="([^"]*)">`)
	titleRE  = regexp.MustCompile(`<title>([^<]*)</title>`)
)

func render(t *testing.T, d web.CapturePageData) string {
	t.Helper()
	var buf bytes.Buffer
	if err := web.CapturePage(&buf, d); err != nil {
		t.Fatalf("CapturePage: %v", err)
	}
	return buf.String()
}

func configOf(t *testing.T, page string) pageConfig {
	t.Helper()
	m := configRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no vidid-config block in the page")
	}
	var c pageConfig
	if err := json.Unmarshal([]byte(m[1]), &c); err != nil {
		t.Fatalf("vidid-config is not JSON: %v\n%s", err, m[1])
	}
	return c
}

func TestCapturePageRenders(t *testing.T) {
	dicts := loadDicts(t)
	expires := time.Date(2030, 5, 6, 7, 8, 9, 0, time.FixedZone("ALMT", 5*3600))
	tests := []struct {
		name       string
		data       web.CapturePageData
		wantLang   string // html lang and server-rendered text
		wantCfgLng string // what the script gets ("" = choose from the browser)
	}{
		{"kazakh", web.CapturePageData{Token: "tok-kk", Lang: "kk"}, "kk", "kk"},
		{"russian with region", web.CapturePageData{Token: "tok-ru", Lang: "ru-KZ"}, "ru", "ru"},
		{"english upper case", web.CapturePageData{Token: "tok-en", Lang: "EN"}, "en", "en"},
		{"no language", web.CapturePageData{Token: "tok"}, web.DefaultLang, ""},
		{"everything set", web.CapturePageData{
			Token: "AbC_dEf-0123456789abcdefghijklmnopqrstuvwxy", Lang: "ru", ExpiresAt: expires,
			ReturnURL: "https://portal.example/eds/back?step=2&x=1", ConsentAccepted: true,
			ICEServers: []web.ICEServer{
				{URLs: []string{"stun:stun.example:3478"}},
				{URLs: []string{"turn:turn.example:3478?transport=udp", "turns:turn.example:5349"}, Username: "u", Credential: "p"},
			},
		}, "ru", "ru"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page := render(t, tc.data)
			if m := htmlLang.FindStringSubmatch(page); m == nil || m[1] != tc.wantLang {
				t.Errorf("html lang = %v, want %q", m, tc.wantLang)
			}
			if m := titleRE.FindStringSubmatch(page); m == nil || html.UnescapeString(m[1]) != dicts[tc.wantLang]["app.title"] {
				t.Errorf("title = %v, want %q", m, dicts[tc.wantLang]["app.title"])
			}
			if want := `<option value="` + tc.wantLang + `" lang="` + tc.wantLang + `" selected>`; !strings.Contains(page, want) {
				t.Errorf("language selector does not preselect %s", tc.wantLang)
			}
			c := configOf(t, page)
			want := pageConfig{Token: tc.data.Token, Lang: tc.wantCfgLng, ReturnURL: tc.data.ReturnURL,
				ConsentAccepted: tc.data.ConsentAccepted, ICEServers: tc.data.ICEServers}
			if want.ICEServers == nil {
				want.ICEServers = []web.ICEServer{}
			}
			if !tc.data.ExpiresAt.IsZero() {
				want.ExpiresAt = tc.data.ExpiresAt.UTC().Format(time.RFC3339)
			}
			if gotJSON, wantJSON := mustJSON(t, c), mustJSON(t, want); gotJSON != wantJSON {
				t.Errorf("config = %s\nwant     %s", gotJSON, wantJSON)
			}
			// The dictionaries travel with the page, complete.
			m := i18nRE.FindStringSubmatch(page)
			if m == nil {
				t.Fatal("no vidid-i18n block")
			}
			var inPage map[string]map[string]string
			if err := json.Unmarshal([]byte(m[1]), &inPage); err != nil {
				t.Fatalf("vidid-i18n is not JSON: %v", err)
			}
			for lang, d := range dicts {
				if !maps.Equal(inPage[lang], d) {
					t.Errorf("dictionary %s in the page differs from i18n/%s.json", lang, lang)
				}
			}
			hasReturn := strings.Contains(page, `id="return"`)
			if hasReturn != (tc.data.ReturnURL != "") {
				t.Errorf("return link present = %v, ReturnURL %q", hasReturn, tc.data.ReturnURL)
			}
		})
	}
}

func TestCapturePageEscapes(t *testing.T) {
	const evil = `"><script>alert(1)</script>`
	d := web.CapturePageData{
		Token:     "tok",
		Lang:      "en",
		ReturnURL: "https://portal.example/back?next=" + evil,
		ICEServers: []web.ICEServer{{
			URLs: []string{"turn:turn.example:3478"}, Username: "</script><script>alert(2)</script>", Credential: evil,
		}},
	}
	page := render(t, d)
	for _, bad := range []string{"<script>alert(1)", "<script>alert(2)", `"><script>`} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	// Escaped is not mangled: the script gets exactly what the server meant.
	c := configOf(t, page)
	if c.ReturnURL != d.ReturnURL || c.ICEServers[0].Username != d.ICEServers[0].Username || c.ICEServers[0].Credential != evil {
		t.Errorf("values did not survive escaping: %+v", c)
	}
	// The return link's href decodes back to the same URL (or a percent-encoded form of it).
	m := regexp.MustCompile(`id="return" class="button secondary" href="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no return link")
	}
	if href := html.UnescapeString(m[1]); !strings.HasPrefix(href, "https://portal.example/back?next=") || strings.ContainsAny(href, `"<>`) {
		t.Errorf("return href = %q", href)
	}
}

func TestCapturePageRejectsBadData(t *testing.T) {
	ok := web.CapturePageData{Token: "secret-token-value", Lang: "kk"}
	tests := []struct {
		name   string
		mutate func(*web.CapturePageData)
	}{
		{"empty token", func(d *web.CapturePageData) { d.Token = "" }},
		{"token with slash", func(d *web.CapturePageData) { d.Token = "secret-token-value/../x" }},
		{"token with quote", func(d *web.CapturePageData) { d.Token = `secret-token-value"` }},
		{"token too long", func(d *web.CapturePageData) { d.Token = strings.Repeat("a", 513) }},
		{"unknown language", func(d *web.CapturePageData) { d.Lang = "de" }},
		{"javascript return URL", func(d *web.CapturePageData) { d.ReturnURL = "javascript:alert(1)" }},
		{"relative return URL", func(d *web.CapturePageData) { d.ReturnURL = "/back" }},
		{"return URL with user info", func(d *web.CapturePageData) { d.ReturnURL = "https://user:pw@portal.example/" }},
		{"return URL not UTF-8", func(d *web.CapturePageData) { d.ReturnURL = "https://portal.example/\xff" }},
		{"ICE server without URLs", func(d *web.CapturePageData) { d.ICEServers = []web.ICEServer{{}} }},
		{"ICE server over http", func(d *web.CapturePageData) {
			d.ICEServers = []web.ICEServer{{URLs: []string{"http://stun.example"}}}
		}},
		{"TURN without credential", func(d *web.CapturePageData) {
			d.ICEServers = []web.ICEServer{{URLs: []string{"turn:turn.example"}, Username: "u"}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := ok
			tc.mutate(&d)
			var buf bytes.Buffer
			err := web.CapturePage(&buf, d)
			if !errors.Is(err, web.ErrInvalidPageData) {
				t.Fatalf("err = %v, want ErrInvalidPageData", err)
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes written on a validation error", buf.Len())
			}
			if d.Token != "" && strings.Contains(err.Error(), d.Token) {
				t.Errorf("error message repeats the token: %v", err)
			}
		})
	}
	// The unmutated data renders: the cases above fail for their own reason.
	render(t, ok)
}

func TestCapturePageWriteError(t *testing.T) {
	err := web.CapturePage(failingWriter{}, web.CapturePageData{Token: "tok"})
	if err == nil || !strings.Contains(err.Error(), "write capture page") {
		t.Fatalf("err = %v, want a wrapped write error", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestAssets(t *testing.T) {
	page := render(t, web.CapturePageData{Token: "tok"})
	for _, name := range []string{"capture.js", "capture.css"} {
		b, err := fs.ReadFile(web.Assets(), name)
		if err != nil {
			t.Fatalf("Assets has no %s: %v", name, err)
		}
		if len(b) == 0 {
			t.Errorf("%s is empty", name)
		}
		if !regexp.MustCompile(regexp.QuoteMeta(web.StaticPrefix+name) + `\?v=[0-9a-f]{12}"`).MatchString(page) {
			t.Errorf("page does not load %s%s with a version", web.StaticPrefix, name)
		}
	}
	// No external assets: every src/href is local, a fragment or data:.
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		u := m[1]
		if !strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "#") && !strings.HasPrefix(u, "data:") {
			t.Errorf("external or relative asset reference %q", u)
		}
	}
}

// ---- dictionaries ----

func loadDicts(t *testing.T) map[string]map[string]string {
	t.Helper()
	d, err := i18n.Dicts(i18n.Capture)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// captureScripts is the capture page's JavaScript: capture.js and the
// modules it imports (static/capture*.js), one after the other.
func captureScripts(t *testing.T) []byte {
	t.Helper()
	names, err := fs.Glob(web.Assets(), "capture*.js")
	if err != nil || len(names) < 2 {
		t.Fatalf("capture scripts: %v %v", names, err)
	}
	var all []byte
	for _, n := range names {
		b, err := fs.ReadFile(web.Assets(), n)
		if err != nil {
			t.Fatal(err)
		}
		all = append(append(all, b...), '\n')
	}
	return all
}

// TestCaptureModules: every module capture.js imports, directly or not, is
// one of the page's assets, and each is under 600 lines.
func TestCaptureModules(t *testing.T) {
	seen := map[string]bool{}
	todo := []string{"capture.js"}
	importRE := regexp.MustCompile(`(?m)^\} from '\./([\w.-]+)';|^import \{[^}]*\} from '\./([\w.-]+)';`)
	for len(todo) > 0 {
		n := todo[0]
		todo = todo[1:]
		if seen[n] {
			continue
		}
		seen[n] = true
		b, err := fs.ReadFile(web.Assets(), n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if lines := bytes.Count(b, []byte("\n")); lines > 600 {
			t.Errorf("%s has %d lines", n, lines)
		}
		for _, m := range importRE.FindAllSubmatch(b, -1) {
			todo = append(todo, string(m[1])+string(m[2]))
		}
	}
	all, _ := fs.Glob(web.Assets(), "capture*.js")
	for _, n := range all {
		if !seen[n] {
			t.Errorf("%s is not imported by capture.js", n)
		}
	}
}

// TestDictionariesCoverProtocol checks that every code the server can send
// has a text in every language, and that the page accepts exactly those.
func TestDictionariesCoverProtocol(t *testing.T) {
	dicts := loadDicts(t)
	js := captureScripts(t)
	phases := []string{"small_oval", "approach", "large_oval", "challenge", "processing", "done"}
	codes := []string{"face_not_found", "center_face", "move_closer", "move_back", "too_dark", "too_bright",
		"blurry", "hold_still", "one_face_only", "look_straight", "ok"}
	challenges := []string{"turn_left", "turn_right", "blink", "smile", "nod"}
	outcomes := []string{"match", "no_match", "liveness_failed", "timeout", "locked", "moderation", "error"}
	// The capture package's constants are the server side of the contract.
	for _, p := range []capture.Phase{capture.PhaseSmallOval, capture.PhaseApproach, capture.PhaseLargeOval,
		capture.PhaseChallenge, capture.PhaseProcessing, capture.PhaseDone} {
		if !slices.Contains(phases, string(p)) {
			t.Errorf("capture phase %q is unknown to the page", p)
		}
	}
	for _, c := range []capture.Code{capture.CodeFaceNotFound, capture.CodeCenterFace, capture.CodeMoveCloser,
		capture.CodeMoveBack, capture.CodeTooDark, capture.CodeTooBright, capture.CodeBlurry, capture.CodeHoldStill,
		capture.CodeOneFaceOnly, capture.CodeLookStraight, capture.CodeOK} {
		if !slices.Contains(codes, string(c)) {
			t.Errorf("capture guidance code %q is unknown to the page", c)
		}
	}
	for _, c := range []capture.ChallengeCode{capture.ChallengeTurnLeft, capture.ChallengeTurnRight, capture.ChallengeBlink} {
		if !slices.Contains(challenges, string(c)) {
			t.Errorf("capture challenge %q is unknown to the page", c)
		}
	}

	for name, want := range map[string][]string{"PHASES": phases, "CODES": codes, "CHALLENGES": challenges, "OUTCOMES": outcomes} {
		if got := jsArray(t, js, name); !slices.Equal(got, want) {
			t.Errorf("capture.js %s = %v, want %v", name, got, want)
		}
	}

	var keys []string
	for _, p := range phases {
		keys = append(keys, "phase."+p)
	}
	for _, c := range codes {
		keys = append(keys, "guidance."+c)
	}
	for _, c := range challenges {
		keys = append(keys, "challenge."+c)
	}
	for _, r := range session.Reasons {
		keys = append(keys, "reason."+string(r))
	}
	keys = append(keys, "reason.error", "reason.unknown")
	for _, k := range []string{"camera_denied", "no_camera", "camera_busy", "camera_other", "no_webrtc", "insecure",
		"connection", "busy", "expired", "closed", "unknown_session"} {
		keys = append(keys, "error."+k+".title", "error."+k+".text")
	}
	for _, lang := range web.Languages() {
		for _, k := range keys {
			if _, ok := dicts[lang][k]; !ok {
				t.Errorf("%s lacks %q", lang, k)
			}
		}
	}
}

// TestReferencedKeysExist checks every key the template or the script names
// literally.
func TestReferencedKeysExist(t *testing.T) {
	dicts := loadDicts(t)
	tmpl, err := os.ReadFile("templates/capture.html")
	if err != nil {
		t.Fatal(err)
	}
	js := captureScripts(t)
	refs := map[string]bool{}
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`data-i18n(?:-aria)?="([^"]+)"`),
		regexp.MustCompile(`\{\{t "([^"]+)"\}\}`),
	} {
		for _, m := range re.FindAllSubmatch(tmpl, -1) {
			refs[string(m[1])] = true
		}
	}
	// Quoted literals shaped like keys ("a.b" or "a.b.c" in lower snake case).
	for _, m := range regexp.MustCompile(`'([a-z_]+\.[a-z_]+(?:\.[a-z_]+)?)'`).FindAllSubmatch(js, -1) {
		refs[string(m[1])] = true
	}
	if len(refs) < 30 {
		t.Fatalf("found only %d key references; the patterns no longer match the sources", len(refs))
	}
	for k := range refs {
		for _, lang := range web.Languages() {
			if _, ok := dicts[lang][k]; !ok {
				t.Errorf("%q is used but missing in %s", k, lang)
			}
		}
	}
}

func jsArray(t *testing.T, js []byte, name string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)const ` + name + ` = \[(.*?)\];`).FindSubmatch(js)
	if m == nil {
		t.Fatalf("capture.js has no const %s array", name)
	}
	var out []string
	for _, s := range regexp.MustCompile(`'([^']*)'`).FindAllSubmatch(m[1], -1) {
		out = append(out, string(s[1]))
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func BenchmarkCapturePage(b *testing.B) {
	d := web.CapturePageData{Token: "AbC_dEf-0123456789abcdefghijklmnopqrstuvwxy", Lang: "ru",
		ExpiresAt: time.Now().Add(time.Hour), ReturnURL: "https://portal.example/back"}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := web.CapturePage(&buf, d); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

// FuzzCapturePage: whatever the session data (the return URL and ICE
// credentials come from other systems), the page either is refused with
// ErrInvalidPageData and nothing written, or renders with no injected
// script and hands the script exactly the values it was given.
func FuzzCapturePage(f *testing.F) {
	f.Add("tok", "kk", "https://portal.example/back", "user")
	f.Add("tok", "ru-KZ", `https://x.example/?q="><script>alert(1)</script>`, "</script><script>")
	f.Add("a/b", "", "javascript:alert(1)", "")
	f.Add("tok", "en", "http://127.0.0.1:8080/b?a=1&b=2#frag", "\u2028\u2029")
	f.Fuzz(func(t *testing.T, token, lang, returnURL, user string) {
		d := web.CapturePageData{Token: token, Lang: lang, ReturnURL: returnURL,
			ICEServers: []web.ICEServer{{URLs: []string{"turn:turn.example:3478"}, Username: user + "u", Credential: user + "c"}}}
		var buf bytes.Buffer
		err := web.CapturePage(&buf, d)
		if err != nil {
			if !errors.Is(err, web.ErrInvalidPageData) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			if buf.Len() != 0 {
				t.Fatalf("%d bytes written on error", buf.Len())
			}
			return
		}
		page := buf.String()
		if n := strings.Count(strings.ToLower(page), "<script"); n != 3 {
			t.Fatalf("page has %d <script tags, want 3", n)
		}
		c := configOf(t, page)
		if c.Token != token || c.ReturnURL != returnURL || c.ICEServers[0].Username != user+"u" || c.ICEServers[0].Credential != user+"c" {
			t.Fatalf("config does not round-trip: %+v", c)
		}
	})
}
