package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Domain names one set of dictionaries: the texts of one kind of page.
type Domain string

// Domains.
const (
	Capture    Domain = "capture"    // the applicant's capture page (sent whole to the browser)
	Moderation Domain = "moderation" // the moderator pages
	CA         Domain = "ca"         // the reference CA's pages
	common     Domain = "common"     // language and month names, date patterns: part of every domain
)

var domains = []Domain{Capture, Moderation, CA}

// Domains lists the domains with dictionaries.
func Domains() []Domain { return slices.Clone(domains) }

// Dicts returns domain's dictionaries by language then key, the common keys
// (lang.name, month.1 … month.12, date.pattern, date.time_pattern)
// included. The maps are the caller's to keep or change.
func Dicts(d Domain) (map[string]map[string]string, error) {
	if !slices.Contains(domains, d) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownDomain, d)
	}
	all, err := current()
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]string, len(languages))
	for _, l := range languages {
		m := maps.Clone(all[common][l])
		maps.Copy(m, all[d][l])
		out[l] = m
	}
	return out, nil
}

// Name is lang's name in its own language ("Қазақша"), for selectors.
func Name(lang string) string {
	all, err := current()
	if err != nil {
		return lang
	}
	if n := all[common][lang]["lang.name"]; n != "" {
		return n
	}
	return lang
}

// Translate looks key up in d and fills its {name} placeholders from kv
// (name, value, name, value …). A missing key comes back as itself, so a
// page shows what is missing rather than nothing.
func Translate(d map[string]string, key string, kv ...any) string {
	s, ok := d[key]
	if !ok {
		return key
	}
	for i := 0; i+1 < len(kv); i += 2 {
		s = strings.ReplaceAll(s, "{"+fmt.Sprint(kv[i])+"}", fmt.Sprint(kv[i+1]))
	}
	return s
}

// store is every dictionary: domain → language → key → text.
type store map[Domain]map[string]map[string]string

var cached = sync.OnceValues(load)

func current() (store, error) {
	if reloadEveryTime {
		return load()
	}
	return cached()
}

func load() (store, error) {
	src := source()
	s := store{}
	for _, d := range append([]Domain{common}, domains...) {
		s[d] = map[string]map[string]string{}
		for _, l := range languages {
			m, err := readDict(src, string(d)+"/"+l+".json")
			if err != nil {
				return nil, err
			}
			s[d][l] = m
		}
	}
	return s, nil
}

// readDict reads one flat JSON object of key → text.
func readDict(src fs.FS, name string) (map[string]string, error) {
	b, err := fs.ReadFile(src, name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDictionary, err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrDictionary, name, err)
	}
	return m, nil
}
