package dlib

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"math"
	"testing"

	"vidid/engine"
)

func solidFrame(w, h int, b, g, r byte) engine.Frame {
	f := engine.Frame{Width: w, Height: h, Pix: make([]byte, w*h*3)}
	for i := 0; i < len(f.Pix); i += 3 {
		f.Pix[i], f.Pix[i+1], f.Pix[i+2] = b, g, r
	}
	return f
}

func TestFilterWeights(t *testing.T) {
	for _, tc := range []struct{ sn, dn int }{{10, 10}, {100, 37}, {37, 100}, {1, 50}, {50, 1}, {641, 160}} {
		t.Run("", func(t *testing.T) {
			ws := filterWeights(tc.sn, tc.dn)
			if len(ws) != tc.dn {
				t.Fatalf("%d taps, want %d", len(ws), tc.dn)
			}
			for i, tp := range ws {
				var sum float64
				for _, w := range tp.w {
					if w < 0 {
						t.Fatalf("output %d: negative weight %v", i, w)
					}
					sum += float64(w)
				}
				if math.Abs(sum-1) > 1e-5 {
					t.Fatalf("output %d: weights sum to %v", i, sum)
				}
				if tp.first < 0 || tp.first+len(tp.w) > tc.sn {
					t.Fatalf("output %d: taps %d..%d outside 0..%d", i, tp.first, tp.first+len(tp.w)-1, tc.sn-1)
				}
			}
		})
	}
}

func TestResampleRGBA(t *testing.T) {
	// A frame whose pixels encode their own coordinates (B=x, G=y, R=7).
	grad := engine.Frame{Width: 64, Height: 48, Pix: make([]byte, 64*48*3)}
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			i := (y*64 + x) * 3
			grad.Pix[i], grad.Pix[i+1], grad.Pix[i+2] = byte(x*4), byte(y*5), 7
		}
	}
	checker := engine.Frame{Width: 64, Height: 64, Pix: make([]byte, 64*64*3)}
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			if (x+y)%2 == 0 {
				i := (y*64 + x) * 3
				checker.Pix[i], checker.Pix[i+1], checker.Pix[i+2] = 255, 255, 255
			}
		}
	}
	t.Run("same size copies the region and swaps BGR to RGB", func(t *testing.T) {
		r := image.Rect(10, 5, 30, 25)
		img := resampleRGBA(grad, r, 20, 20)
		for y := 0; y < 20; y++ {
			for x := 0; x < 20; x++ {
				c := img.RGBAAt(x, y)
				if c.R != 7 || c.G != byte((y+5)*5) || c.B != byte((x+10)*4) || c.A != 255 {
					t.Fatalf("(%d,%d) = %v", x, y, c)
				}
			}
		}
	})
	t.Run("solid colour stays solid when scaled", func(t *testing.T) {
		f := solidFrame(50, 40, 10, 100, 200)
		for _, sz := range [][2]int{{173, 91}, {7, 5}, {50, 40}} {
			img := resampleRGBA(f, image.Rect(3, 2, 47, 39), sz[0], sz[1])
			for y := 0; y < sz[1]; y++ {
				for x := 0; x < sz[0]; x++ {
					if c := img.RGBAAt(x, y); c.R != 200 || c.G != 100 || c.B != 10 {
						t.Fatalf("%v: (%d,%d) = %v", sz, x, y, c)
					}
				}
			}
		}
	})
	t.Run("upscaling a gradient is monotonic", func(t *testing.T) {
		img := resampleRGBA(grad, grad.Bounds(), 200, 150)
		for x := 1; x < 200; x++ {
			if img.RGBAAt(x, 70).B < img.RGBAAt(x-1, 70).B {
				t.Fatalf("B not monotonic at x=%d", x)
			}
		}
	})
	t.Run("downscaling a checkerboard averages it (no aliasing)", func(t *testing.T) {
		img := resampleRGBA(checker, checker.Bounds(), 16, 16)
		for y := 1; y < 15; y++ {
			for x := 1; x < 15; x++ {
				if c := img.RGBAAt(x, y); c.R < 110 || c.R > 145 {
					t.Fatalf("(%d,%d) = %d, want about 128", x, y, c.R)
				}
			}
		}
	})
}

func TestEncodeRegion(t *testing.T) {
	f := solidFrame(120, 90, 30, 60, 220)
	b, err := encodeRegion(f, image.Rect(10, 10, 70, 80), 150, 175, 95)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("output is not a JPEG: %v", err)
	}
	if got := img.Bounds().Size(); got != image.Pt(150, 175) {
		t.Fatalf("size %v, want 150x175", got)
	}
	r, g, bb, _ := img.At(75, 80).RGBA()
	if d := math.Abs(float64(r>>8)-220) + math.Abs(float64(g>>8)-60) + math.Abs(float64(bb>>8)-30); d > 12 {
		t.Fatalf("colour %d,%d,%d, want about 220,60,30", r>>8, g>>8, bb>>8)
	}
}

func TestCropGeometry(t *testing.T) {
	frame := image.Rect(0, 0, 640, 480)
	for _, tc := range []struct {
		name           string
		box            image.Rectangle
		margin         float64
		size           int
		wantCrop       image.Rectangle
		wantDW, wantDH int
	}{
		{"centre, upscaled", image.Rect(300, 200, 350, 250), 0.6, 160, image.Rect(270, 170, 380, 280), 352, 352},
		{"clamped at the corner", image.Rect(0, 0, 100, 120), 0.6, 160, image.Rect(0, 0, 160, 192), 213, 256},
		{"large face, downscaled", image.Rect(100, 0, 500, 400), 0.6, 160, image.Rect(0, 0, 640, 480), 256, 192},
		{"no margin", image.Rect(10, 10, 90, 90), 0, 80, image.Rect(10, 10, 90, 90), 80, 80},
	} {
		t.Run(tc.name, func(t *testing.T) {
			crop, dw, dh := cropGeometry(frame, tc.box, tc.margin, tc.size)
			if crop != tc.wantCrop || dw != tc.wantDW || dh != tc.wantDH {
				t.Fatalf("got %v %dx%d, want %v %dx%d", crop, dw, dh, tc.wantCrop, tc.wantDW, tc.wantDH)
			}
		})
	}
}

func TestIoU(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b image.Rectangle
		want float64
	}{
		{"identical", image.Rect(0, 0, 10, 10), image.Rect(0, 0, 10, 10), 1},
		{"disjoint", image.Rect(0, 0, 10, 10), image.Rect(20, 20, 30, 30), 0},
		{"touching", image.Rect(0, 0, 10, 10), image.Rect(10, 0, 20, 10), 0},
		{"half overlap", image.Rect(0, 0, 10, 10), image.Rect(5, 0, 15, 10), 50.0 / 150},
		{"contained", image.Rect(0, 0, 10, 10), image.Rect(0, 0, 5, 5), 0.25},
		{"empty", image.Rect(0, 0, 10, 10), image.Rectangle{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := iou(tc.a, tc.b); math.Abs(got-tc.want) > 1e-9 {
				t.Fatalf("iou = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestToFrame(t *testing.T) {
	// A 2x-scaled crop starting at (100, 50).
	got := toFrame(image.Rect(20, 40, 120, 140), image.Pt(100, 50), 2, 2)
	if want := image.Rect(110, 70, 160, 120); got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"negative padding", Config{Padding: -0.1}},
		{"negative jitter", Config{Jitter: -1}},
		{"face size below HOG window", Config{FaceSize: 40}},
		{"IoU above 1", Config{MinIoU: 1.5}},
		{"JPEG quality above 100", Config{JPEGQuality: 101}},
		{"negative margin", Config{Margin: -1}},
		{"NaN IoU", Config{MinIoU: math.NaN()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewEmbedder(tc.cfg)
			if !errors.Is(err, ErrBadConfig) {
				t.Fatalf("err = %v, want ErrBadConfig", err)
			}
		})
	}
	for _, up := range []float64{0.1, 5, math.NaN()} {
		if _, err := NewDetector(DetectorConfig{Upscale: up}); !errors.Is(err, ErrBadConfig) {
			t.Fatalf("Upscale %v: err = %v, want ErrBadConfig", up, err)
		}
	}
}
