package dlib

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"vidid/engine"
)

// repoRoot walks up from the test's working directory to go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// needModels skips under -short: everything that loads dlib's models or the
// shared data is a long test.
func needModels(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("loads dlib models and shared data; skipped under -short")
	}
}

// dataDir is $VIDID_DATA or <repo>/../shared/data.
func dataDir(t testing.TB) string {
	t.Helper()
	d := os.Getenv("VIDID_DATA")
	if d == "" {
		d = filepath.Join(repoRoot(t), "..", "shared", "data")
	}
	if _, err := os.Stat(filepath.Join(d, "faces", "lfw-pairs.tsv")); err != nil {
		t.Fatalf("test data not found at %s (set VIDID_DATA to the shared data folder): %v", d, err)
	}
	return d
}

// modelRoot is $VIDID_MODELS or <repo>/var/models.
func modelRoot(t testing.TB) string {
	t.Helper()
	d := os.Getenv("VIDID_MODELS")
	if d == "" {
		d = filepath.Join(repoRoot(t), "var", "models")
	}
	for _, name := range modelFiles {
		if _, err := os.Stat(filepath.Join(d, ModelSubdir, name)); err != nil {
			t.Fatalf("dlib model missing (run `make models` or set VIDID_MODELS): %v", err)
		}
	}
	return d
}

// Shared instances: loading the models takes about a second and 130 MB each.
var (
	sharedMu  sync.Mutex
	sharedEmb *Embedder
	sharedDet map[float64]*Detector
)

func sharedEmbedder(t testing.TB) *Embedder {
	t.Helper()
	needModels(t)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedEmb == nil {
		e, err := NewEmbedder(Config{ModelRoot: modelRoot(t)})
		if err != nil {
			t.Fatalf("NewEmbedder: %v", err)
		}
		sharedEmb = e
	}
	return sharedEmb
}

func sharedDetector(t testing.TB, upscale float64) *Detector {
	t.Helper()
	needModels(t)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if d := sharedDet[upscale]; d != nil {
		return d
	}
	d, err := NewDetector(DetectorConfig{ModelRoot: modelRoot(t), Upscale: upscale})
	if err != nil {
		t.Fatalf("NewDetector: %v", err)
	}
	if sharedDet == nil {
		sharedDet = map[float64]*Detector{}
	}
	sharedDet[upscale] = d
	return d
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedEmb != nil {
		sharedEmb.Close()
	}
	for _, d := range sharedDet {
		d.Close()
	}
	os.Exit(code)
}

func loadFrame(t testing.TB, path string) engine.Frame {
	t.Helper()
	f, err := engine.LoadImage(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return f
}

// centralFace detects faces and returns the one whose centre is closest to
// the frame's centre (LFW images may hold a second, smaller face).
func centralFace(ctx context.Context, t testing.TB, d *Detector, f engine.Frame) (engine.Face, bool) {
	t.Helper()
	faces, err := d.Detect(ctx, f)
	if err != nil {
		t.Fatalf("detect: %v", err)
	}
	if len(faces) == 0 {
		return engine.Face{}, false
	}
	cx, cy := f.Width/2, f.Height/2
	best, bestD := 0, -1
	for i, fc := range faces {
		c := fc.Box.Min.Add(fc.Box.Max).Div(2)
		dd := (c.X-cx)*(c.X-cx) + (c.Y-cy)*(c.Y-cy)
		if bestD < 0 || dd < bestD {
			best, bestD = i, dd
		}
	}
	return faces[best], true
}

type pair struct {
	same        bool
	left, right string
}

// readPairs reads lfw-pairs.tsv and keeps every nth pair of each class.
func readPairs(t testing.TB, path string, every int) []pair {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []pair
	seen := map[bool]int{}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 3 || (c[0] != "0" && c[0] != "1") {
			t.Fatalf("%s: bad line %q", path, line)
		}
		same := c[0] == "1"
		if seen[same]%every == 0 {
			out = append(out, pair{same: same, left: c[1], right: c[2]})
		}
		seen[same]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// auc is the Mann-Whitney estimate of P(genuine score > impostor score),
// ties counting one half.
func auc(genuine, impostor []float64) float64 {
	var s float64
	for _, g := range genuine {
		for _, i := range impostor {
			switch {
			case g > i:
				s++
			case g == i:
				s += 0.5
			}
		}
	}
	return s / float64(len(genuine)*len(impostor))
}

// eer returns the equal error rate and the score threshold where the false
// non-match rate (genuine < th) and false match rate (impostor >= th) meet.
func eer(genuine, impostor []float64) (rate, threshold float64) {
	ths := append(append([]float64{}, genuine...), impostor...)
	sort.Float64s(ths)
	bestGap := 2.0
	for _, th := range ths {
		var fnm, fm int
		for _, g := range genuine {
			if g < th {
				fnm++
			}
		}
		for _, i := range impostor {
			if i >= th {
				fm++
			}
		}
		fnmr, fmr := float64(fnm)/float64(len(genuine)), float64(fm)/float64(len(impostor))
		gap := fnmr - fmr
		if gap < 0 {
			gap = -gap
		}
		if gap < bestGap {
			bestGap, rate, threshold = gap, (fnmr+fmr)/2, th
		}
	}
	return rate, threshold
}
