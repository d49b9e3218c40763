package server_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vidid/internal/browsertest"
)

// TestAccessibility runs axe-core (WCAG 2.0/2.1 A and AA) in headless
// Chromium on the CA's pages in each language: the index, the password
// form (empty and refused), the key store page and the error page. The
// POSTed pages are written into the index's document, so they keep its
// Content-Security-Policy.
func TestAccessibility(t *testing.T) {
	f := newFixture(t)
	browser, _ := browsertest.Start(t, browsertest.Options{})
	for _, lang := range []string{"kk", "ru", "en"} {
		t.Run(lang, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(browser, 2*time.Minute)
			defer cancel()
			ctx, cancelTab := chromedp.NewContext(ctx)
			defer cancelTab()
			if err := chromedp.Do(ctx, chromedp.Navigate(f.srv.URL+"/?lang="+lang)); err != nil {
				t.Fatal(err)
			}
			browsertest.CheckAxe(t, ctx, "index")
			tok := f.token(t)
			const password = "жасыл алма 2025"
			for _, p := range []struct {
				what, path string
				form       url.Values
			}{
				{"password form", "/enroll", url.Values{"assertion": {tok}}},
				{"password refused", "/enroll/keystore", url.Values{"assertion": {tok}, "password": {"short"}, "confirm": {"short"}}},
				{"key store", "/enroll/keystore", url.Values{"assertion": {tok}, "password": {password}, "confirm": {password}}},
				{"error", "/enroll", url.Values{"assertion": {"not-a-token"}}},
			} {
				r := f.postForm(t, p.path, p.form, lang)
				html, _ := json.Marshal(r.body)
				if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { document.open(); document.write(`+string(html)+
					`); document.close(); return true; })()`)); err != nil {
					t.Fatalf("%s: %v", p.what, err)
				}
				browsertest.CheckAxe(t, ctx, p.what)
			}
		})
	}
}
