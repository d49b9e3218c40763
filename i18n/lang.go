package i18n

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Default is the language of a page whose reader asks for none of
// Languages: Kazakh, the state language.
const Default = "kk"

// languages the texts are written in, in the order selectors show them.
var languages = []string{"kk", "ru", "en"}

// Languages returns kk, ru, en: the order language selectors show them in.
func Languages() []string { return slices.Clone(languages) }

// Normalise reads a language tag ("ru-KZ", "EN", "kk_KZ") as one of
// Languages; ok is false for any other language and for "".
func Normalise(tag string) (lang string, ok bool) {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	base, _, _ = strings.Cut(base, "_")
	if !slices.Contains(languages, base) {
		return "", false
	}
	return base, true
}

// maxAcceptEntries bounds the Accept-Language entries read: a header longer
// than that is not a real browser's.
const maxAcceptEntries = 32

// FromAcceptLanguage picks the best of Languages from an Accept-Language
// header (RFC 9110 §12.5.4), read leniently: "ru-RU,ru;q=0.9,en;q=0.8" → ru.
// Entries with equal q keep their order; q=0 means "not this one"; a bad q
// drops its entry. It returns "" when the header names none of Languages.
func FromAcceptLanguage(h string) string {
	best, bestQ := "", 0.0
	for i, part := range strings.Split(h, ",") {
		if i >= maxAcceptEntries {
			break
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		lang, ok := Normalise(tag)
		if !ok {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if q > bestQ {
			best, bestQ = lang, q
		}
	}
	return best
}

// Pick returns the first of wanted that names one of Languages, each read
// as an Accept-Language list (so a bare "ru", "ru-KZ" or a whole header
// will do), or "" when none does. Callers list the sources in order of
// precedence: an explicit choice, a remembered one, the browser's.
func Pick(wanted ...string) string {
	for _, w := range wanted {
		if l := FromAcceptLanguage(w); l != "" {
			return l
		}
	}
	return ""
}

// Negotiate picks a request's language: ?lang=, then (on a POST) the form
// field lang, then the cookie named cookie (none when ""), then
// Accept-Language; def when none names one of Languages.
func Negotiate(r *http.Request, cookie, def string) string {
	wanted := []string{r.URL.Query().Get("lang")}
	if r.Method == http.MethodPost {
		wanted = append(wanted, r.PostFormValue("lang"))
	}
	if cookie != "" {
		if c, err := r.Cookie(cookie); err == nil {
			wanted = append(wanted, c.Value)
		}
	}
	if l := Pick(append(wanted, r.Header.Get("Accept-Language"))...); l != "" {
		return l
	}
	return def
}
