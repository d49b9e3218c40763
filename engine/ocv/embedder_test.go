package ocv_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"vidid/engine"
	"vidid/engine/ocv"
	"vidid/engine/ocv/ocvtest"
)

type faceStack struct {
	d *ocv.Detector
	l *ocv.Landmarker
	e *ocv.Embedder
}

func newStack(tb testing.TB, threads int) faceStack {
	tb.Helper()
	root := ocvtest.ModelRoot(tb)
	s := faceStack{d: newDetector(tb, ocv.DetectorConfig{ModelRoot: root, Threads: threads}), l: newLandmarker(tb)}
	e, err := ocv.NewEmbedder(ocv.EmbedderConfig{ModelRoot: root, Threads: threads})
	if err != nil {
		tb.Fatalf("NewEmbedder: %v", err)
	}
	tb.Cleanup(func() { e.Close() })
	s.e = e
	return s
}

// face detects faces and returns the one nearest the frame centre, with
// landmarks.
func (s faceStack) face(ctx context.Context, f engine.Frame) (engine.Face, error) {
	faces, err := s.d.Detect(ctx, f)
	if err != nil {
		return engine.Face{}, err
	}
	if len(faces) == 0 {
		return engine.Face{}, engine.ErrNoFace
	}
	c := image.Pt(f.Width/2, f.Height/2)
	best, bestD := 0, math.MaxFloat64
	for i, fc := range faces {
		m := fc.Box.Min.Add(fc.Box.Max).Div(2)
		if d := math.Hypot(float64(m.X-c.X), float64(m.Y-c.Y)); d < bestD {
			best, bestD = i, d
		}
	}
	fc := faces[best]
	fc.Landmarks, err = s.l.Landmarks(ctx, f, fc)
	return fc, err
}

func (s faceStack) embed(ctx context.Context, f engine.Frame) (engine.Embedding, error) {
	fc, err := s.face(ctx, f)
	if err != nil {
		return engine.Embedding{}, err
	}
	return s.e.Embed(ctx, f, fc)
}

func TestEmbedderBasics(t *testing.T) {
	data := ocvtest.DataDir(t)
	s := newStack(t, 0)
	ctx := context.Background()
	if !regexp.MustCompile(`^faceplugin-fr_feature@[0-9a-f]{8}$`).MatchString(s.e.Model()) || s.e.Model() != "faceplugin-fr_feature@87aacdfe" {
		t.Fatalf("Model() = %q", s.e.Model())
	}
	a := ocvtest.Load(t, filepath.Join(data, "faces/o4n-rick/1.jpg"))
	b := ocvtest.Load(t, filepath.Join(data, "faces/o4n-daryl/1.jpg"))
	ea, err := s.embed(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if ea.Model != s.e.Model() || ea.Metric != engine.Cosine || len(ea.Vector) != 512 {
		t.Fatalf("embedding %q %q len %d", ea.Model, ea.Metric, len(ea.Vector))
	}
	var n float64
	for _, v := range ea.Vector {
		n += float64(v) * float64(v)
	}
	if math.Abs(n-1) > 1e-4 {
		t.Fatalf("|v|^2 = %v, want 1", n)
	}
	// Buffers are reused between calls: an embedding of another face in
	// between must not change the result for the first.
	if _, err := s.embed(ctx, b); err != nil {
		t.Fatal(err)
	}
	again, err := s.embed(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ea.Vector {
		if ea.Vector[i] != again.Vector[i] {
			t.Fatalf("embedding changed between identical calls at %d: %v vs %v", i, ea.Vector[i], again.Vector[i])
		}
	}
	// The same photo, mirrored, is still the same person and scores above
	// another person.
	em, err := s.embed(ctx, ocvtest.Flip(a))
	if err != nil {
		t.Fatal(err)
	}
	eb, err := s.embed(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	same, _ := engine.Score(ea, em)
	diff, _ := engine.Score(ea, eb)
	t.Logf("score mirrored same photo %.3f, other person %.3f", same, diff)
	if !(same > diff) {
		t.Fatalf("mirrored same photo %.3f not above other person %.3f", same, diff)
	}

	fc, err := s.face(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	chip, err := s.e.Align(ctx, a, fc)
	if err != nil || chip.Width != ocv.ChipSize || chip.Height != ocv.ChipSize || chip.Validate() != nil {
		t.Fatalf("Align: %dx%d, %v", chip.Width, chip.Height, err)
	}
	// On the chip, the eyes sit on the ArcFace template: locate them again
	// and compare. (Only the eyes: the landmark model expects a looser crop
	// than the tight chip and places nose and mouth lower on it.)
	chipLM, err := s.l.Landmarks(ctx, chip, engine.Face{Box: image.Rect(0, 0, ocv.ChipSize, ocv.ChipSize)})
	if err != nil {
		t.Fatal(err)
	}
	five, err := ocv.FivePoints(chipLM)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range five[:2] {
		q := ocv.ArcFaceTemplate[i]
		if d := math.Hypot(float64(p.X-q.X), float64(p.Y-q.Y)); d > 6 {
			t.Errorf("chip point %d at (%.1f,%.1f), template (%.1f,%.1f): %.1f px off", i, p.X, p.Y, q.X, q.Y, d)
		}
	}
	fc.Landmarks = nil
	if _, err := s.e.Embed(ctx, a, fc); !errors.Is(err, ocv.ErrNoLandmarks) {
		t.Fatalf("Embed without landmarks: %v, want ErrNoLandmarks", err)
	}
	fc.Landmarks = make([]engine.Point, 68) // all at the origin
	if _, err := s.e.Embed(ctx, a, fc); !errors.Is(err, ocv.ErrBadFace) {
		t.Fatalf("Embed with collapsed landmarks: %v, want ErrBadFace", err)
	}
	good, _ := s.face(ctx, a)
	shifted := make([]engine.Point, 68)
	for i, p := range good.Landmarks {
		shifted[i] = engine.Point{X: p.X + float32(a.Width), Y: p.Y}
	}
	fc.Landmarks = shifted
	if _, err := s.e.Embed(ctx, a, fc); !errors.Is(err, ocv.ErrBadFace) {
		t.Fatalf("Embed with landmarks outside the frame: %v, want ErrBadFace", err)
	}
	if err := s.e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	fc.Landmarks = make([]engine.Point, 68)
	for i := range fc.Landmarks {
		fc.Landmarks[i] = engine.Point{X: float32(i), Y: float32(i % 7)}
	}
	if _, err := s.e.Embed(ctx, a, fc); !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("Embed after Close: %v", err)
	}
}

type pair struct {
	same        bool
	left, right string
}

func readPairs(tb testing.TB, path string) []pair {
	fh, err := os.Open(path)
	if err != nil {
		tb.Fatalf("pairs: %v", err)
	}
	defer fh.Close()
	var out []pair
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 3 || strings.HasPrefix(c[0], "#") {
			continue
		}
		out = append(out, pair{same: c[0] == "1", left: c[1], right: c[2]})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// samplePairs takes n/2 same and n/2 different pairs spread evenly over the
// file (deterministic).
func samplePairs(all []pair, n int) []pair {
	var same, diff []pair
	for _, p := range all {
		if p.same {
			same = append(same, p)
		} else {
			diff = append(diff, p)
		}
	}
	pick := func(ps []pair, k int) []pair {
		var out []pair
		for i := 0; i < k && len(ps) > 0; i++ {
			out = append(out, ps[i*len(ps)/k])
		}
		return out
	}
	return append(pick(same, n/2), pick(diff, n/2)...)
}

// aucEER returns the ROC AUC (Mann-Whitney, ties count half) and the equal
// error rate with its threshold.
func aucEER(gen, imp []float64) (auc, eer, thr float64) {
	var wins float64
	for _, g := range gen {
		for _, i := range imp {
			switch {
			case g > i:
				wins++
			case g == i:
				wins += 0.5
			}
		}
	}
	auc = wins / float64(len(gen)*len(imp))
	ts := append(append([]float64(nil), gen...), imp...)
	sort.Float64s(ts)
	best := math.Inf(1)
	for _, t := range ts {
		var fnm, fm float64
		for _, g := range gen {
			if g < t {
				fnm++
			}
		}
		for _, i := range imp {
			if i >= t {
				fm++
			}
		}
		fnmr, fmr := fnm/float64(len(gen)), fm/float64(len(imp))
		if d := math.Abs(fnmr - fmr); d < best {
			best, eer, thr = d, (fnmr+fmr)/2, t
		}
	}
	return auc, eer, thr
}

// On 200 LFW pairs (100 same, 100 different; VIDID_LFW_PAIRS sets another count) same-person pairs must score
// above different-person pairs: AUC > 0.95 (~0.999 on all of LFW per
// MODELS.md; a broken alignment gives ~0.7). LFW's 150x150 images are
// upscaled to 250x250 first, and the face nearest the centre is used.
func TestEmbedderLFWPairs(t *testing.T) {
	data := ocvtest.DataDir(t)
	s := newStack(t, 0)
	ctx := context.Background()
	n := 200
	if v := os.Getenv("VIDID_LFW_PAIRS"); v != "" { // e.g. 2200 for every pair
		if _, err := fmt.Sscan(v, &n); err != nil || n < 2 {
			t.Fatalf("VIDID_LFW_PAIRS=%q: want a number >= 2", v)
		}
	}
	pairs := samplePairs(readPairs(t, filepath.Join(data, "faces", "lfw-pairs.tsv")), n)
	cache := map[string]engine.Embedding{}
	failed := map[string]error{}
	emb := func(rel string) (engine.Embedding, error) {
		if e, ok := cache[rel]; ok {
			return e, nil
		}
		if err, ok := failed[rel]; ok {
			return engine.Embedding{}, err
		}
		f := ocvtest.Load(t, filepath.Join(data, "faces", rel))
		e, err := s.embed(ctx, ocvtest.Resize(f, 250, 250))
		if err != nil {
			failed[rel] = err
			return e, err
		}
		cache[rel] = e
		return e, nil
	}
	var gen, imp []float64
	skipped := 0
	for _, p := range pairs {
		a, errA := emb(p.left)
		b, errB := emb(p.right)
		if errA != nil || errB != nil {
			skipped++
			t.Logf("pair %s / %s: no face (%v, %v)", p.left, p.right, errA, errB)
			continue
		}
		sc, err := engine.Score(a, b)
		if err != nil {
			t.Fatal(err)
		}
		cos := 2*sc - 1
		if p.same {
			gen = append(gen, cos)
		} else {
			imp = append(imp, cos)
		}
	}
	if skipped > len(pairs)/50 {
		t.Fatalf("%d of %d pairs had an image without a detected face", skipped, len(pairs))
	}
	auc, eer, thr := aucEER(gen, imp)
	msg := fmt.Sprintf("LFW %d genuine / %d impostor pairs (%d skipped): AUC %.4f, EER %.1f%% at cosine %.3f; genuine median %.3f, impostor median %.3f",
		len(gen), len(imp), skipped, auc, 100*eer, thr, ocvtest.Median(append([]float64(nil), gen...)), ocvtest.Median(append([]float64(nil), imp...)))
	t.Log(msg)
	if auc <= 0.95 {
		t.Fatalf("AUC %.4f <= 0.95: %s", auc, msg)
	}
}
