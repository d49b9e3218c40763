//go:build e2e

// Package e2e runs the whole system: the vidid binary against a real
// Postgres, real models, and a real headless Chromium whose fake camera
// plays a public test video.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vidid/internal/browsertest"
	"vidid/internal/media"
	"vidid/internal/pgtest"
	"vidid/internal/testenv"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vidid-e2e")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "vidid")
	out, err := exec.Command("go", "build", "-o", bin, "vidid/cmd/vidid").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build vidid: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// trackSources makes `go test`'s result cache depend on vidid's sources.
// TestMain builds the binary under test with `go build`, which the cache
// cannot see, so without this a cached pass could hide a broken change.
// The cache records the files a test stats; this stats them all (once).
var trackOnce sync.Once

func trackSources(t *testing.T) {
	t.Helper()
	trackOnce.Do(func() {
		_ = filepath.WalkDir(testenv.RepoRoot(), func(p string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return nil
			case d.IsDir() && (d.Name() == "var" || d.Name() == ".git" || d.Name() == "testdata"):
				return filepath.SkipDir
			case d.IsDir():
				return nil
			}
			switch filepath.Ext(p) {
			case ".go", ".sql", ".js", ".json", ".html", ".css", ".tsv", ".c", ".h", ".cpp":
				_, _ = os.Stat(p)
			}
			return nil
		})
	})
}

// system is one running vidid with its own database.
type system struct {
	base    string
	db      string
	secrets string // the key files the server and the CLI share
}

func vidid(t *testing.T, args ...string) string {
	t.Helper()
	trackSources(t)
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("vidid %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// start migrates and seeds a fresh database and starts `vidid serve`.
func start(t *testing.T, extra ...string) *system {
	t.Helper()
	trackSources(t)
	data := testenv.DataDir(t)
	models := testenv.ModelRoot(t)
	pgtest.New(t)
	db := pgtest.URL(t)
	vidid(t, "migrate", "--db", db)
	secrets := t.TempDir() // the seeding and the server share the register key
	vidid(t, "register", "seed", "--db", db, "--data", data, "--limit", "3", "--secrets", secrets)
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--models", models, "--webrtc-loopback", "--demo",
		"--secrets", secrets}, extra...)
	return &system{base: launch(t, "vidid serving on ", []string{"VIDID_DATA=" + data}, args...), db: db, secrets: secrets}
}

// launch runs the vidid binary with args until the test ends (SIGINT, then
// kill after 15 s) and returns what follows ready on its first stdout line
// that starts with it (the address it serves on). Its stderr is logged if
// the test fails.
func launch(t *testing.T, ready string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, _ := cmd.StdoutPipe()
	logs := &strings.Builder{}
	var mu sync.Mutex
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			mu.Lock()
			t.Logf("%s log:\n%s", args[0], logs.String())
			mu.Unlock()
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), ready); ok {
				addr <- a
			}
		}
	}()
	select {
	case a := <-addr:
		return a
	case <-time.After(90 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("vidid %s did not start:\n%s", args[0], logs.String())
	}
	return ""
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// session opens a session through the demo relying party and returns the
// capture URL.
func (s *system) session(t *testing.T, iin string) string {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(s.base+"/demo/start", url.Values{"iin": {iin}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/capture/") {
		t.Fatalf("demo start: %d, Location %q", resp.StatusCode, loc)
	}
	return s.base + loc
}

// browser starts headless Chromium. With video set, its fake camera plays
// that file; with deny, camera permission is refused.
func browser(t *testing.T, video string, deny bool) context.Context {
	t.Helper()
	ctx, _ := browsertest.Start(t, browsertest.Options{FakeVideo: video, DenyCamera: deny, Width: 800, Height: 900})
	return ctx
}

// watch installs observers that record guidance texts and the time from
// the first video frame to the first guidance text.
const watch = `(() => {
  window.__guidance = [];
  const g = document.getElementById('guidance');
  new MutationObserver(() => {
    const t = g.textContent.trim();
    if (t && window.__guidance[window.__guidance.length-1] !== t) {
      window.__guidance.push(t);
      // The page's own status lines ("Connecting to the server…") end in an
      // ellipsis; the first other text is the server's first guidance.
      if (!window.__firstGuidance && !t.endsWith('…')) window.__firstGuidance = performance.now();
    }
  }).observe(g, {childList: true, characterData: true, subtree: true});
  const v = document.getElementById('video');
  v.addEventListener('loadeddata', () => { window.__firstFrame = performance.now(); });
  return true;
})()`

func guidance(ctx context.Context) []string {
	out, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__guidance || []`))
	return out
}

// waitFor polls a JS expression until it is true.
func waitFor(t *testing.T, ctx context.Context, expr string, within time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return true
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}

// shot saves a screenshot to $VIDID_E2E_SHOTS/name.png when that is set
// (how the README's pictures are made); an empty name takes none.
func shot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("VIDID_E2E_SHOTS")
	if dir == "" || name == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}

func text(ctx context.Context, sel string) string {
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{}).textContent||""`, sel)))
	return strings.TrimSpace(s)
}

// approachVideo is the s01 bona fide clip made to look like an approach:
// the face starts small (the frame widened with a blurred copy of itself)
// and grows as the camera "moves closer".
func approachVideo(t *testing.T) string { return approachVideoOf(t, "s01-apfol-real2.webm") }

// approachVideoOf is approachVideo for another bona fide clip.
func approachVideoOf(t *testing.T, clip string) string {
	src := filepath.Join(testenv.DataDir(t), "video", "bonafide", clip)
	return media.Y4MFilter(t, src, 6, "fps=15,pad=iw*1.4:ih*1.4:(ow-iw)/2:(oh-ih)/2,fillborders=left=128:right=128:top=96:bottom=96:mode=smear,"+
		"zoompan=z='if(lt(it,2),1,min(2.4,1+(it-2)*0.7))':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=1:s=640x480:fps=15")
}
