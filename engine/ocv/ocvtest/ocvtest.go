// Package ocvtest holds test helpers shared by engine/ocv and liveness/ocv:
// locating the real models and test data, loading images as frames and
// composing webcam-like 640x480 frames. It imports no cgo.
package ocvtest

import (
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"vidid/engine"
)

// RepoRoot returns the module root (the nearest folder upwards holding go.mod).
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("getwd: %v", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			tb.Fatalf("no go.mod above %s", dir)
		}
	}
}

// Real marks a test that needs the real models and data: it is skipped under
// -short and otherwise runs (failing loudly if they are absent).
func Real(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("real-model test: skipped under -short")
	}
}

// ModelRoot returns $VIDID_MODELS or <repo>/var/models, and fails the test
// if the Faceplugin models are not there. Skips under -short.
func ModelRoot(tb testing.TB) string {
	tb.Helper()
	Real(tb)
	root := os.Getenv("VIDID_MODELS")
	if root == "" {
		root = filepath.Join(RepoRoot(tb), "var", "models")
	}
	if _, err := os.Stat(filepath.Join(root, "faceplugin", "fr_detect.onnx")); err != nil {
		tb.Fatalf("models not found under %s (%v): run `make models` or set VIDID_MODELS", root, err)
	}
	return root
}

// DataDir returns $VIDID_DATA or <repo>/../shared/data, and fails the test
// if it is absent. Skips under -short.
func DataDir(tb testing.TB) string {
	tb.Helper()
	Real(tb)
	dir := os.Getenv("VIDID_DATA")
	if dir == "" {
		dir = filepath.Join(RepoRoot(tb), "..", "shared", "data")
	}
	if _, err := os.Stat(filepath.Join(dir, "faces")); err != nil {
		tb.Fatalf("test data not found at %s (%v): set VIDID_DATA to the shared data folder", dir, err)
	}
	return dir
}

// Glob returns the sorted matches of pattern under the data dir and fails if
// there are none.
func Glob(tb testing.TB, dataDir, pattern string) []string {
	tb.Helper()
	m, err := filepath.Glob(filepath.Join(dataDir, pattern))
	if err != nil || len(m) == 0 {
		tb.Fatalf("no test files match %s under %s (%v)", pattern, dataDir, err)
	}
	sort.Strings(m)
	return m
}

// Load decodes an image file into a frame, failing the test on error.
func Load(tb testing.TB, path string) engine.Frame {
	tb.Helper()
	f, err := engine.LoadImage(path)
	if err != nil {
		tb.Fatalf("load %s: %v", path, err)
	}
	return f
}

// Resize scales f to w x h with bilinear interpolation (pure Go; for tests).
func Resize(f engine.Frame, w, h int) engine.Frame {
	out := engine.Frame{Width: w, Height: h, Pix: make([]byte, w*h*3)}
	sx, sy := float64(f.Width)/float64(w), float64(f.Height)/float64(h)
	for y := 0; y < h; y++ {
		fy := (float64(y)+0.5)*sy - 0.5
		y0 := int(math.Floor(fy))
		wy := fy - float64(y0)
		y0c, y1c := clampInt(y0, 0, f.Height-1), clampInt(y0+1, 0, f.Height-1)
		for x := 0; x < w; x++ {
			fx := (float64(x)+0.5)*sx - 0.5
			x0 := int(math.Floor(fx))
			wx := fx - float64(x0)
			x0c, x1c := clampInt(x0, 0, f.Width-1), clampInt(x0+1, 0, f.Width-1)
			for c := 0; c < 3; c++ {
				p00 := float64(f.Pix[(y0c*f.Width+x0c)*3+c])
				p01 := float64(f.Pix[(y0c*f.Width+x1c)*3+c])
				p10 := float64(f.Pix[(y1c*f.Width+x0c)*3+c])
				p11 := float64(f.Pix[(y1c*f.Width+x1c)*3+c])
				v := (p00*(1-wx)+p01*wx)*(1-wy) + (p10*(1-wx)+p11*wx)*wy
				out.Pix[(y*w+x)*3+c] = uint8(math.Round(v))
			}
		}
	}
	return out
}

func clampInt(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// Webcam composes a 640x480 frame from photo f in which the face box
// (in f's coordinates) is scaled to frac of the frame height and centred;
// areas outside the photo are mid-grey. It mimics a selfie frame.
func Webcam(f engine.Frame, face image.Rectangle, frac float64) (engine.Frame, error) {
	const w, h = 640, 480
	if face.Dy() <= 0 {
		return engine.Frame{}, fmt.Errorf("webcam: empty face box")
	}
	s := frac * h / float64(face.Dy())
	sw, sh := int(math.Round(float64(f.Width)*s)), int(math.Round(float64(f.Height)*s))
	if sw < 1 || sh < 1 {
		return engine.Frame{}, fmt.Errorf("webcam: scale %.3f too small", s)
	}
	scaled := Resize(f, sw, sh)
	cx := (float64(face.Min.X) + float64(face.Dx())/2) * s
	cy := (float64(face.Min.Y) + float64(face.Dy())/2) * s
	ox, oy := int(math.Round(w/2-cx)), int(math.Round(h/2-cy))
	out := engine.Frame{Width: w, Height: h, Pix: make([]byte, w*h*3)}
	for i := range out.Pix {
		out.Pix[i] = 128
	}
	for y := 0; y < h; y++ {
		sy := y - oy
		if sy < 0 || sy >= sh {
			continue
		}
		for x := 0; x < w; x++ {
			sx := x - ox
			if sx < 0 || sx >= sw {
				continue
			}
			copy(out.Pix[(y*w+x)*3:(y*w+x)*3+3], scaled.Pix[(sy*sw+sx)*3:(sy*sw+sx)*3+3])
		}
	}
	return out, nil
}

// Flip mirrors f horizontally.
func Flip(f engine.Frame) engine.Frame {
	out := engine.Frame{Width: f.Width, Height: f.Height, Pix: make([]byte, len(f.Pix))}
	for y := 0; y < f.Height; y++ {
		for x := 0; x < f.Width; x++ {
			copy(out.Pix[(y*f.Width+x)*3:(y*f.Width+x)*3+3], f.Pix[(y*f.Width+f.Width-1-x)*3:(y*f.Width+f.Width-1-x)*3+3])
		}
	}
	return out
}

// Median returns the median of v (NaN for none). v is sorted in place.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// Rotate turns f about its centre by deg degrees, clockwise as seen in the
// image (y grows downwards), with bilinear sampling and mid-grey fill.
func Rotate(f engine.Frame, deg float64) engine.Frame {
	out := engine.Frame{Width: f.Width, Height: f.Height, Pix: make([]byte, len(f.Pix))}
	s, c := math.Sincos(deg * math.Pi / 180)
	cx, cy := float64(f.Width-1)/2, float64(f.Height-1)/2
	for y := 0; y < f.Height; y++ {
		for x := 0; x < f.Width; x++ {
			// Inverse map: source = R(-deg) * (dest - centre) + centre.
			dx, dy := float64(x)-cx, float64(y)-cy
			sx, sy := c*dx+s*dy+cx, -s*dx+c*dy+cy
			i := (y*f.Width + x) * 3
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			if x0 < 0 || y0 < 0 || x0+1 >= f.Width || y0+1 >= f.Height {
				out.Pix[i], out.Pix[i+1], out.Pix[i+2] = 128, 128, 128
				continue
			}
			wx, wy := sx-float64(x0), sy-float64(y0)
			for ch := 0; ch < 3; ch++ {
				p := func(xx, yy int) float64 { return float64(f.Pix[(yy*f.Width+xx)*3+ch]) }
				v := (p(x0, y0)*(1-wx)+p(x0+1, y0)*wx)*(1-wy) + (p(x0, y0+1)*(1-wx)+p(x0+1, y0+1)*wx)*wy
				out.Pix[i+ch] = uint8(math.Round(v))
			}
		}
	}
	return out
}
