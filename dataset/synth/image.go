package synth

import (
	"math"

	"vidid/engine"
)

// img is a float BGR image, channel values nominally in [0, 1]; the
// transforms work on it and clip only when converting back to a frame.
type img struct {
	w, h int
	pix  []float64 // (y*w+x)*3 + c, c = 0 B, 1 G, 2 R
}

func newImg(w, h int) *img { return &img{w: w, h: h, pix: make([]float64, w*h*3)} }

func fromFrame(f engine.Frame) *img {
	m := newImg(f.Width, f.Height)
	for i, v := range f.Pix[:len(m.pix)] {
		m.pix[i] = float64(v) / 255
	}
	return m
}

func (m *img) frame() engine.Frame {
	f := engine.Frame{Width: m.w, Height: m.h, Pix: make([]byte, len(m.pix))}
	for i, v := range m.pix {
		f.Pix[i] = uint8(math.Round(255 * clamp01(v)))
	}
	return f
}

func clamp01(v float64) float64 { return min(1, max(0, v)) }

// at returns channel c of pixel (x, y), clamping the coordinates.
func (m *img) at(x, y, c int) float64 {
	x, y = min(m.w-1, max(0, x)), min(m.h-1, max(0, y))
	return m.pix[(y*m.w+x)*3+c]
}

// bilinear samples channel c at continuous pixel coordinates (pixel
// centres at +0.5).
func (m *img) bilinear(x, y float64, c int) float64 {
	x, y = x-0.5, y-0.5
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := x-x0, y-y0
	ix, iy := int(x0), int(y0)
	top := m.at(ix, iy, c)*(1-fx) + m.at(ix+1, iy, c)*fx
	bot := m.at(ix, iy+1, c)*(1-fx) + m.at(ix+1, iy+1, c)*fx
	return top*(1-fy) + bot*fy
}

// luma is the BT.601 luminance of pixel i (index of its B value).
func (m *img) luma(i int) float64 {
	return 0.114*m.pix[i] + 0.587*m.pix[i+1] + 0.299*m.pix[i+2]
}

// blur applies a separable Gaussian blur of standard deviation sigma
// (pixels); sigma <= 0 leaves m unchanged.
func (m *img) blur(sigma float64) {
	if sigma <= 0 {
		return
	}
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	sum := 0.0
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	tmp := make([]float64, len(m.pix))
	for y := 0; y < m.h; y++ {
		for x := 0; x < m.w; x++ {
			for c := 0; c < 3; c++ {
				s := 0.0
				for i, kv := range k {
					s += kv * m.at(x+i-r, y, c)
				}
				tmp[(y*m.w+x)*3+c] = s
			}
		}
	}
	t := &img{w: m.w, h: m.h, pix: tmp}
	for y := 0; y < m.h; y++ {
		for x := 0; x < m.w; x++ {
			for c := 0; c < 3; c++ {
				s := 0.0
				for i, kv := range k {
					s += kv * t.at(x, y+i-r, c)
				}
				m.pix[(y*m.w+x)*3+c] = s
			}
		}
	}
}

// pt is a point in pixel coordinates.
type pt struct{ x, y float64 }

// homography maps points by a 3×3 projective matrix (h[8] = 1).
type homography [9]float64

func (h homography) apply(p pt) pt {
	w := h[6]*p.x + h[7]*p.y + h[8]
	return pt{(h[0]*p.x + h[1]*p.y + h[2]) / w, (h[3]*p.x + h[4]*p.y + h[5]) / w}
}

// homographyFrom returns the homography mapping src[i] to dst[i] (four
// points, no three collinear), by Gaussian elimination of the 8×8 system.
func homographyFrom(src, dst [4]pt) homography {
	var a [8][9]float64
	for i := 0; i < 4; i++ {
		s, d := src[i], dst[i]
		a[2*i] = [9]float64{s.x, s.y, 1, 0, 0, 0, -d.x * s.x, -d.x * s.y, d.x}
		a[2*i+1] = [9]float64{0, 0, 0, s.x, s.y, 1, -d.y * s.x, -d.y * s.y, d.y}
	}
	for col := 0; col < 8; col++ {
		piv := col
		for r := col + 1; r < 8; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[piv][col]) {
				piv = r
			}
		}
		a[col], a[piv] = a[piv], a[col]
		for r := 0; r < 8; r++ {
			if r == col || a[col][col] == 0 {
				continue
			}
			f := a[r][col] / a[col][col]
			for c := col; c < 9; c++ {
				a[r][c] -= f * a[col][c]
			}
		}
	}
	var h homography
	for i := 0; i < 8; i++ {
		h[i] = a[i][8] / a[i][i]
	}
	h[8] = 1
	return h
}

// insideConvex reports whether p lies inside the convex quad q (corners
// in order, either orientation).
func insideConvex(q [4]pt, p pt) bool {
	sign := 0.0
	for i := 0; i < 4; i++ {
		a, b := q[i], q[(i+1)%4]
		cr := (b.x-a.x)*(p.y-a.y) - (b.y-a.y)*(p.x-a.x)
		if cr == 0 {
			continue
		}
		if sign == 0 {
			sign = cr
		} else if (cr > 0) != (sign > 0) {
			return false
		}
	}
	return true
}
