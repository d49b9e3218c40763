package ocv

// Pure-Go geometry shared by the stages: box post-processing, crops, NMS and
// the similarity transform used for alignment. Nothing here touches cgo.

import (
	"errors"
	"fmt"
	"image"
	"math"
	"sort"

	"vidid/engine"
)

// Box is an axis-aligned box in frame pixels with float corners.
type Box struct{ X1, Y1, X2, Y2 float64 }

// W is the box width.
func (b Box) W() float64 { return b.X2 - b.X1 }

// H is the box height.
func (b Box) H() float64 { return b.Y2 - b.Y1 }

func (b Box) area() float64 {
	if b.X2 <= b.X1 || b.Y2 <= b.Y1 {
		return 0
	}
	return (b.X2 - b.X1) * (b.Y2 - b.Y1)
}

// IoU is the intersection over union of two boxes (0 when either is empty).
func IoU(a, b Box) float64 {
	in := Box{math.Max(a.X1, b.X1), math.Max(a.Y1, b.Y1), math.Min(a.X2, b.X2), math.Min(a.Y2, b.Y2)}.area()
	if in == 0 {
		return 0
	}
	return in / (a.area() + b.area() - in)
}

// scored is a box with its detector score.
type scored struct {
	Box
	Score float32
}

// nms is the standard greedy non-maximum suppression: boxes are taken in
// descending score order and every remaining box overlapping a kept one by
// IoU > thresh is dropped. It keeps at most topK boxes before suppression
// (topK <= 0: all). The input slice is reordered.
func nms(in []scored, thresh float64, topK int) []scored {
	sort.SliceStable(in, func(i, j int) bool { return in[i].Score > in[j].Score })
	if topK > 0 && len(in) > topK {
		in = in[:topK]
	}
	var keep []scored
	removed := make([]bool, len(in))
	for i := range in {
		if removed[i] {
			continue
		}
		keep = append(keep, in[i])
		for j := i + 1; j < len(in); j++ {
			if !removed[j] && IoU(in[i].Box, in[j].Box) > thresh {
				removed[j] = true
			}
		}
	}
	return keep
}

// BoxOf converts an integer rectangle to a Box.
func BoxOf(r image.Rectangle) Box {
	return Box{float64(r.Min.X), float64(r.Min.Y), float64(r.Max.X), float64(r.Max.Y)}
}

// clampRect rounds b to whole pixels and intersects it with bounds.
func clampRect(b Box, bounds image.Rectangle) image.Rectangle {
	if math.IsNaN(b.X1+b.Y1+b.X2+b.Y2) || math.IsInf(b.X1+b.Y1+b.X2+b.Y2, 0) {
		return image.Rectangle{}
	}
	const lim = 1 << 30 // keep int conversion defined for absurd values
	c := func(v float64) int { return int(math.Round(math.Max(-lim, math.Min(lim, v)))) }
	r := image.Rect(c(b.X1), c(b.Y1), c(b.X2), c(b.Y2))
	return r.Intersect(bounds)
}

// SquareBox is the post-processing of MODELS.md that the landmark and
// liveness crops start from: a square with side = the box height, centred on
// the box centre, clamped to bounds (so near an edge it is no longer square).
func SquareBox(box, bounds image.Rectangle) image.Rectangle {
	b := BoxOf(box)
	cx, cy, s := (b.X1+b.X2)/2, (b.Y1+b.Y2)/2, b.H()
	return clampRect(Box{cx - s/2, cy - s/2, cx + s/2, cy + s/2}, bounds)
}

// ScaledCrop enlarges box by scale about its centre for a context crop, as
// MODELS.md prescribes for the landmark (scale 1) and liveness (scale 2.7)
// models: scale is lowered if needed so the crop fits in a w x h frame
// (limits (h-1)/box height and (w-1)/box width), and a crop that sticks out
// on one side is shifted back inside. The result lies within the frame and
// is empty only for an empty box.
func ScaledCrop(box image.Rectangle, scale float64, w, h int) image.Rectangle {
	b, ok := scaledBox(box, scale, w, h)
	if !ok {
		return image.Rectangle{}
	}
	// Integer rectangle as the Faceplugin package makes it: truncated
	// corner, truncated size.
	ix, iy := int(math.Max(b.X1, 0)), int(math.Max(b.Y1, 0))
	r := image.Rect(ix, iy, ix+int(b.W()), iy+int(b.H()))
	return r.Intersect(image.Rect(0, 0, w, h))
}

// ScaledCropInclusive is ScaledCrop with the integer conversion of
// Silent-Face-Anti-Spoofing (MiniFASNet): the same scaled, shifted box,
// then each corner truncated to int and the pixel rows y1..y2 and columns
// x1..x2 taken inclusively, i.e. image.Rect(x1, y1, x2+1, y2+1).
func ScaledCropInclusive(box image.Rectangle, scale float64, w, h int) image.Rectangle {
	b, ok := scaledBox(box, scale, w, h)
	if !ok {
		return image.Rectangle{}
	}
	r := image.Rect(int(math.Max(b.X1, 0)), int(math.Max(b.Y1, 0)), int(b.X2)+1, int(b.Y2)+1)
	return r.Intersect(image.Rect(0, 0, w, h))
}

// scaledBox is the float box of ScaledCrop: box (x, y, width, height as
// pixel counts) enlarged by min(scale, (h-1)/height, (w-1)/width) about its
// centre and shifted back inside [0, w-1] x [0, h-1].
func scaledBox(box image.Rectangle, scale float64, w, h int) (Box, bool) {
	if box.Empty() || w <= 1 || h <= 1 {
		return Box{}, false
	}
	bw, bh := float64(box.Dx()), float64(box.Dy())
	s := math.Min(scale, math.Min(float64(h-1)/bh, float64(w-1)/bw))
	nw, nh := bw*s, bh*s
	cx, cy := float64(box.Min.X)+bw/2, float64(box.Min.Y)+bh/2
	x1, y1, x2, y2 := cx-nw/2, cy-nh/2, cx+nw/2, cy+nh/2
	if x1 < 0 {
		x2 -= x1
		x1 = 0
	}
	if y1 < 0 {
		y2 -= y1
		y1 = 0
	}
	if x2 > float64(w-1) {
		x1 -= x2 - float64(w-1)
		x2 = float64(w - 1)
	}
	if y2 > float64(h-1) {
		y1 -= y2 - float64(h-1)
		y2 = float64(h - 1)
	}
	return Box{x1, y1, x2, y2}, true
}

// Affine is a 2x3 affine matrix mapping (x, y) to
// (A[0]*x + A[1]*y + A[2], A[3]*x + A[4]*y + A[5]).
type Affine [6]float64

// Apply maps p.
func (a Affine) Apply(p engine.Point) engine.Point {
	x, y := float64(p.X), float64(p.Y)
	return engine.Point{X: float32(a[0]*x + a[1]*y + a[2]), Y: float32(a[3]*x + a[4]*y + a[5])}
}

// ErrDegenerate: the points do not determine a transform (fewer than two,
// or all in one place).
var ErrDegenerate = errors.New("degenerate point set")

// SimilarityTransform returns the similarity transform (uniform scale,
// rotation, translation; no reflection, no shear) that maps src onto dst with
// the least squared error: Umeyama's method (1991) in two dimensions. In 2-D
// the optimal s*R is the matrix [a -b; b a] with
//
//	a = sum(x'u + y'v) / sum(x'^2 + y'^2),  b = sum(x'v - y'u) / sum(x'^2 + y'^2)
//
// over centred source (x', y') and target (u, v) points, which equals the
// SVD form of Umeyama's solution whenever the optimum is a proper rotation
// (always, for this family). t = mean(dst) - sR mean(src). This is what
// OpenCV's estimateAffinePartial2D fits without RANSAC.
func SimilarityTransform(src, dst []engine.Point) (Affine, error) {
	if len(src) != len(dst) {
		return Affine{}, fmt.Errorf("similarity transform: %d source and %d target points", len(src), len(dst))
	}
	if len(src) < 2 {
		return Affine{}, fmt.Errorf("similarity transform: %w: %d points", ErrDegenerate, len(src))
	}
	n := float64(len(src))
	var msx, msy, mdx, mdy float64
	for i := range src {
		msx += float64(src[i].X)
		msy += float64(src[i].Y)
		mdx += float64(dst[i].X)
		mdy += float64(dst[i].Y)
	}
	msx, msy, mdx, mdy = msx/n, msy/n, mdx/n, mdy/n
	var num1, num2, den float64
	for i := range src {
		x, y := float64(src[i].X)-msx, float64(src[i].Y)-msy
		u, v := float64(dst[i].X)-mdx, float64(dst[i].Y)-mdy
		num1 += x*u + y*v
		num2 += x*v - y*u
		den += x*x + y*y
	}
	if den < 1e-12 || math.IsNaN(den) || math.IsInf(den, 0) {
		return Affine{}, fmt.Errorf("similarity transform: %w: source points coincide", ErrDegenerate)
	}
	a, b := num1/den, num2/den
	if a == 0 && b == 0 {
		return Affine{}, fmt.Errorf("similarity transform: %w: target points coincide", ErrDegenerate)
	}
	return Affine{
		a, -b, mdx - (a*msx - b*msy),
		b, a, mdy - (b*msx + a*msy),
	}, nil
}

// ArcFaceTemplate is the standard 112x112 five-point alignment template
// (left eye, right eye, nose tip, left and right mouth corners, as seen in
// the image).
var ArcFaceTemplate = [5]engine.Point{
	{X: 38.2946, Y: 51.6963},
	{X: 73.5318, Y: 51.5014},
	{X: 56.0252, Y: 71.7366},
	{X: 41.5493, Y: 92.3655},
	{X: 70.7299, Y: 92.2041},
}

// FivePoints reduces 68 iBUG points to the five alignment points of
// MODELS.md: eye centres = mean of eyelid points 37,38,40,41 and 43,44,46,47
// (0-based), nose tip = 30, mouth corners = mean(48,60) and mean(54,64).
func FivePoints(lm []engine.Point) ([5]engine.Point, error) {
	var out [5]engine.Point
	if len(lm) != 68 {
		return out, fmt.Errorf("five points: %w: have %d points, want 68", ErrNoLandmarks, len(lm))
	}
	meanOf := func(idx ...int) engine.Point {
		var x, y float32
		for _, i := range idx {
			x += lm[i].X
			y += lm[i].Y
		}
		return engine.Point{X: x / float32(len(idx)), Y: y / float32(len(idx))}
	}
	out[0] = meanOf(37, 38, 40, 41)
	out[1] = meanOf(43, 44, 46, 47)
	out[2] = lm[30]
	out[3] = meanOf(48, 60)
	out[4] = meanOf(54, 64)
	for _, p := range out {
		if math.IsNaN(float64(p.X)) || math.IsNaN(float64(p.Y)) || math.IsInf(float64(p.X), 0) || math.IsInf(float64(p.Y), 0) {
			return out, fmt.Errorf("five points: %w: non-finite landmark", ErrBadFace)
		}
	}
	return out, nil
}

// Softmax returns the softmax of logits (numerically stable).
func Softmax(logits []float32) []float64 {
	out := make([]float64, len(logits))
	if len(logits) == 0 {
		return out
	}
	m := float64(logits[0])
	for _, v := range logits {
		m = math.Max(m, float64(v))
	}
	var sum float64
	for i, v := range logits {
		out[i] = math.Exp(float64(v) - m)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}
