package synth

import (
	"fmt"
	"math"
	"math/rand/v2"

	"vidid/engine"
)

// PrintParams describe a photo printed on paper and held to the camera.
type PrintParams struct {
	CMYK     bool       // four rotated ink screens (C 15°, M 75°, Y 0°, K 45° + Angle), else one grey screen
	Cell     float64    // halftone cell size, pixels of the sheet
	Angle    float64    // screen angle of the grey or K screen, degrees
	Paper    [3]float64 // paper white, BGR reflectance
	Ink      float64    // reflectance of full ink, relative to the paper
	Contrast float64    // tone compression around mid grey before screening, (0, 1]
	// The sheet in the camera's view.
	Tilt       float64    // keystone: the sheet's far (top) edge is this fraction narrower
	Rotate     float64    // in-plane rotation, degrees
	Edge       bool       // the sheet is smaller than the frame: its edge and the background are in view
	Scale      float64    // sheet height / frame height when Edge
	OffX, OffY float64    // sheet centre offset, fractions of the frame, when Edge
	Background [3]float64 // BGR of the uniform background around the sheet
	Blur       float64    // defocus, Gaussian sigma in pixels
}

// String lists the parameters compactly for the labels file's source.
func (p PrintParams) String() string {
	screen := "grey"
	if p.CMYK {
		screen = "cmyk"
	}
	return fmt.Sprintf("halftone=%s cell=%.2f angle=%.1f paper=%s ink=%.2f contrast=%.2f tilt=%.3f rotate=%.1f edge=%t scale=%.2f off=%.2f/%.2f background=%s blur=%.2f",
		screen, p.Cell, p.Angle, bgr(p.Paper), p.Ink, p.Contrast, p.Tilt, p.Rotate, p.Edge, p.Scale, p.OffX, p.OffY, bgr(p.Background), p.Blur)
}

func bgr(c [3]float64) string { return fmt.Sprintf("%.2f/%.2f/%.2f", c[0], c[1], c[2]) }

// RandomPrint draws print parameters; edge chooses the variant with the
// sheet's edge in view.
func RandomPrint(rng *rand.Rand, edge bool) PrintParams {
	u := func(a, b float64) float64 { return a + (b-a)*rng.Float64() }
	white := u(0.86, 0.97)
	warm := u(0, 0.06) // paper is often slightly yellow: less blue
	p := PrintParams{
		CMYK: rng.IntN(2) == 0, Cell: u(1.2, 2.5), Angle: u(0, 90),
		Paper: [3]float64{white - warm, white, white}, Ink: u(0.06, 0.2), Contrast: u(0.7, 0.9),
		Tilt: u(0, 0.12), Rotate: u(-6, 6), Edge: edge, Blur: u(0.6, 1.6),
	}
	if edge {
		p.Scale, p.OffX, p.OffY = u(0.55, 0.8), u(-0.06, 0.06), u(-0.06, 0.06)
	}
	for c := range p.Background {
		p.Background[c] = u(0.12, 0.6)
	}
	return p
}

// Print renders src as a printed photo seen by the camera, same size.
func Print(src engine.Frame, p PrintParams) engine.Frame {
	sheet := fromFrame(src)
	halftone(sheet, p)
	out := warpSheet(sheet, p)
	out.blur(p.Blur)
	return out.frame()
}

// halftone replaces m by its print on paper: tones compressed, then
// screened into binary dots of ink on paper-white.
func halftone(m *img, p PrintParams) {
	type screen struct {
		angle float64
		ink   [3]float64 // reflectance per BGR channel where the ink is
	}
	k := p.Ink
	var screens []screen
	if p.CMYK {
		screens = []screen{
			{p.Angle + 15, [3]float64{1, 1, k}}, // cyan absorbs red
			{p.Angle + 75, [3]float64{1, k, 1}}, // magenta absorbs green
			{p.Angle, [3]float64{k, 1, 1}},      // yellow absorbs blue
			{p.Angle + 45, [3]float64{k, k, k}}, // black
		}
	} else {
		screens = []screen{{p.Angle + 45, [3]float64{k, k, k}}}
	}
	sin, cos := make([]float64, len(screens)), make([]float64, len(screens))
	for i, s := range screens {
		sin[i], cos[i] = math.Sincos(s.angle * math.Pi / 180)
	}
	tone := func(v float64) float64 { return 0.5 + (clamp01(v)-0.5)*p.Contrast }
	for y := 0; y < m.h; y++ {
		for x := 0; x < m.w; x++ {
			i := (y*m.w + x) * 3
			var cover [4]float64
			if p.CMYK {
				c, mg, yl := 1-tone(m.pix[i+2]), 1-tone(m.pix[i+1]), 1-tone(m.pix[i])
				kk := min(c, mg, yl) // full under-colour removal
				cover = [4]float64{(c - kk) / (1 - kk + 1e-9), (mg - kk) / (1 - kk + 1e-9), (yl - kk) / (1 - kk + 1e-9), kk}
			} else {
				cover[0] = 1 - tone(m.luma(i))
			}
			refl := p.Paper
			for s := range screens {
				fx, fy := float64(x)+0.5, float64(y)+0.5
				u := (fx*cos[s] + fy*sin[s]) / p.Cell
				v := (-fx*sin[s] + fy*cos[s]) / p.Cell
				// Round dot: the threshold grows from each cell's centre.
				th := 1 - ((math.Cos(2*math.Pi*u)+math.Cos(2*math.Pi*v))/4 + 0.5)
				if th < cover[s] {
					for c := 0; c < 3; c++ {
						refl[c] *= screens[s].ink[c]
					}
				}
			}
			copy(m.pix[i:i+3], refl[:])
		}
	}
}

// sheetQuad returns where the corners of a w×h sheet land in the w×h
// frame (top-left, top-right, bottom-right, bottom-left).
func sheetQuad(w, h int, p PrintParams, scale float64) [4]pt {
	fw, fh := float64(w), float64(h)
	hs, ws := scale*fh, scale*fw
	cx, cy := fw/2, fh/2
	if p.Edge {
		cx, cy = cx+p.OffX*fw, cy+p.OffY*fh
	}
	top := ws / 2 * (1 - p.Tilt)
	q := [4]pt{{-top, -hs / 2}, {top, -hs / 2}, {ws / 2, hs / 2}, {-ws / 2, hs / 2}}
	sin, cos := math.Sincos(p.Rotate * math.Pi / 180)
	for i, c := range q {
		q[i] = pt{cx + c.x*cos - c.y*sin, cy + c.x*sin + c.y*cos}
	}
	return q
}

// warpSheet places the printed sheet in the camera's view: tilted and
// rotated, over the background when its edge is in view, else enlarged
// until it covers the whole frame.
func warpSheet(sheet *img, p PrintParams) *img {
	w, h := sheet.w, sheet.h
	q := sheetQuad(w, h, p, p.Scale)
	if !p.Edge {
		corners := []pt{{0, 0}, {float64(w), 0}, {float64(w), float64(h)}, {0, float64(h)}}
		for s := 1.0; ; s *= 1.03 {
			q = sheetQuad(w, h, p, s)
			ok := true
			for _, c := range corners {
				ok = ok && insideConvex(q, c)
			}
			if ok {
				break
			}
		}
	}
	src := [4]pt{{0, 0}, {float64(w), 0}, {float64(w), float64(h)}, {0, float64(h)}}
	toSheet := homographyFrom(q, src)
	out := newImg(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			s := toSheet.apply(pt{float64(x) + 0.5, float64(y) + 0.5})
			i := (y*w + x) * 3
			if s.x < 0 || s.y < 0 || s.x >= float64(w) || s.y >= float64(h) {
				copy(out.pix[i:i+3], p.Background[:])
				continue
			}
			for c := 0; c < 3; c++ {
				out.pix[i+c] = sheet.bilinear(s.x, s.y, c)
			}
		}
	}
	return out
}
