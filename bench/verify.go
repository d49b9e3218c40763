package bench

import (
	"cmp"
	"math"
	"slices"
)

// Comparison is one scored comparison of an image of identity A with an
// image of identity B (A == B for a genuine comparison). Identities are
// indices into the identity list of the Set, so that the bootstrap can
// resample people rather than comparisons.
type Comparison struct {
	Score float64
	A, B  int32
	// I and J index the images compared, in the list the Set was built
	// from (for the per-comparison CSV); tests may leave them zero.
	I, J int32
}

// Set is a verification score set.
type Set struct {
	Genuine, Impostor []Comparison
	// Identities is the number of identities the comparisons refer to.
	Identities int
}

// ranked is a Set sorted by falling score, with optional per-identity
// weights (nil: every comparison weighs 1).
type ranked struct {
	gen, imp []Comparison
	w        []float64
	wg, wi   float64
}

func byScoreDesc(a, b Comparison) int { return cmp.Compare(b.Score, a.Score) }

// rank sorts copies of the comparisons (the Set is left as it is).
func (s Set) rank() *ranked {
	r := &ranked{gen: slices.Clone(s.Genuine), imp: slices.Clone(s.Impostor)}
	slices.SortFunc(r.gen, byScoreDesc)
	slices.SortFunc(r.imp, byScoreDesc)
	r.wg, r.wi = float64(len(r.gen)), float64(len(r.imp))
	return r
}

// weighted returns r with identity weights w (the counts of one bootstrap
// resample); it shares r's sorted slices.
func (r *ranked) weighted(w []float64) *ranked {
	x := &ranked{gen: r.gen, imp: r.imp, w: w}
	for _, c := range r.gen {
		x.wg += w[c.A]
	}
	for _, c := range r.imp {
		x.wi += w[c.A] * w[c.B]
	}
	return x
}

func (r *ranked) gw(c Comparison) float64 {
	if r.w == nil {
		return 1
	}
	return r.w[c.A]
}

func (r *ranked) iw(c Comparison) float64 {
	if r.w == nil {
		return 1
	}
	return r.w[c.A] * r.w[c.B]
}

// walk calls fn at the operating points from the highest threshold down:
// first just above the highest score (FMR 0, FNMR 1), then at every
// distinct score t (a comparison matches when its score >= t). It stops
// when fn returns false or the scores run out.
func (r *ranked) walk(fn func(Point) bool) {
	if r.wg == 0 || r.wi == 0 {
		return
	}
	top := math.Inf(-1)
	if len(r.gen) > 0 {
		top = r.gen[0].Score
	}
	if len(r.imp) > 0 {
		top = max(top, r.imp[0].Score)
	}
	if !fn(Point{Threshold: math.Nextafter(top, math.Inf(1)), FMR: 0, FNMR: 1}) {
		return
	}
	var accG, accI float64
	i, j := 0, 0
	for i < len(r.gen) || j < len(r.imp) {
		t := math.Inf(-1)
		if i < len(r.gen) {
			t = r.gen[i].Score
		}
		if j < len(r.imp) {
			t = max(t, r.imp[j].Score)
		}
		for ; i < len(r.gen) && r.gen[i].Score == t; i++ {
			accG += r.gw(r.gen[i])
		}
		for ; j < len(r.imp) && r.imp[j].Score == t; j++ {
			accI += r.iw(r.imp[j])
		}
		if !fn(Point{Threshold: t, FMR: accI / r.wi, FNMR: 1 - accG/r.wg}) {
			return
		}
	}
}

// eer is the mean of FMR and FNMR where they are closest, and the
// threshold there; ok is false without both classes.
func (r *ranked) eer() (eer, threshold float64, ok bool) {
	best := math.Inf(1)
	r.walk(func(p Point) bool {
		if d := math.Abs(p.FMR - p.FNMR); d < best {
			best, eer, threshold, ok = d, (p.FMR+p.FNMR)/2, p.Threshold, true
		}
		return p.FMR <= p.FNMR // past the crossing the gap only grows
	})
	return eer, threshold, ok
}

// atFMR is the operating point with the lowest threshold whose FMR <= target.
func (r *ranked) atFMR(target float64) (p Point, ok bool) {
	r.walk(func(q Point) bool {
		if q.FMR > target {
			return false
		}
		p, ok = q, true
		return true
	})
	return p, ok
}

// at is the operating point at threshold t.
func (r *ranked) at(t float64) Point {
	var accG, accI float64
	for _, c := range r.gen {
		if c.Score < t {
			break
		}
		accG += r.gw(c)
	}
	for _, c := range r.imp {
		if c.Score < t {
			break
		}
		accI += r.iw(c)
	}
	p := Point{Threshold: t}
	if r.wi > 0 {
		p.FMR = accI / r.wi
	}
	if r.wg > 0 {
		p.FNMR = 1 - accG/r.wg
	}
	return p
}

// curve returns at most about n operating points spread over the DET
// curve (every point where FMR or FNMR changes by a visible step, on a log
// scale for FMR), enough to draw it.
func (r *ranked) curve(n int) []Point {
	var pts []Point
	var last, cur Point
	r.walk(func(p Point) bool {
		cur = p
		if len(pts) == 0 || visibleStep(last.FMR, p.FMR, n) || math.Abs(p.FNMR-last.FNMR) >= 1/float64(n) {
			pts = append(pts, p)
			last = p
		}
		return true
	})
	if len(pts) > 0 && cur != last {
		pts = append(pts, cur)
	}
	return pts
}

// visibleStep reports whether FMR moved from a to b by at least one of n
// steps on a log scale from 1e-7 to 1.
func visibleStep(a, b float64, n int) bool {
	const lo = 1e-7
	la, lb := math.Log10(max(a, lo)), math.Log10(max(b, lo))
	return lb-la >= 7/float64(n)
}
