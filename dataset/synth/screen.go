package synth

import (
	"fmt"
	"math"
	"math/rand/v2"

	"vidid/engine"
)

// ScreenParams describe a photo shown on a phone or monitor screen filmed
// by the camera.
type ScreenParams struct {
	Pitch float64 // screen pixel pitch in camera pixels; its R, G, B stripes are a third of it
	Angle float64 // grid rotation against the camera's, degrees
	Fill  float64 // lit fraction of a screen pixel's side (the rest is the black matrix)
	// Display transfer applied to the content: Black + (1-Black)·Tint·v^Gamma.
	Gamma float64
	Tint  [3]float64 // white point, BGR gains
	Black float64    // backlight leak: black level
	// Specular glare of a light on the glass: a bright additive blob.
	GlareX, GlareY float64 // centre, fractions of the frame
	GlareR         float64 // radius (Gaussian sigma), fraction of the frame height
	Glare          float64 // peak added
	Blur           float64 // Gaussian sigma in pixels
	Supersample    int     // camera pixel integration, samples per side (default 3)
}

// String lists the parameters compactly for the labels file's source.
func (p ScreenParams) String() string {
	return fmt.Sprintf("pitch=%.2f angle=%.2f fill=%.2f gamma=%.2f tint=%s black=%.3f glare=%.2f@%.2f/%.2f r=%.3f blur=%.2f",
		p.Pitch, p.Angle, p.Fill, p.Gamma, bgr(p.Tint), p.Black, p.Glare, p.GlareX, p.GlareY, p.GlareR, p.Blur)
}

// RandomScreen draws screen parameters.
func RandomScreen(rng *rand.Rand) ScreenParams {
	u := func(a, b float64) float64 { return a + (b-a)*rng.Float64() }
	cool := u(0, 0.08) // screens run bluish: a 6500-9000 K white point
	return ScreenParams{
		Pitch: u(0.8, 2), Angle: u(-4, 4), Fill: u(0.7, 0.9),
		Gamma: u(0.8, 1.25), Tint: [3]float64{1, 1 - cool/2, 1 - cool}, Black: u(0.03, 0.1),
		GlareX: u(0.15, 0.85), GlareY: u(0.15, 0.85), GlareR: u(0.05, 0.12), Glare: u(0.25, 0.6),
		Blur: u(0.6, 1.2),
	}
}

// Screen renders src as shown on a screen and filmed, same size.
func Screen(src engine.Frame, p ScreenParams) engine.Frame {
	m := fromFrame(src)
	display(m, p)
	out := subpixels(m, p)
	glare(out, p)
	out.blur(p.Blur)
	return out.frame()
}

// display applies the screen's transfer curve and white point.
func display(m *img, p ScreenParams) {
	for i, v := range m.pix {
		m.pix[i] = p.Black + (1-p.Black)*p.Tint[i%3]*math.Pow(clamp01(v), p.Gamma)
	}
}

// subpixels draws the content on a grid of screen pixels with vertical
// R, G, B stripes and a black matrix, and resamples that fine pattern to
// the camera's pixels by averaging Supersample² points each: the two
// grids beat (moiré) wherever the pitch and angle do not line up.
func subpixels(m *img, p ScreenParams) *img {
	ss := p.Supersample
	if ss <= 0 {
		ss = 3
	}
	sin, cos := math.Sincos(p.Angle * math.Pi / 180)
	cx, cy := float64(m.w)/2, float64(m.h)/2
	gain := 3 / (p.Fill * p.Fill) // a lit stripe covers Fill²/3 of its pixel: keep the mean
	stripe := [3]int{2, 1, 0}     // R, G, B left to right, in BGR indices
	out := newImg(m.w, m.h)
	for y := 0; y < m.h; y++ {
		for x := 0; x < m.w; x++ {
			var acc [3]float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					dx := float64(x) + (float64(sx)+0.5)/float64(ss) - cx
					dy := float64(y) + (float64(sy)+0.5)/float64(ss) - cy
					u := (dx*cos + dy*sin) / p.Pitch // screen grid coordinates
					v := (-dx*sin + dy*cos) / p.Pitch
					iu, iv := math.Floor(u), math.Floor(v)
					fu, fv := u-iu, v-iv
					k := int(fu * 3)
					if fv >= p.Fill || fu*3-float64(k) >= p.Fill {
						continue // black matrix
					}
					// The screen pixel shows the content at its centre.
					pu, pv := (iu+0.5)*p.Pitch, (iv+0.5)*p.Pitch
					px, py := cx+pu*cos-pv*sin, cy+pu*sin+pv*cos
					c := stripe[min(k, 2)]
					acc[c] += gain * m.at(int(px), int(py), c)
				}
			}
			i := (y*m.w + x) * 3
			for c := 0; c < 3; c++ {
				out.pix[i+c] = acc[c] / float64(ss*ss)
			}
		}
	}
	return out
}

// glare adds a white Gaussian blob: a light reflected by the glass.
func glare(m *img, p ScreenParams) {
	if p.Glare <= 0 || p.GlareR <= 0 {
		return
	}
	gx, gy, r := p.GlareX*float64(m.w), p.GlareY*float64(m.h), p.GlareR*float64(m.h)
	for y := 0; y < m.h; y++ {
		for x := 0; x < m.w; x++ {
			dx, dy := float64(x)+0.5-gx, float64(y)+0.5-gy
			g := p.Glare * math.Exp(-(dx*dx+dy*dy)/(2*r*r))
			i := (y*m.w + x) * 3
			for c := 0; c < 3; c++ {
				m.pix[i+c] = clamp01(m.pix[i+c]) + g
			}
		}
	}
}
