package server

import (
	"net/http"

	"vidid/i18n"
)

// Languages the pages are written in, the first being the default when the
// browser asks for none of them (Kazakh, the state language).
var languages = i18n.Languages()

// languageNames label the language switcher, each in its own language.
var languageNames = func() map[string]string {
	out := map[string]string{}
	for _, l := range languages {
		out[l] = i18n.Name(l)
	}
	return out
}()

// pickLang chooses the page language: a supported ?lang= (or form field
// lang) wins, then the Accept-Language entry with the highest q, then def.
func pickLang(r *http.Request, def string) string { return i18n.Negotiate(r, "", def) }

// fromAcceptLanguage is the Accept-Language header's best language, or def.
func fromAcceptLanguage(h, def string) string {
	if l := i18n.FromAcceptLanguage(h); l != "" {
		return l
	}
	return def
}

// textsByLang holds the pages' texts (i18n's ca dictionaries) by language
// then key, for templates ({{.T.title}}).
var textsByLang = func() map[string]map[string]string {
	d, err := i18n.Dicts(i18n.CA)
	if err != nil {
		panic(err) // embedded dictionaries: a build defect the i18n tests catch
	}
	return d
}()
