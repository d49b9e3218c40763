// Package media prepares test media from the public test videos: VP8 IVF
// streams (for feeding pion and the decoder) and Y4M files (for Chromium's
// fake camera), made with ffmpeg into a test's temp folder.
package media

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
)

// ffmpeg runs ffmpeg or fails the test with its output.
func ffmpeg(t testing.TB, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatalf("ffmpeg not found (Debian package ffmpeg; make deps installs it)")
	}
	out, err := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// IVF converts a video to a VP8 IVF stream at w x h (re-encoded at the
// given frame rate; seconds <= 0 keeps the whole clip).
func IVF(t testing.TB, src string, w, h, fps int, seconds float64) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "clip.ivf")
	args := []string{"-i", src, "-an"}
	if seconds > 0 {
		args = append(args, "-t", fmt.Sprint(seconds))
	}
	args = append(args, "-vf", fmt.Sprintf("scale=%d:%d,fps=%d", w, h, fps), "-c:v", "libvpx", "-b:v", "1M",
		"-deadline", "realtime", "-cpu-used", "8", "-g", "30", "-f", "ivf", out)
	ffmpeg(t, args...)
	return out
}

// Y4M converts a video (or, with loop, a still image) to a raw YUV4MPEG2
// file at w x h and fps for Chromium's --use-file-for-fake-video-capture.
// filter, when not empty, is an extra ffmpeg video filter applied first.
func Y4M(t testing.TB, src string, w, h, fps int, seconds float64, filter string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "camera.y4m")
	args := []string{}
	if ext := strings.ToLower(filepath.Ext(src)); ext == ".jpg" || ext == ".png" {
		args = append(args, "-loop", "1")
	}
	args = append(args, "-i", src, "-an", "-t", fmt.Sprint(seconds))
	vf := fmt.Sprintf("scale=%d:%d,fps=%d", w, h, fps)
	if filter != "" {
		vf = filter + "," + vf
	}
	args = append(args, "-vf", vf, "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", out)
	ffmpeg(t, args...)
	return out
}

// Y4MFilter renders seconds of src through an ffmpeg filter graph (one
// input, one output) to a YUV4MPEG2 file.
func Y4MFilter(t testing.TB, src string, seconds float64, graph string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "camera.y4m")
	ffmpeg(t, "-i", src, "-an", "-t", fmt.Sprint(seconds), "-filter_complex", "[0]"+graph, "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", out)
	return out
}

// ReadIVF returns every frame of a VP8 IVF file (as IVF makes), failing the
// test on a read error or an empty stream.
func ReadIVF(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var out [][]byte
	for {
		fr, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		out = append(out, fr)
	}
	if len(out) == 0 {
		t.Fatalf("no frames in %s", path)
	}
	return out
}
