package ocv

import (
	"errors"
	"image"
	"math"
	"math/rand"
	"testing"

	"gocv.io/x/gocv"

	"vidid/engine"
)

func sse(a Affine, src, dst []engine.Point) float64 {
	var s float64
	for i := range src {
		x, y := float64(src[i].X), float64(src[i].Y)
		dx := a[0]*x + a[1]*y + a[2] - float64(dst[i].X)
		dy := a[3]*x + a[4]*y + a[5] - float64(dst[i].Y)
		s += dx*dx + dy*dy
	}
	return s
}

func similarity(scale, angle, tx, ty float64) Affine {
	c, s := scale*math.Cos(angle), scale*math.Sin(angle)
	return Affine{c, -s, tx, s, c, ty}
}

func TestSimilarityTransformRecoversExact(t *testing.T) {
	src := []engine.Point{{X: 130, Y: 210}, {X: 190, Y: 205}, {X: 160, Y: 245}, {X: 138, Y: 280}, {X: 185, Y: 276}}
	for _, tc := range []struct {
		name                 string
		scale, angle, tx, ty float64
	}{
		{"identity", 1, 0, 0, 0},
		{"shrink and shift", 0.5, 0, -20, 7},
		{"rotate 30", 1.3, math.Pi / 6, 4, -9},
		{"rotate -100", 0.25, -100 * math.Pi / 180, 300, 12},
		{"upside down", 2, math.Pi, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := similarity(tc.scale, tc.angle, tc.tx, tc.ty)
			dst := make([]engine.Point, len(src))
			for i, p := range src {
				dst[i] = want.Apply(p)
			}
			got, err := SimilarityTransform(src, dst)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if math.Abs(got[i]-want[i]) > 1e-4*math.Max(1, math.Abs(want[i])) {
					t.Fatalf("got %v, want %v", got, want)
				}
			}
		})
	}
}

// The fit must be the least-squares optimum within similarity transforms:
// no small change of scale, angle or shift lowers the squared error.
func TestSimilarityTransformIsLeastSquares(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for trial := 0; trial < 50; trial++ {
		src := make([]engine.Point, 5)
		dst := make([]engine.Point, 5)
		for i := range src {
			src[i] = engine.Point{X: float32(rng.Float64() * 200), Y: float32(rng.Float64() * 200)}
			dst[i] = engine.Point{X: float32(rng.Float64() * 112), Y: float32(rng.Float64() * 112)}
		}
		a, err := SimilarityTransform(src, dst)
		if err != nil {
			t.Fatal(err)
		}
		// a is [p -q tx; q p ty]: perturb the four free parameters.
		best := sse(a, src, dst)
		for k, idx := range [][]int{{0, 4}, {3}, {2}, {5}} {
			for _, eps := range []float64{1e-3, -1e-3} {
				b := a
				for _, i := range idx {
					b[i] += eps
				}
				if k == 1 { // q appears as +q at [3] and -q at [1]
					b[1] -= eps
				}
				if got := sse(b, src, dst); got < best-1e-6 {
					t.Fatalf("trial %d: perturbing parameter %d by %g lowers SSE %.6f -> %.6f", trial, k, eps, best, got)
				}
			}
		}
		if a[0] != a[4] || a[1] != -a[3] {
			t.Fatalf("not a similarity: %v", a)
		}
	}
}

// Cross-check against OpenCV's estimateAffinePartial2D on nearly exact
// points (RANSAC keeps every point, and its refinement is least squares).
func TestSimilarityTransformMatchesOpenCV(t *testing.T) {
	src := []engine.Point{{X: 131.2, Y: 210.4}, {X: 190.8, Y: 204.1}, {X: 161.5, Y: 246.3}, {X: 138.9, Y: 279.6}, {X: 185.2, Y: 276.8}}
	want := similarity(0.61, 0.12, -40, -70)
	dst := make([]engine.Point, len(src))
	rng := rand.New(rand.NewSource(3))
	for i, p := range src {
		q := want.Apply(p)
		dst[i] = engine.Point{X: q.X + float32(rng.NormFloat64()*0.3), Y: q.Y + float32(rng.NormFloat64()*0.3)}
	}
	got, err := SimilarityTransform(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	var fp, tp []gocv.Point2f
	for i := range src {
		fp = append(fp, gocv.Point2f{X: src[i].X, Y: src[i].Y})
		tp = append(tp, gocv.Point2f{X: dst[i].X, Y: dst[i].Y})
	}
	from, to := gocv.NewPoint2fVectorFromPoints(fp), gocv.NewPoint2fVectorFromPoints(tp)
	defer from.Close()
	defer to.Close()
	m := gocv.EstimateAffinePartial2D(from, to)
	defer m.Close()
	if m.Empty() {
		t.Fatal("OpenCV returned no transform")
	}
	for r := 0; r < 2; r++ {
		for c := 0; c < 3; c++ {
			if d := math.Abs(m.GetDoubleAt(r, c) - got[r*3+c]); d > 0.05*math.Max(1, math.Abs(got[r*3+c])) {
				t.Fatalf("element (%d,%d): OpenCV %.5f, ours %.5f", r, c, m.GetDoubleAt(r, c), got[r*3+c])
			}
		}
	}
}

func TestSimilarityTransformErrors(t *testing.T) {
	p := engine.Point{X: 3, Y: 4}
	for _, tc := range []struct {
		name     string
		src, dst []engine.Point
		sentinel error
	}{
		{"lengths differ", []engine.Point{p, p}, []engine.Point{p}, nil},
		{"one point", []engine.Point{p}, []engine.Point{p}, ErrDegenerate},
		{"source coincides", []engine.Point{p, p, p}, []engine.Point{{X: 1}, {X: 2}, {X: 3}}, ErrDegenerate},
		{"target coincides", []engine.Point{{X: 1}, {X: 2}, {X: 3}}, []engine.Point{p, p, p}, ErrDegenerate},
		{"NaN", []engine.Point{{X: float32(math.NaN())}, {X: 2}}, []engine.Point{{X: 1}, {X: 2}}, ErrDegenerate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := SimilarityTransform(tc.src, tc.dst)
			if err == nil || (tc.sentinel != nil && !errors.Is(err, tc.sentinel)) {
				t.Fatalf("err = %v, want %v", err, tc.sentinel)
			}
		})
	}
}

func TestFivePoints(t *testing.T) {
	lm := make([]engine.Point, 68)
	for i := range lm {
		lm[i] = engine.Point{X: float32(i), Y: float32(2 * i)}
	}
	got, err := FivePoints(lm)
	if err != nil {
		t.Fatal(err)
	}
	want := [5]engine.Point{
		{X: (37 + 38 + 40 + 41) / 4.0, Y: 2 * (37 + 38 + 40 + 41) / 4.0},
		{X: (43 + 44 + 46 + 47) / 4.0, Y: 2 * (43 + 44 + 46 + 47) / 4.0},
		{X: 30, Y: 60},
		{X: 54, Y: 108},
		{X: 59, Y: 118},
	}
	if got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := FivePoints(lm[:5]); !errors.Is(err, ErrNoLandmarks) {
		t.Fatalf("5 points: err = %v", err)
	}
	lm[30].X = float32(math.Inf(1))
	if _, err := FivePoints(lm); !errors.Is(err, ErrBadFace) {
		t.Fatalf("Inf: err = %v", err)
	}
}

func TestAlignTransformPutsEyesOnTemplate(t *testing.T) {
	// A synthetic face whose five points are the template scaled 3x and
	// shifted must map back onto the template exactly.
	lm := make([]engine.Point, 68)
	put := func(p engine.Point, idx ...int) {
		for _, i := range idx {
			lm[i] = engine.Point{X: 3*p.X + 50, Y: 3*p.Y + 20}
		}
	}
	put(ArcFaceTemplate[0], 37, 38, 40, 41)
	put(ArcFaceTemplate[1], 43, 44, 46, 47)
	put(ArcFaceTemplate[2], 30)
	put(ArcFaceTemplate[3], 48, 60)
	put(ArcFaceTemplate[4], 54, 64)
	a, err := AlignTransform(engine.Face{Landmarks: lm})
	if err != nil {
		t.Fatal(err)
	}
	if e := sse(a, []engine.Point{lm[37], lm[43], lm[30], lm[48], lm[54]}, ArcFaceTemplate[:]); e > 1e-6 {
		t.Fatalf("residual %g", e)
	}
	if _, err := AlignTransform(engine.Face{}); !errors.Is(err, ErrNoLandmarks) {
		t.Fatalf("no landmarks: err = %v", err)
	}
}

func TestIoUAndNMS(t *testing.T) {
	a := Box{0, 0, 10, 10}
	for _, tc := range []struct {
		name string
		b    Box
		want float64
	}{
		{"same", a, 1},
		{"disjoint", Box{20, 20, 30, 30}, 0},
		{"touching", Box{10, 0, 20, 10}, 0},
		{"half", Box{5, 0, 15, 10}, 50.0 / 150},
		{"inside", Box{0, 0, 5, 5}, 0.25},
		{"empty", Box{3, 3, 3, 3}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IoU(a, tc.b); math.Abs(got-tc.want) > 1e-12 {
				t.Fatalf("IoU = %v, want %v", got, tc.want)
			}
		})
	}
	in := []scored{
		{Box{0, 0, 10, 10}, 0.7},
		{Box{1, 1, 11, 11}, 0.9}, // overlaps the first by IoU 0.68
		{Box{50, 50, 60, 60}, 0.8},
		{Box{5, 0, 15, 10}, 0.75}, // IoU 54/146 = 0.37 with the 0.9 box: kept
	}
	got := nms(in, 0.4, 0)
	wantScores := []float32{0.9, 0.8, 0.75}
	if len(got) != len(wantScores) {
		t.Fatalf("kept %v", got)
	}
	for i := range got {
		if got[i].Score != wantScores[i] {
			t.Fatalf("kept %v, want scores %v", got, wantScores)
		}
	}
	if got := nms(append([]scored(nil), in...), 0.4, 1); len(got) != 1 || got[0].Score != 0.9 {
		t.Fatalf("topK 1: %v", got)
	}
}

func TestDecodeDetections(t *testing.T) {
	cfg := DetectorConfig{ScoreThreshold: 0.65, NMS: 0.4}
	// Three priors: a strong face, a duplicate of it, and a weak one.
	scores := []float32{0.05, 0.95, 0.1, 0.9, 0.5, 0.5}
	boxes := []float32{
		0.25, 0.25, 0.5, 0.75,
		0.26, 0.25, 0.51, 0.76,
		0.7, 0.1, 0.9, 0.3,
	}
	faces := decodeDetections(scores, boxes, 640, 480, cfg)
	if len(faces) != 1 {
		t.Fatalf("faces %+v", faces)
	}
	if want := image.Rect(160, 120, 320, 360); faces[0].Box != want || faces[0].Score != 0.95 {
		t.Fatalf("face %+v, want box %v score 0.95", faces[0], want)
	}
	// A box running off the frame is clamped; a degenerate one is dropped.
	scores = []float32{0, 0.99, 0, 0.98}
	boxes = []float32{-0.125, 0.5, 0.25, 1.25, 0.5, 0.5, 0.375, 0.625}
	faces = decodeDetections(scores, boxes, 100, 100, cfg)
	if len(faces) != 1 || faces[0].Box != image.Rect(0, 50, 25, 100) {
		t.Fatalf("faces %+v", faces)
	}
	// MinFaceFraction drops small faces.
	cfg.MinFaceFraction = 0.6
	if faces := decodeDetections([]float32{0, 0.99}, []float32{0.1, 0.1, 0.3, 0.6}, 100, 100, cfg); len(faces) != 0 {
		t.Fatalf("MinFaceFraction kept %+v", faces)
	}
}

func TestSquareBoxAndScaledCrop(t *testing.T) {
	bounds := image.Rect(0, 0, 640, 480)
	for _, tc := range []struct {
		name string
		box  image.Rectangle
		want image.Rectangle
	}{
		{"centre", image.Rect(300, 200, 340, 260), image.Rect(290, 200, 350, 260)},
		{"left edge", image.Rect(0, 100, 20, 200), image.Rect(0, 100, 60, 200)},
		{"bottom edge", image.Rect(300, 400, 400, 480), image.Rect(310, 400, 390, 480)},
		{"outside", image.Rect(700, 500, 800, 600), image.Rectangle{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SquareBox(tc.box, bounds); got != tc.want && !(got.Empty() && tc.want.Empty()) {
				t.Fatalf("SquareBox = %v, want %v", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name  string
		box   image.Rectangle
		scale float64
		want  image.Rectangle
	}{
		{"scale 1", image.Rect(100, 100, 200, 200), 1, image.Rect(100, 100, 200, 200)},
		{"2.7 fits", image.Rect(270, 190, 370, 290), 2.7, image.Rect(185, 105, 455, 375)},
		{"2.7 shifted right", image.Rect(0, 190, 100, 290), 2.7, image.Rect(0, 105, 270, 375)},
		{"2.7 limited by height", image.Rect(270, 140, 470, 340), 2.7, image.Rect(130, 0, 609, 479)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ScaledCrop(tc.box, tc.scale, 640, 480)
			if got != tc.want {
				t.Fatalf("ScaledCrop = %v, want %v", got, tc.want)
			}
		})
	}
}

// ScaledCropInclusive: the same float box as ScaledCrop, corners truncated,
// the last row and column included (Silent-Face-Anti-Spoofing's crop).
func TestScaledCropInclusive(t *testing.T) {
	for _, tc := range []struct {
		name  string
		box   image.Rectangle
		scale float64
		want  image.Rectangle
	}{
		{"2.7 fits", image.Rect(270, 190, 370, 290), 2.7, image.Rect(185, 105, 456, 376)},
		{"2.7 fractional corners", image.Rect(101, 101, 151, 151), 2.7, image.Rect(58, 58, 194, 194)},
		{"2.7 shifted right", image.Rect(0, 190, 100, 290), 2.7, image.Rect(0, 105, 271, 376)},
		{"2.7 limited by height", image.Rect(270, 140, 470, 340), 2.7, image.Rect(130, 0, 610, 480)},
		{"4.0 shifted up", image.Rect(270, 330, 370, 430), 4.0, image.Rect(120, 79, 521, 480)},
		{"empty box", image.Rectangle{}, 2.7, image.Rectangle{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ScaledCropInclusive(tc.box, tc.scale, 640, 480); got != tc.want {
				t.Fatalf("ScaledCropInclusive = %v, want %v", got, tc.want)
			}
		})
	}
}

// Any box, however hostile, gives crops inside the frame and no panic.
func FuzzCrops(f *testing.F) {
	f.Add(10, 10, 50, 50, 640, 480, 2.7)
	f.Add(-100, -100, 5000, 5000, 2, 2, 1.0)
	f.Add(0, 0, 1, 1, 1, 1, 100.0)
	f.Fuzz(func(t *testing.T, x0, y0, x1, y1, w, h int, scale float64) {
		if w <= 0 || h <= 0 || w > 1<<14 || h > 1<<14 || math.IsNaN(scale) || math.IsInf(scale, 0) || scale <= 0 || scale > 100 {
			return
		}
		bounds := image.Rect(0, 0, w, h)
		box := image.Rect(x0, y0, x1, y1)
		sq := SquareBox(box, bounds)
		if !sq.In(bounds) && !sq.Empty() {
			t.Fatalf("SquareBox %v outside %v", sq, bounds)
		}
		c := ScaledCrop(sq, scale, w, h)
		if !c.Empty() && !c.In(bounds) {
			t.Fatalf("ScaledCrop %v outside %v", c, bounds)
		}
		if c := ScaledCropInclusive(sq, scale, w, h); !c.Empty() && !c.In(bounds) {
			t.Fatalf("ScaledCropInclusive %v outside %v", c, bounds)
		}
	})
}

func TestSoftmax(t *testing.T) {
	p := Softmax([]float32{1000, 1000, -1000})
	if math.Abs(p[0]-0.5) > 1e-12 || math.Abs(p[1]-0.5) > 1e-12 || p[2] > 1e-300 {
		t.Fatalf("softmax %v", p)
	}
	if len(Softmax(nil)) != 0 {
		t.Fatal("softmax of nothing")
	}
}
