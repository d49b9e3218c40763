package browsertest

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// MakeY4M converts seconds of a video (any format ffmpeg reads) into a
// w x h, fps YUV4MPEG2 file (4:2:0) in the test's temp folder, for
// Options.FakeVideo. Chromium loops it.
func MakeY4M(t testing.TB, src string, seconds float64, fps, w, h int) string {
	t.Helper()
	return y4m(t, []string{"-i", src}, seconds, fps, w, h)
}

// StillY4M makes a fake camera video of one still image (any format ffmpeg
// reads) shown for seconds, like MakeY4M.
func StillY4M(t testing.TB, image string, seconds float64, fps, w, h int) string {
	t.Helper()
	return y4m(t, []string{"-loop", "1", "-i", image}, seconds, fps, w, h)
}

func y4m(t testing.TB, input []string, seconds float64, fps, w, h int) string {
	t.Helper()
	if seconds <= 0 || fps <= 0 || w <= 0 || h <= 0 || w%2 != 0 || h%2 != 0 {
		t.Fatalf("y4m: %gs at %d fps, %dx%d: need positive values and even sizes", seconds, fps, w, h)
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg not found: install the Debian package ffmpeg (apt-get install ffmpeg)")
	}
	out := filepath.Join(t.TempDir(), fmt.Sprintf("camera-%dx%d.y4m", w, h))
	args := append([]string{"-hide_banner", "-loglevel", "error", "-y"}, input...)
	args = append(args, "-an", "-t", fmt.Sprint(seconds),
		"-vf", fmt.Sprintf("scale=%d:%d,fps=%d", w, h, fps), "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", out)
	if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}
