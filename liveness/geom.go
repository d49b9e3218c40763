package liveness

import (
	"errors"
	"math"

	"vidid/engine"
)

// errDegenerate: the points do not determine a transform.
var errDegenerate = errors.New("degenerate point set")

// homography is a 3x3 projective transform, row-major, h[8] = 1.
type homography [9]float64

// apply maps p.
func (h *homography) apply(x, y float64) (float64, float64) {
	w := h[6]*x + h[7]*y + h[8]
	return (h[0]*x + h[1]*y + h[2]) / w, (h[3]*x + h[4]*y + h[5]) / w
}

// fitHomography is the least-squares homography (DLT with h33 = 1, on
// points normalised to zero mean and unit spread) taking src[i] to dst[i]
// for the indices idx.
func fitHomography(src, dst []engine.Point, idx []int) (homography, error) {
	ns, err := normaliser(src, idx)
	if err != nil {
		return homography{}, err
	}
	nd, err := normaliser(dst, idx)
	if err != nil {
		return homography{}, err
	}
	var ata [8][8]float64
	var atb [8]float64
	for _, i := range idx {
		x, y := ns.apply(float64(src[i].X), float64(src[i].Y))
		u, v := nd.apply(float64(dst[i].X), float64(dst[i].Y))
		rows := [2][8]float64{
			{x, y, 1, 0, 0, 0, -u * x, -u * y},
			{0, 0, 0, x, y, 1, -v * x, -v * y},
		}
		for r, b := range [2]float64{u, v} {
			for a := 0; a < 8; a++ {
				atb[a] += rows[r][a] * b
				for c := 0; c < 8; c++ {
					ata[a][c] += rows[r][a] * rows[r][c]
				}
			}
		}
	}
	sol, err := solve8(ata, atb)
	if err != nil {
		return homography{}, err
	}
	hn := homography{sol[0], sol[1], sol[2], sol[3], sol[4], sol[5], sol[6], sol[7], 1}
	// H = Nd⁻¹ · Hn · Ns
	h := mul(inverseSimilarity(nd), mul(hn, ns))
	if h[8] == 0 {
		return homography{}, errDegenerate
	}
	for k := range h {
		h[k] /= h[8]
	}
	return h, nil
}

// normaliser is the similarity moving the points idx to zero mean and a
// mean distance of √2 from it (Hartley).
func normaliser(p []engine.Point, idx []int) (homography, error) {
	var mx, my float64
	for _, i := range idx {
		mx += float64(p[i].X)
		my += float64(p[i].Y)
	}
	n := float64(len(idx))
	mx, my = mx/n, my/n
	var d float64
	for _, i := range idx {
		d += math.Hypot(float64(p[i].X)-mx, float64(p[i].Y)-my)
	}
	if d == 0 {
		return homography{}, errDegenerate
	}
	s := math.Sqrt2 * n / d
	return homography{s, 0, -s * mx, 0, s, -s * my, 0, 0, 1}, nil
}

// inverseSimilarity inverts a normaliser.
func inverseSimilarity(n homography) homography {
	s := n[0]
	return homography{1 / s, 0, -n[2] / s, 0, 1 / s, -n[5] / s, 0, 0, 1}
}

func mul(a, b homography) homography {
	var c homography
	for r := 0; r < 3; r++ {
		for k := 0; k < 3; k++ {
			for j := 0; j < 3; j++ {
				c[r*3+k] += a[r*3+j] * b[j*3+k]
			}
		}
	}
	return c
}

// solve8 solves a x = b by Gaussian elimination with partial pivoting.
func solve8(a [8][8]float64, b [8]float64) ([8]float64, error) {
	for c := 0; c < 8; c++ {
		p := c
		for r := c + 1; r < 8; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		if math.Abs(a[p][c]) < 1e-12 {
			return b, errDegenerate
		}
		a[c], a[p] = a[p], a[c]
		b[c], b[p] = b[p], b[c]
		for r := c + 1; r < 8; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k < 8; k++ {
				a[r][k] -= f * a[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	var x [8]float64
	for r := 7; r >= 0; r-- {
		s := b[r]
		for k := r + 1; k < 8; k++ {
			s -= a[r][k] * x[k]
		}
		x[r] = s / a[r][r]
	}
	return x, nil
}

// dist is the distance between two points.
func dist(a, b engine.Point) float64 {
	return math.Hypot(float64(a.X-b.X), float64(a.Y-b.Y))
}

// centroid is the mean of the points idx.
func centroid(p []engine.Point, idx []int) engine.Point {
	var x, y float32
	for _, i := range idx {
		x += p[i].X
		y += p[i].Y
	}
	n := float32(len(idx))
	return engine.Point{X: x / n, Y: y / n}
}

// span returns the indices lo..hi.
func span(lo, hi int) []int {
	out := make([]int, 0, hi-lo+1)
	for i := lo; i <= hi; i++ {
		out = append(out, i)
	}
	return out
}
