//go:build e2e

package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"vidid/internal/browsertest"
)

// consoleLog keeps the browser console lines browsertest logs.
type consoleLog struct {
	testing.TB
	mu    sync.Mutex
	lines []string
}

func (l *consoleLog) Logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
	l.TB.Logf(format, args...)
}

func (l *consoleLog) problems() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, s := range l.lines {
		if strings.HasPrefix(s, "browser console error") || strings.HasPrefix(s, "browser console exception") {
			out = append(out, s)
		}
	}
	return out
}

// TestReportHTMLInBrowser opens report.html (the golden one, or the page
// $VIDID_BENCH_REPORT names) in headless Chromium: no console errors, and
// the charts are there. With -update and $VIDID_BENCH_REPORT it saves a
// screenshot for the README as docs/img/bench-report.png.
func TestReportHTMLInBrowser(t *testing.T) {
	page := filepath.Join("testdata", "report.html")
	if p := os.Getenv("VIDID_BENCH_REPORT"); p != "" {
		page = p
	}
	abs, err := filepath.Abs(page)
	if err != nil {
		t.Fatal(err)
	}
	log := &consoleLog{TB: t}
	ctx, cancel := browsertest.Start(log, browsertest.Options{Width: 1040, Height: 900})
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+abs)); err != nil {
		t.Fatalf("open %s: %v", abs, err)
	}
	eval := func(js string) int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return n
	}
	svgs, polylines := eval(`document.querySelectorAll("svg").length`), eval(`document.querySelectorAll("svg polyline").length`)
	title, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.title`))
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if title != "vidid bench report" {
		t.Errorf("title %q", title)
	}
	// DET, ROC, a histogram per part, the group DET and a liveness chart
	// per part.
	if svgs < 5 || polylines < 10 {
		t.Errorf("%d SVGs with %d lines, want the charts", svgs, polylines)
	}
	if p := log.problems(); len(p) > 0 {
		t.Errorf("console errors: %q", p)
	}
	if *update && os.Getenv("VIDID_BENCH_REPORT") != "" {
		if err := os.WriteFile(filepath.Join("..", "docs", "img", "bench-report.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
