// Package browsertest runs Debian's Chromium, headless, as an applicant in
// end-to-end tests: a fake camera playing a chosen video, camera permission
// granted or denied, a chosen language, and the page's console in the test
// log. It drives the browser over CDP with chromedp.
//
// Browser tests skip under -short only; a missing Chromium or ffmpeg fails
// the test with the Debian packages to install, a missing axe-core (Axe,
// CheckAxe: the accessibility rules run in the page) with `make npm-deps`.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// startTimeout bounds the browser's start.
const startTimeout = 60 * time.Second

// Options configure the browser.
type Options struct {
	// FakeVideo is a .y4m or .mjpeg file the fake camera plays, looping
	// (see MakeY4M, StillY4M); empty: Chromium's built-in test pattern.
	FakeVideo string
	// DenyCamera refuses camera permission: getUserMedia rejects with
	// NotAllowedError.
	DenyCamera bool
	// Lang is the browser's language (navigator.language and the
	// Accept-Language header), such as "kk", "ru" or "en-US"; empty: en-US.
	Lang string
	// Width and Height are the window size in CSS pixels; zero: 1280x800.
	Width, Height int
}

// ChromiumPath returns the Chromium binary: $VIDID_CHROMIUM, else
// /usr/bin/chromium, else chromium or chromium-browser on PATH.
func ChromiumPath() (string, error) {
	if p := os.Getenv("VIDID_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("VIDID_CHROMIUM: %w", err)
		}
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found")
}

// Start launches headless Chromium with a fresh profile and returns the
// context of its first tab, for chromedp.Run/Do; cancel (also run at the
// test's end) closes the browser. The tab's console messages and uncaught
// exceptions go to the test log. Under -short the test is skipped.
func Start(t testing.TB, opts Options) (context.Context, context.CancelFunc) {
	t.Helper()
	if testing.Short() {
		t.Skip("drives headless Chromium; skipped under -short")
	}
	path, err := ChromiumPath()
	if err != nil {
		t.Fatalf("%v: install the Debian packages chromium and chromium-driver (apt-get install chromium chromium-driver), or set VIDID_CHROMIUM", err)
	}
	flags := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), // containers have a small /dev/shm
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	}
	w, h := opts.Width, opts.Height
	if w <= 0 || h <= 0 {
		w, h = 1280, 800
	}
	flags = append(flags, chromedp.WindowSize(w, h))
	if opts.DenyCamera {
		flags = append(flags, chromedp.Flag("deny-permission-prompts", true))
	} else {
		flags = append(flags, chromedp.Flag("use-fake-ui-for-media-stream", true))
	}
	if opts.FakeVideo != "" {
		abs, err := filepath.Abs(opts.FakeVideo)
		if err != nil {
			t.Fatalf("fake video: %v", err)
		}
		if ext := strings.ToLower(filepath.Ext(abs)); ext != ".y4m" && ext != ".mjpeg" {
			t.Fatalf("fake video %s: Chromium plays only .y4m and .mjpeg files (see MakeY4M)", abs)
		}
		if _, err := os.Stat(abs); err != nil {
			t.Fatalf("fake video: %v", err)
		}
		flags = append(flags, chromedp.Flag("use-file-for-fake-video-capture", abs))
	}
	lang := opts.Lang
	if lang == "" {
		lang = "en-US"
	}
	flags = append(flags, chromedp.Flag("lang", lang), chromedp.Flag("accept-lang", lang), chromedp.Env("LANGUAGE="+lang))

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags...)
	ctx, cancelTab := chromedp.NewContext(actx)
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err = <-started:
	case <-time.After(startTimeout):
		err = fmt.Errorf("no answer within %v", startTimeout)
	}
	if err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("start Chromium (%s): %v", path, err)
	}

	// The console, into the test log until the browser closes.
	messages := chromedp.Console(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for m, err := range messages {
			if err != nil {
				return
			}
			t.Logf("browser console %s: %s%s", m.Type, m.Text, where(m))
		}
	}()
	var once sync.Once
	cancel := func() {
		once.Do(func() {
			cancelTab()
			cancelAlloc() // waits for the browser to exit
			wg.Wait()
		})
	}
	t.Cleanup(cancel)
	return ctx, cancel
}

func where(m chromedp.ConsoleMessage) string {
	if m.URL == "" {
		return ""
	}
	return fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
}
