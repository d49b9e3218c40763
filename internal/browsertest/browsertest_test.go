package browsertest

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vidid/internal/testenv"
)

// cameraPage asks for the camera and reports into #out either the video's
// size and the mean colour of the latest frame ("640x480 rgb(250,3,2)",
// updated as frames arrive: the first ones can be black) or the error's
// name ("error NotAllowedError"); it also logs to the console.
const cameraPage = `<!doctype html>
<meta charset="utf-8"><title>camera</title>
<video id="v" autoplay muted playsinline></video>
<p id="out">waiting</p>
<p id="lang"></p>
<script>
const out = document.getElementById('out');
document.getElementById('lang').textContent = navigator.language;
console.log('page loaded');
navigator.mediaDevices.getUserMedia({video: true, audio: false}).then(stream => {
  const v = document.getElementById('v');
  v.srcObject = stream;
  let frames = 0;
  const measure = () => {
    const c = document.createElement('canvas');
    c.width = v.videoWidth; c.height = v.videoHeight;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let r = 0, gr = 0, b = 0;
    for (let i = 0; i < d.length; i += 4) { r += d[i]; gr += d[i+1]; b += d[i+2]; }
    const n = d.length / 4;
    out.textContent = v.videoWidth + 'x' + v.videoHeight +
      ' rgb(' + Math.round(r/n) + ',' + Math.round(gr/n) + ',' + Math.round(b/n) + ')';
    if (frames++ === 0) console.log('camera ' + v.videoWidth + 'x' + v.videoHeight);
    v.requestVideoFrameCallback(measure);
  };
  v.requestVideoFrameCallback(measure);
}).catch(e => {
  out.textContent = 'error ' + e.name;
  console.error('camera refused: ' + e.name);
});
</script>`

func serve(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, cameraPage)
	}))
	t.Cleanup(srv.Close)
	return srv.URL // http://127.0.0.1:port: a secure context for getUserMedia
}

// result polls the page's report until ok accepts it (or 30 s pass) and
// returns the last one.
func result(t *testing.T, read func() (string, error), ok func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := read()
		if err != nil {
			t.Fatalf("read page: %v", err)
		}
		if s != "waiting" && ok(s) || time.Now().After(deadline) {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logRecorder is the test's TB with its log lines also kept.
type logRecorder struct {
	testing.TB
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) Logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
	l.TB.Logf(format, args...)
}

func (l *logRecorder) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// openCamera opens the camera page and returns its report once ok accepts
// it (or the last one).
func openCamera(t *testing.T, tb testing.TB, opts Options, ok func(string) bool) (out, lang string) {
	t.Helper()
	ctx, cancel := Start(tb, opts)
	defer cancel()
	url := serve(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open page: %v", err)
	}
	out = result(t, func() (string, error) {
		return chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('out').textContent`))
	}, ok)
	lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('lang').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	return out, lang
}

// TestFakeCameraPlaysVideo: the page's camera is the converted test video,
// at the size MakeY4M made.
func TestFakeCameraPlaysVideo(t *testing.T) {
	src := filepath.Join(testenv.DataDir(t), "video", "bonafide", "s01-apfol-real2.webm")
	y4m := MakeY4M(t, src, 2, 15, 320, 240)
	checkY4MHeader(t, y4m, "W320 H240 F15:1")
	isSize := func(s string) bool { return strings.HasPrefix(s, "320x240 ") }
	out, _ := openCamera(t, t, Options{FakeVideo: y4m}, isSize)
	if !isSize(out) {
		t.Fatalf("page reported %q, want a 320x240 camera", out)
	}
}

// TestFakeCameraStill: a still image becomes the camera (a red picture
// gives red frames, not Chromium's own green test pattern); the console
// reaches the test log; the language is the one asked for.
func TestFakeCameraStill(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = 250, 0, 0, 255
	}
	path := filepath.Join(t.TempDir(), "red.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	y4m := StillY4M(t, path, 1, 10, 640, 480)
	checkY4MHeader(t, y4m, "W640 H480 F10:1")

	var w, h, r, g, b int
	red := func(s string) bool {
		_, err := fmt.Sscanf(s, "%dx%d rgb(%d,%d,%d)", &w, &h, &r, &g, &b)
		return err == nil && w == 640 && h == 480 && r >= 200 && g <= 40 && b <= 40
	}
	rec := &logRecorder{TB: t}
	out, lang := openCamera(t, rec, Options{FakeVideo: y4m, Lang: "kk"}, red)
	if !red(out) {
		t.Fatalf("page reported %q (mean colour %v), want a 640x480 red camera", out, color.RGBA{uint8(r), uint8(g), uint8(b), 255})
	}
	if !strings.HasPrefix(lang, "kk") {
		t.Errorf("navigator.language = %q, want kk", lang)
	}
	if !rec.has("browser console log: page loaded") || !rec.has("browser console log: camera 640x480") {
		t.Errorf("the page's console did not reach the test log")
	}
}

// TestCameraDenied: with DenyCamera, getUserMedia fails with
// NotAllowedError, and console errors reach the log.
func TestCameraDenied(t *testing.T) {
	rec := &logRecorder{TB: t}
	out, _ := openCamera(t, rec, Options{DenyCamera: true}, func(s string) bool { return strings.HasPrefix(s, "error") })
	if out != "error NotAllowedError" {
		t.Fatalf("page reported %q, want error NotAllowedError", out)
	}
	if !rec.has("browser console error: camera refused: NotAllowedError") {
		t.Errorf("console error not in the test log")
	}
}

// checkY4MHeader checks the YUV4MPEG2 stream header for size and rate.
func checkY4MHeader(t *testing.T, path, want string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if !strings.HasPrefix(line, "YUV4MPEG2 ") {
		t.Fatalf("%s is not YUV4MPEG2: %q", path, line)
	}
	for _, field := range strings.Fields(want) {
		if !strings.Contains(" "+line, " "+field) {
			t.Fatalf("%s header %q lacks %s", path, strings.TrimSpace(line), field)
		}
	}
}

// fatalRecorder keeps a Fatalf message and stops the goroutine, as
// testing's own Fatalf does, without failing the real test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestMissingChromium: without a browser the test fails (not skips) and
// says what to install.
func TestMissingChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("Start skips under -short before looking for Chromium")
	}
	t.Setenv("VIDID_CHROMIUM", filepath.Join(t.TempDir(), "no-such-chromium"))
	msg := fatalOf(t, func(tb testing.TB) { Start(tb, Options{}) })
	if !strings.Contains(msg, "apt-get install chromium") {
		t.Fatalf("message %q does not name the package to install", msg)
	}
}

// fatalOf runs f with a TB that keeps f's Fatalf message instead of failing
// t, and returns the message; f returning without a Fatalf fails t.
func fatalOf(t *testing.T, f func(testing.TB)) string {
	t.Helper()
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(rec)
		t.Error("returned without failing the test")
	}()
	<-done
	return rec.msg
}

// TestMissingAxe: without axe-core the accessibility check fails (not
// skips) and says how to install it.
func TestMissingAxe(t *testing.T) {
	if testing.Short() {
		t.Skip("Axe skips under -short before looking for axe-core")
	}
	t.Setenv("VIDID_AXE", filepath.Join(t.TempDir(), "axe.min.js"))
	msg := fatalOf(t, func(tb testing.TB) { Axe(tb, context.Background()) })
	if !strings.Contains(msg, "make npm-deps") {
		t.Fatalf("message %q does not say how to install axe-core", msg)
	}
}
