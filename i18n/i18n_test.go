package i18n_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"vidid/i18n"
)

// TestDictionariesComplete: in every domain each key exists in all three
// languages, non-empty, without outer spaces, with the same placeholders as
// the English text; no file repeats a key (JSON would keep the last one).
func TestDictionariesComplete(t *testing.T) {
	for _, d := range append(i18n.Domains(), "common") {
		for _, l := range i18n.Languages() {
			name := string(d) + "/" + l + ".json"
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if dup := duplicateKeys(t, b); len(dup) > 0 {
				t.Errorf("%s repeats keys %v", name, dup)
			}
		}
	}
	for _, d := range i18n.Domains() {
		dicts, err := i18n.Dicts(d)
		if err != nil {
			t.Fatal(err)
		}
		en := dicts["en"]
		for _, l := range i18n.Languages() {
			t.Run(string(d)+"/"+l, func(t *testing.T) {
				for k, enV := range en {
					v, ok := dicts[l][k]
					switch {
					case !ok:
						t.Errorf("lacks %q", k)
					case v == "" || strings.TrimSpace(v) != v:
						t.Errorf("%q is empty or has outer spaces: %q", k, v)
					case !slices.Equal(placeholders(v), placeholders(enV)):
						t.Errorf("%q has placeholders %v, en has %v", k, placeholders(v), placeholders(enV))
					}
				}
				for k := range dicts[l] {
					if _, ok := en[k]; !ok {
						t.Errorf("has %q, which en lacks", k)
					}
				}
			})
		}
	}
	if _, err := i18n.Dicts("nonsense"); !errors.Is(err, i18n.ErrUnknownDomain) {
		t.Errorf("Dicts(nonsense) error = %v, want ErrUnknownDomain", err)
	}
}

var placeholderRE = regexp.MustCompile(`\{\w+\}`)

func placeholders(s string) []string {
	p := placeholderRE.FindAllString(s, -1)
	slices.Sort(p)
	return slices.Compact(p)
}

// duplicateKeys reads a flat JSON object token by token.
func duplicateKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	seen, dup := map[string]bool{}, []string(nil)
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		if seen[k.(string)] {
			dup = append(dup, k.(string))
		}
		seen[k.(string)] = true
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
	}
	return dup
}

func TestFormatDate(t *testing.T) {
	at := time.Date(2026, time.December, 5, 14, 5, 0, 0, time.UTC)
	tests := []struct{ lang, date, dateTime string }{
		{"kk", "2026 жылғы 5 желтоқсан", "2026 жылғы 5 желтоқсан, 14:05"},
		{"ru", "5 декабря 2026 г.", "5 декабря 2026 г., 14:05"},
		{"en", "5 December 2026", "5 December 2026, 14:05"},
		{"de", "5 December 2026", "5 December 2026, 14:05"},
	}
	for _, tc := range tests {
		if got := i18n.FormatDate(tc.lang, at); got != tc.date {
			t.Errorf("FormatDate(%s) = %q, want %q", tc.lang, got, tc.date)
		}
		if got := i18n.FormatDateTime(tc.lang, at); got != tc.dateTime {
			t.Errorf("FormatDateTime(%s) = %q, want %q", tc.lang, got, tc.dateTime)
		}
	}
	kk := []string{"қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек", "қазан", "қараша", "желтоқсан"}
	for i, m := range kk {
		if got := i18n.FormatDate("kk", time.Date(2027, time.Month(i+1), 1, 0, 0, 0, 0, time.UTC)); got != "2027 жылғы 1 "+m {
			t.Errorf("month %d in Kazakh: %q", i+1, got)
		}
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name, query, cookie, accept, want string
	}{
		{"nothing", "", "", "", "kk"},
		{"browser", "", "", "ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"},
		{"browser by q", "", "", "fr, en;q=0.3, ru;q=0.6", "ru"},
		{"q=0 refuses", "", "", "ru;q=0, en", "en"},
		{"bad q dropped", "", "", "ru;q=abc, en;q=0.1", "en"},
		{"unknown only", "", "", "fr-FR,de;q=0.9", "kk"},
		{"upper case", "", "", "EN", "en"},
		{"cookie over browser", "", "en", "ru", "en"},
		{"query over cookie", "ru", "en", "kk", "ru"},
		{"unknown query", "xx", "", "ru", "ru"},
		{"query with region", "kk-KZ", "", "en", "kk"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/?lang="+tc.query, nil)
			r.Header.Set("Accept-Language", tc.accept)
			if tc.cookie != "" {
				r.Header.Set("Cookie", "lang="+tc.cookie)
			}
			if got := i18n.Negotiate(r, "lang", "kk"); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	t.Run("form field on POST", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/enroll", strings.NewReader("lang=en"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Accept-Language", "ru")
		if got := i18n.Negotiate(r, "", "kk"); got != "en" {
			t.Errorf("got %s, want en", got)
		}
	})
}

func TestNames(t *testing.T) {
	want := map[string]string{"kk": "Қазақша", "ru": "Русский", "en": "English"}
	for l, n := range want {
		if got := i18n.Name(l); got != n {
			t.Errorf("Name(%s) = %q, want %q", l, got, n)
		}
	}
}

// TestDictionariesAreTranslated guards against a dictionary that is a copy
// of another: Russian and Kazakh differ (but for names and codes the pages
// keep as they are), Kazakh is mostly written with its own letters, Russian
// has none of them, English has no Cyrillic.
func TestDictionariesAreTranslated(t *testing.T) {
	const kazakhOnly = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"
	for _, d := range i18n.Domains() {
		dicts, err := i18n.Dicts(d)
		if err != nil {
			t.Fatal(err)
		}
		withKazakh := 0
		for k, kk := range dicts["kk"] {
			if kk == dicts["ru"][k] && !sameInBoth[string(d)+":"+k] {
				t.Errorf("%s: kk and ru are identical for %q", d, k)
			}
			if strings.ContainsAny(kk, kazakhOnly) {
				withKazakh++
			}
			if strings.ContainsAny(dicts["ru"][k], kazakhOnly) {
				t.Errorf("%s: ru %q has Kazakh letters: %q", d, k, dicts["ru"][k])
			}
			for _, r := range dicts["en"][k] {
				if unicode.Is(unicode.Cyrillic, r) {
					t.Errorf("%s: en %q has Cyrillic: %q", d, k, dicts["en"][k])
					break
				}
			}
		}
		if share := float64(withKazakh) / float64(len(dicts["kk"])); share < 0.7 {
			t.Errorf("%s: only %.0f%% of kk entries use Kazakh letters", d, share*100)
		}
	}
}

// sameInBoth are texts Kazakh and Russian share (domain:key).
var sameInBoth = map[string]bool{
	"capture:date.time_pattern": true, "moderation:date.time_pattern": true, "ca:date.time_pattern": true,
	"moderation:time.minutes": true, // "{m} мин" in both
}
