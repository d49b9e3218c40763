package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"
	"time"
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

var modReasons = map[string]string{
	"no_face": "no face found", "multiple_faces": "more than one face", "poor_light": "too dark or too bright",
	"blurry": "blurred", "too_far": "face too small", "pose": "head turned away",
	"liveness_failed": "liveness check failed", "injection_suspected": "injected video suspected",
	"no_match": "face did not match the register photo", "timeout": "time ran out", "aborted": "applicant left",
	"register_photo_missing": "register has no photo", "register_photo_unusable": "register photo has no usable face",
	"challenge_failed": "prompt not followed", "face_changed": "a different face did the prompts",
}

var modWhy = map[string]string{
	"near_threshold":    "Just under the match threshold",
	"register_photo":    "Register photo missing or unusable",
	"repeated_lockouts": "Matched after repeated lockouts",
	"other":             "Other",
}

var modFuncs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return "—"
			}
			return v.In(ModerationZone).Format("2006-01-02 15:04")
		case *time.Time:
			if v == nil {
				return "—"
			}
			return v.In(ModerationZone).Format("2006-01-02 15:04")
		}
		return fmt.Sprint(t)
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.Format("2006-01-02")
	},
	"score": func(p *float64) string {
		if p == nil {
			return "—"
		}
		return fmt.Sprintf("%.3f", *p)
	},
	"ago": func(now, t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		if d := now.Sub(t); d >= time.Minute {
			return humanDuration(d) + " ago"
		}
		return "just now"
	},
	"left": func(now, due time.Time) string {
		if d := due.Sub(now); d > 0 {
			return humanDuration(d) + " left"
		} else {
			return "overdue by " + humanDuration(-d)
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
	"reason": func(r any) string {
		s := fmt.Sprint(r)
		if t, ok := modReasons[s]; ok {
			return t
		}
		if s == "" {
			return "—"
		}
		return s
	},
	"why": func(s string) string {
		if t, ok := modWhy[s]; ok {
			return t
		}
		return s
	},
	"inc": func(i int) int { return i + 1 },
	"seq": func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	},
}

// humanDuration writes d as a person reads it: "2 d 3 h", "5 h 07 min",
// "12 min".
func humanDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d d %d h", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%d h %02d min", d/time.Hour, d%time.Hour/time.Minute)
	}
	return fmt.Sprintf("%d min", d/time.Minute)
}

var modTemplates struct {
	once sync.Once
	t    *template.Template
	err  error
}

func moderationTemplates() (*template.Template, error) {
	parse := func() (*template.Template, error) {
		t, err := template.New("moderation.html").Funcs(modFuncs).ParseFS(source(), "templates/moderation.html")
		if err != nil {
			return nil, fmt.Errorf("%w: moderation templates: %v", ErrAssets, err)
		}
		return t, nil
	}
	if reloadEveryTime {
		return parse()
	}
	modTemplates.once.Do(func() { modTemplates.t, modTemplates.err = parse() })
	return modTemplates.t, modTemplates.err
}

// ModerationPage renders one moderator page (ModLoginPage …) with data
// (the api package's ModLogin, ModQueue, ModCase, ModMessage). Nothing is
// written on an error. The pages are in English: they are staff-facing.
func ModerationPage(w io.Writer, page string, data any) error {
	t, err := moderationTemplates()
	if err != nil {
		return err
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
