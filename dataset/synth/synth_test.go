package synth

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"vidid/engine"
)

// textured is a smooth colour gradient with a soft blob: a stand-in for a
// face picture with no extreme values.
func textured(w, h int) engine.Frame {
	f := engine.Frame{Width: w, Height: h, Pix: make([]byte, w*h*3)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := float64(x-w/2)/float64(w), float64(y-h/2)/float64(h)
			blob := 60 * math.Exp(-(dx*dx+dy*dy)*12)
			i := (y*w + x) * 3
			f.Pix[i] = uint8(60 + 80*float64(x)/float64(w) + blob)
			f.Pix[i+1] = uint8(70 + 90*float64(y)/float64(h) + blob)
			f.Pix[i+2] = uint8(90 + 50*float64(x+y)/float64(w+h) + blob)
		}
	}
	return f
}

func flat(w, h int, v uint8) engine.Frame {
	f := engine.Frame{Width: w, Height: h, Pix: make([]byte, w*h*3)}
	for i := range f.Pix {
		f.Pix[i] = v
	}
	return f
}

func luma(f engine.Frame, x, y int) float64 {
	b, g, r := f.At(x, y)
	return (0.114*float64(b) + 0.587*float64(g) + 0.299*float64(r)) / 255
}

func TestDeterministicAndSizeKept(t *testing.T) {
	src := textured(96, 80)
	for _, tc := range []struct {
		name string
		make func(seed uint64) engine.Frame
	}{
		{"print with edge", func(s uint64) engine.Frame { return Print(src, RandomPrint(rand.New(rand.NewPCG(s, 0)), true)) }},
		{"print filling the frame", func(s uint64) engine.Frame { return Print(src, RandomPrint(rand.New(rand.NewPCG(s, 0)), false)) }},
		{"screen", func(s uint64) engine.Frame { return Screen(src, RandomScreen(rand.New(rand.NewPCG(s, 0)))) }},
		{"variants", func(s uint64) engine.Frame { return Variants(src, s, "a.jpg", 4)[3].Frame }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, c := tc.make(7), tc.make(7), tc.make(8)
			if a.Width != src.Width || a.Height != src.Height || len(a.Pix) != len(src.Pix) {
				t.Fatalf("size %dx%d (%d bytes), want %dx%d", a.Width, a.Height, len(a.Pix), src.Width, src.Height)
			}
			if !slices.Equal(a.Pix, b.Pix) {
				t.Error("same seed, different images")
			}
			if slices.Equal(a.Pix, c.Pix) {
				t.Error("different seeds, same image")
			}
			if slices.Equal(a.Pix, src.Pix) {
				t.Error("image unchanged")
			}
		})
	}
}

// sharpPrint is a print with no geometry or blur, so the screen shows.
func sharpPrint(cmyk bool) PrintParams {
	return PrintParams{CMYK: cmyk, Cell: 4, Angle: 10, Paper: [3]float64{0.9, 0.95, 0.95}, Ink: 0.1, Contrast: 0.8}
}

// extremeShare is the share of channel values within 0.06 of paper
// white or of full ink on it.
func extremeShare(f engine.Frame, p PrintParams) float64 {
	n := 0
	for i, v := range f.Pix {
		w := p.Paper[i%3] * 255
		if math.Abs(float64(v)-w) < 0.06*255 || float64(v) < (p.Ink+0.06)*w {
			n++
		}
	}
	return float64(n) / float64(len(f.Pix))
}

// border returns the pixels of the d-pixel ring around the frame.
func border(f engine.Frame, d int) [][3]uint8 {
	var out [][3]uint8
	for y := 0; y < f.Height; y++ {
		for x := 0; x < f.Width; x++ {
			if x < d || y < d || x >= f.Width-d || y >= f.Height-d {
				b, g, r := f.At(x, y)
				out = append(out, [3]uint8{b, g, r})
			}
		}
	}
	return out
}

// power is |DFT|² of s at frequency f (cycles per sample), mean removed.
func power(s []float64, f float64) float64 {
	mean := 0.0
	for _, v := range s {
		mean += v / float64(len(s))
	}
	var acc complex128
	for i, v := range s {
		acc += complex(v-mean, 0) * cmplx.Exp(complex(0, -2*math.Pi*f*float64(i)))
	}
	return real(acc * cmplx.Conj(acc))
}

func TestTransformEffects(t *testing.T) {
	const w, h = 120, 100
	bg := [3]float64{0.3, 0.4, 0.5}
	glareAt := ScreenParams{Pitch: 3, Fill: 0.8, Gamma: 1, Tint: [3]float64{1, 1, 1}, Glare: 1, GlareX: 0.3, GlareY: 0.6, GlareR: 0.1}
	for _, tc := range []struct {
		name  string
		src   engine.Frame
		apply func(engine.Frame) engine.Frame
		check func(t *testing.T, in, out engine.Frame)
	}{
		{"grey halftone: most values paper or ink", textured(w, h), func(f engine.Frame) engine.Frame { return Print(f, sharpPrint(false)) },
			func(t *testing.T, in, out engine.Frame) {
				if s, s0 := extremeShare(out, sharpPrint(false)), extremeShare(in, sharpPrint(false)); s < 0.9 || s0 > 0.3 {
					t.Errorf("extreme share %.2f (input %.2f), want >= 0.9 (input <= 0.3)", s, s0)
				}
			}},
		{"cmyk halftone: most values paper or ink", textured(w, h), func(f engine.Frame) engine.Frame { return Print(f, sharpPrint(true)) },
			func(t *testing.T, in, out engine.Frame) {
				if s := extremeShare(out, sharpPrint(true)); s < 0.9 {
					t.Errorf("extreme share %.2f, want >= 0.9", s)
				}
			}},
		{"edge in view: uniform background border", textured(w, h), func(f engine.Frame) engine.Frame {
			return Print(f, PrintParams{Cell: 3, Paper: [3]float64{0.9, 0.9, 0.9}, Ink: 0.1, Contrast: 0.8, Tilt: 0.1, Rotate: 5,
				Edge: true, Scale: 0.6, OffX: 0.05, Background: bg, Blur: 1})
		}, func(t *testing.T, in, out engine.Frame) {
			want := [3]uint8{uint8(math.Round(bg[0] * 255)), uint8(math.Round(bg[1] * 255)), uint8(math.Round(bg[2] * 255))}
			for _, p := range border(out, 4) {
				if !near(p, want) {
					t.Fatalf("border pixel %v, want the background %v", p, want)
				}
			}
			if b, g, r := out.At(w/2, h/2); near([3]uint8{b, g, r}, want) {
				t.Error("centre is background, not the sheet")
			}
		}},
		{"sheet filling the frame: no background", textured(w, h), func(f engine.Frame) engine.Frame {
			return Print(f, PrintParams{Cell: 3, Paper: [3]float64{0.9, 0.9, 0.9}, Ink: 0.1, Contrast: 0.8, Tilt: 0.1, Rotate: -5,
				Background: [3]float64{0, 1, 0}})
		}, func(t *testing.T, in, out engine.Frame) {
			for _, p := range border(out, 1) {
				if p == [3]uint8{0, 255, 0} {
					t.Fatal("background visible at the border")
				}
			}
		}},
		{"glare: bright blob", flat(w, h, 100), func(f engine.Frame) engine.Frame { return Screen(f, glareAt) },
			func(t *testing.T, in, out engine.Frame) {
				cx, cy := int(glareAt.GlareX*w), int(glareAt.GlareY*h)
				if l := luma(out, cx, cy); l < 0.95 {
					t.Errorf("luma at the glare centre %.2f, want >= 0.95", l)
				}
				if l := luma(out, w-5, 5); l > 0.6 {
					t.Errorf("luma far from the glare %.2f, want about the input's %.2f", l, luma(in, w-5, 5))
				}
			}},
		{"grid: energy at the screen pitch", flat(w, h, 128), func(f engine.Frame) engine.Frame {
			return Screen(f, ScreenParams{Pitch: 3.3, Fill: 0.8, Gamma: 1, Tint: [3]float64{1, 1, 1}})
		}, func(t *testing.T, in, out engine.Frame) {
			// Mean green per column: the grid's period is the pitch.
			col := make([]float64, w)
			for x := 0; x < w; x++ {
				for y := 0; y < h; y++ {
					_, g, _ := out.At(x, y)
					col[x] += float64(g) / h
				}
			}
			grid, other := power(col, 1/3.3), power(col, 1/7.1)
			if grid < 100*other || grid < 1e3 {
				t.Errorf("power at 1/pitch %.3g, at an unrelated frequency %.3g", grid, other)
			}
		}},
		{"display tint: blue over red", flat(w, h, 128), func(f engine.Frame) engine.Frame {
			return Screen(f, ScreenParams{Pitch: 3, Fill: 0.8, Gamma: 1.2, Tint: [3]float64{1, 0.95, 0.8}, Black: 0.05, Blur: 1})
		}, func(t *testing.T, in, out engine.Frame) {
			var sum [3]float64
			for i, v := range out.Pix {
				sum[i%3] += float64(v)
			}
			if sum[0] < 1.1*sum[2] {
				t.Errorf("channel sums B %.0f R %.0f, want B > 1.1 R", sum[0], sum[2])
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := tc.apply(tc.src)
			if out.Width != tc.src.Width || out.Height != tc.src.Height {
				t.Fatalf("size %dx%d", out.Width, out.Height)
			}
			tc.check(t, tc.src, out)
		})
	}
}

func TestVariants(t *testing.T) {
	as := Variants(textured(64, 48), 3, "bonafide/x.jpg", 4)
	var types []string
	edges := map[bool]bool{}
	for _, a := range as {
		types = append(types, a.Type)
		if p, ok := a.Params.(PrintParams); ok {
			edges[p.Edge] = true
		}
	}
	if !slices.Equal(types, []string{AttackPrint, AttackScreen, AttackPrint, AttackScreen}) {
		t.Errorf("types %v", types)
	}
	if len(edges) != 2 {
		t.Errorf("prints with edge in view: %v, want both variants", edges)
	}
	r := as[1].Row("synthetic/s1/x-1.jpg", "s1", "frame", "bonafide/x.jpg")
	if r.Label != "attack" || r.AttackType != AttackScreen || r.Subject != "s1" || r.Kind != "frame" {
		t.Errorf("row %+v", r)
	}
	for _, want := range []string{Version, "seed=3", "pitch=", "from bonafide/x.jpg"} {
		if !strings.Contains(r.Source, want) {
			t.Errorf("source %q lacks %q", r.Source, want)
		}
	}
}

// near reports whether two pixels differ by at most 1 per channel.
func near(a, b [3]uint8) bool {
	for c := range a {
		if d := int(a[c]) - int(b[c]); d < -1 || d > 1 {
			return false
		}
	}
	return true
}
