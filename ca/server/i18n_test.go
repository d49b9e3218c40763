package server

import (
	"net/http/httptest"
	"strings"
	"testing"

	"vidid/ca"
)

func TestPickLang(t *testing.T) {
	cases := []struct {
		query, accept, want string
	}{
		{"", "", "kk"},
		{"", "ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"},
		{"", "en-GB,en;q=0.9,ru;q=0.8", "en"},
		{"", "kk-KZ", "kk"},
		{"", "fr-FR,de;q=0.9", "kk"},
		{"", "fr, en;q=0.3, ru;q=0.6", "ru"},
		{"", "ru;q=0, en", "en"},
		{"", "ru;q=abc, en;q=0.1", "en"},
		{"", "EN", "en"},
		{"en", "ru", "en"},
		{"xx", "ru", "ru"},
		{"kk", "en", "kk"},
	}
	for _, tc := range cases {
		t.Run(tc.query+"|"+tc.accept, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/?lang="+tc.query, nil)
			r.Header.Set("Accept-Language", tc.accept)
			if got := pickLang(r, "kk"); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	t.Run("form field on POST", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/enroll", strings.NewReader("lang=en"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Accept-Language", "ru")
		if got := pickLang(r, "kk"); got != "en" {
			t.Fatalf("got %s", got)
		}
	})
}

// TestMessagesComplete: every error and password rule has its message
// (that each exists in Kazakh, Russian and English is the i18n package's
// test).
func TestMessagesComplete(t *testing.T) {
	keys := []string{errMissingAssertion.MsgKey, errPasswordMismatch.MsgKey, errTooLarge.MsgKey, errUnsupportedMedia.MsgKey, "err_internal", "err_bad_request"}
	for _, m := range errorMappings {
		keys = append(keys, m.msgKey)
	}
	for _, p := range []ca.PasswordProblem{ca.PasswordTooShort, ca.PasswordTooLong, ca.PasswordInvalid, ca.PasswordRepetitive, ca.PasswordContainsIIN} {
		keys = append(keys, "err_"+string(p))
	}
	for _, k := range keys {
		if _, ok := textsByLang["en"][k]; !ok {
			t.Errorf("no message %q", k)
		}
	}
	// Templates reference only existing keys.
	for name, tmpl := range pages {
		for _, l := range languages {
			var b strings.Builder
			if err := tmpl.ExecuteTemplate(&b, "layout", &page{Lang: l, T: textsByLang[l], Langs: langLinks}); err != nil {
				t.Fatalf("%s/%s: %v", name, l, err)
			}
		}
	}
}
