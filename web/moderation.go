package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"
	"time"

	"vidid/i18n"
)

// ModerationCSP is the Content-Security-Policy of the moderator pages:
// no scripts at all, images and styles from the server only, forms posted
// back to it.
const ModerationCSP = "default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Moderator pages (ModerationPage's page argument).
const (
	ModLoginPage   = "login"   // sign-in form
	ModQueuePage   = "queue"   // the queue, oldest first
	ModCasePage    = "case"    // one case: photos, frames, scores, decision form
	ModMessagePage = "message" // an error or notice
)

// ModerationZone is the time zone the moderator pages show times in
// (Kazakhstan's single zone, UTC+5 since 1 March 2024).
var ModerationZone = time.FixedZone("UTC+5", 5*3600)

// modPage is the parsed moderator templates, one clone per language.
type modPage struct {
	tmpl  map[string]*template.Template
	dicts map[string]map[string]string
}

var modCache struct {
	once sync.Once
	p    *modPage
	err  error
}

func currentModPage() (*modPage, error) {
	if reloadEveryTime {
		return loadModPage()
	}
	modCache.once.Do(func() { modCache.p, modCache.err = loadModPage() })
	return modCache.p, modCache.err
}

func loadModPage() (*modPage, error) {
	src := source()
	dicts, err := i18n.Dicts(i18n.Moderation)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAssets, err)
	}
	p := &modPage{tmpl: map[string]*template.Template{}, dicts: dicts}
	base, err := template.New("moderation.html").Funcs(modFuncs("en", nil)).ParseFS(src, "templates/moderation.html")
	if err != nil {
		return nil, fmt.Errorf("%w: moderation templates: %v", ErrAssets, err)
	}
	for _, lang := range languages {
		c, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("%w: moderation templates: %v", ErrAssets, err)
		}
		p.tmpl[lang] = c.Funcs(modFuncs(lang, dicts[lang]))
	}
	return p, nil
}

// humanDuration writes d as a person reads it: "2 d 3 h", "5 h 07 min",
// "12 min" (in English; the units come from d's dictionary).
func humanDuration(dict map[string]string, d time.Duration) string {
	d = d.Round(time.Minute)
	switch {
	case d >= 48*time.Hour:
		return i18n.Translate(dict, "time.days_hours", "d", int64(d/(24*time.Hour)), "h", int64(d%(24*time.Hour)/time.Hour))
	case d >= time.Hour:
		return i18n.Translate(dict, "time.hours_minutes", "h", int64(d/time.Hour), "m", fmt.Sprintf("%02d", int64(d%time.Hour/time.Minute)))
	}
	return i18n.Translate(dict, "time.minutes", "m", int64(d/time.Minute))
}

// modFuncs are the template functions for one language.
func modFuncs(lang string, d map[string]string) template.FuncMap {
	t := func(key string, kv ...any) string { return i18n.Translate(d, key, kv...) }
	orKey := func(prefix, code string) string {
		if code == "" {
			return "—"
		}
		if s, ok := d[prefix+code]; ok {
			return s
		}
		return code
	}
	return template.FuncMap{
		"t":       t,
		"lang":    func() string { return lang },
		"favicon": FaviconURL,
		"langs": func() []langName {
			var out []langName
			for _, l := range languages {
				out = append(out, langName{Code: l, Name: i18n.Name(l)})
			}
			return out
		},
		"when": func(v any) string {
			var tm time.Time
			switch x := v.(type) {
			case time.Time:
				tm = x
			case *time.Time:
				if x != nil {
					tm = *x
				}
			}
			if tm.IsZero() {
				return "—"
			}
			return tm.In(ModerationZone).Format("2006-01-02 15:04")
		},
		"date": func(tm time.Time) string {
			if tm.IsZero() {
				return "—"
			}
			return i18n.FormatDate(lang, tm)
		},
		"updated": func(tm time.Time) string { return i18n.FormatDateTime(lang, tm.In(ModerationZone)) },
		"score": func(p *float64) string {
			if p == nil {
				return "—"
			}
			return fmt.Sprintf("%.3f", *p)
		},
		"ago": func(now, tm time.Time) string {
			if tm.IsZero() {
				return "—"
			}
			if dd := now.Sub(tm); dd >= time.Minute {
				return t("time.ago", "d", humanDuration(d, dd))
			}
			return t("time.just_now")
		},
		"left": func(now, due time.Time) string {
			if dd := due.Sub(now); dd > 0 {
				return t("time.left", "d", humanDuration(d, dd))
			} else {
				return t("time.overdue", "d", humanDuration(d, -dd))
			}
		},
		"fullName": func(parts ...string) string {
			var out []string
			for _, p := range parts {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
			return strings.Join(out, " ")
		},
		"reason": func(r any) string { return orKey("reason.", fmt.Sprint(r)) },
		"why":    func(s string) string { return orKey("why.", s) },
		"inc":    func(i int) int { return i + 1 },
		"seq": func(n int) []int {
			out := make([]int, n)
			for i := range out {
				out[i] = i
			}
			return out
		},
	}
}

// ModerationLang picks the moderator pages' language: the first of wanted
// (an explicit choice, a cookie, then the Accept-Language header's
// languages in order) that is one of kk, ru, en; English otherwise.
func ModerationLang(wanted ...string) string {
	if l := i18n.Pick(wanted...); l != "" {
		return l
	}
	return "en"
}

// ModerationPage renders one moderator page (ModLoginPage …) in lang (kk,
// ru or en; see ModerationLang) with data (the api package's ModLogin,
// ModQueue, ModCase, ModMessage). Nothing is written on an error.
func ModerationPage(w io.Writer, page, lang string, data any) error {
	p, err := currentModPage()
	if err != nil {
		return err
	}
	t, ok := p.tmpl[lang]
	if !ok {
		return fmt.Errorf("%w: language %q is not one of %s", ErrInvalidPageData, lang, strings.Join(languages, ", "))
	}
	if t.Lookup(page) == nil {
		return fmt.Errorf("%w: no moderator page %q", ErrInvalidPageData, page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, page, data); err != nil {
		return fmt.Errorf("render moderator page %s: %w", page, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write moderator page: %w", err)
	}
	return nil
}
