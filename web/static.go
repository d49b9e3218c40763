package web

import (
	"encoding/base64"
	"html/template"
	"io/fs"
	"net/http"
)

// faviconName is the site icon under StaticPrefix: an SVG, so one small
// file serves every size.
const faviconName = "favicon.svg"

// StaticHandler serves Assets (mount it under StaticPrefix with the prefix
// stripped). A request carrying the assets' current version (?v=, as every
// URL the pages write does) may be cached for a year; any other must be
// revalidated, so that the capture page's modules, which import each other
// without a version, never mix releases.
func StaticHandler() http.Handler {
	files := http.FileServerFS(Assets())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if v := r.URL.Query().Get("v"); v != "" && v == assetsVersion() {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}

// FaviconURL is the site icon's URL on the server that mounts
// StaticHandler, with the assets' version for a long cache.
func FaviconURL() string { return StaticPrefix + faviconName + "?v=" + assetsVersion() }

// FaviconDataURL is the site icon as a data: URL, for pages served from
// another origin without StaticHandler (the reference CA's).
func FaviconDataURL() template.URL {
	b, err := fs.ReadFile(Assets(), faviconName)
	if err != nil {
		return ""
	}
	return template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(b))
}

// assetsVersion is the content hash the pages put on asset URLs ("" when the
// assets are broken, which the package tests catch).
func assetsVersion() string {
	p, err := currentPage()
	if err != nil {
		return ""
	}
	return p.version
}
