package vpx

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os/exec"
	"path/filepath"
	"testing"

	"vidid/internal/media"
	"vidid/internal/testenv"
)

func source(t testing.TB) string {
	return filepath.Join(testenv.DataDir(t), "video", "bonafide", "s01-apfol-real2.webm")
}

func clip(t testing.TB) [][]byte {
	return media.ReadIVF(t, media.IVF(t, source(t), 640, 480, 15, 3))
}

// ffmpegDecode decodes an IVF file with ffmpeg's own VP8 decoder into raw
// frames of the given pixel format (bytes per frame: n).
func ffmpegDecode(t *testing.T, ivf, pixFmt string, n int) [][]byte {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-i", ivf, "-pix_fmt", pixFmt, "-f", "rawvideo", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg reference decode: %v", err)
	}
	if len(out)%n != 0 {
		t.Fatalf("ffmpeg gave %d bytes, not a multiple of %d", len(out), n)
	}
	var fs [][]byte
	for ; len(out) > 0; out = out[n:] {
		fs = append(fs, out[:n])
	}
	return fs
}

// bt601 converts an I420 picture to packed BGR with the exact (floating
// point) BT.601 limited-range formula, each chroma sample covering 2x2 pixels.
func bt601(yuv []byte, w, h int) []byte {
	cw, ch := (w+1)/2, (h+1)/2
	ys, us, vs := yuv[:w*h], yuv[w*h:w*h+cw*ch], yuv[w*h+cw*ch:]
	out := make([]byte, w*h*3)
	clamp := func(v float64) byte { return byte(math.Round(math.Max(0, math.Min(255, v)))) }
	for y := range h {
		for x := range w {
			l := 1.164 * float64(int(ys[y*w+x])-16)
			u := float64(int(us[(y/2)*cw+x/2]) - 128)
			v := float64(int(vs[(y/2)*cw+x/2]) - 128)
			o := out[(y*w+x)*3:]
			o[0], o[1], o[2] = clamp(l+2.018*u), clamp(l-0.391*u-0.813*v), clamp(l+1.596*v)
		}
	}
	return out
}

// diff returns the mean and the largest absolute difference of two buffers,
// and how many bytes differ by more than 3.
func diff(a, b []byte) (mean float64, most, over3 int) {
	sum := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		sum += d
		most = max(most, d)
		if d > 3 {
			over3++
		}
	}
	return float64(sum) / float64(len(a)), most, over3
}

// TestDecodeMatchesReference decodes real VP8 streams (even and odd sizes)
// with the SIMD and the portable conversion and checks every picture:
// against the exact BT.601 formula applied to ffmpeg's own decode of the
// same stream (within one level: fixed-point rounding), and, where ffmpeg's
// converter also uses plain 2x2 chroma (even sizes), against ffmpeg's BGR.
func TestDecodeMatchesReference(t *testing.T) {
	src := source(t)
	for _, size := range []struct{ w, h int }{{640, 480}, {321, 241}} {
		ivf := media.IVF(t, src, size.w, size.h, 15, 2)
		fs := media.ReadIVF(t, ivf)
		yuvSize := size.w*size.h + 2*((size.w+1)/2)*((size.h+1)/2)
		yuv := ffmpegDecode(t, ivf, "yuv420p", yuvSize)
		var bgr [][]byte
		if size.w%2 == 0 && size.h%2 == 0 {
			bgr = ffmpegDecode(t, ivf, "bgr24", size.w*size.h*3)
		}
		if len(yuv) != len(fs) {
			t.Fatalf("%dx%d: %d IVF frames, ffmpeg decoded %d", size.w, size.h, len(fs), len(yuv))
		}
		for _, simd := range []bool{true, false} {
			t.Run(fmt.Sprintf("%dx%d/simd=%v", size.w, size.h, simd), func(t *testing.T) {
				defer setSIMD(setSIMD(simd))
				d, err := NewDecoder()
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				for i, fr := range fs {
					img, err := d.Decode(fr)
					if err != nil {
						t.Fatalf("frame %d: %v", i, err)
					}
					if img.Width != size.w || img.Height != size.h || img.Validate() != nil {
						t.Fatalf("frame %d: %dx%d with %d bytes", i, img.Width, img.Height, len(img.Pix))
					}
					if _, most, _ := diff(img.Pix, bt601(yuv[i], size.w, size.h)); most > 1 {
						t.Fatalf("frame %d: a byte differs by %d from the BT.601 formula", i, most)
					}
					if bgr != nil {
						if mean, _, over3 := diff(img.Pix, bgr[i]); mean > 1.5 || over3 > len(img.Pix)/1000 {
							t.Fatalf("frame %d differs from ffmpeg's BGR: mean |diff| %.2f, %d bytes off by more than 3", i, mean, over3)
						}
					}
				}
			})
		}
	}
}

func TestDecodeReusesBuffer(t *testing.T) {
	fs := clip(t)
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a, err := d.Decode(fs[0])
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Decode(fs[1])
	if err != nil {
		t.Fatal(err)
	}
	if &a.Pix[0] != &b.Pix[0] {
		t.Error("Decode allocated a new buffer for a same-size frame")
	}
	i := 2
	if n := testing.AllocsPerRun(20, func() {
		if _, err := d.Decode(fs[i%len(fs)]); err != nil {
			t.Fatal(err)
		}
		i++
	}); n > 0 {
		t.Errorf("Decode allocates %.1f times per frame, want 0", n)
	}

	// DecodeInto writes into the caller's buffer when it is large enough,
	// and into a new one when it is not.
	own := make([]byte, 640*480*3)
	c, err := d.DecodeInto(own, fs[i%len(fs)])
	if err != nil {
		t.Fatal(err)
	}
	if &c.Pix[0] != &own[0] || &c.Pix[0] == &b.Pix[0] {
		t.Error("DecodeInto did not use the caller's buffer")
	}
	small := make([]byte, 10)
	c, err = d.DecodeInto(small, fs[(i+1)%len(fs)])
	if err != nil || c.Validate() != nil || &c.Pix[0] == &small[0] {
		t.Errorf("DecodeInto with a small buffer: %v", err)
	}
}

func TestCorruptInput(t *testing.T) {
	fs := clip(t)
	rng := rand.New(rand.NewSource(1))
	random := make([]byte, 3000)
	rng.Read(random)
	flipped := bytes.Clone(fs[0])
	for i := 20; i < len(flipped); i += 7 {
		flipped[i] ^= 0x5a
	}
	// A keyframe header claiming 16000x16000 (beyond what is accepted).
	huge := bytes.Clone(fs[0])
	huge[6], huge[7], huge[8], huge[9] = 0x80, 0x3e, 0x80, 0x3e
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"random", random},
		{"truncated keyframe", fs[0][:10]},
		{"delta frame before any keyframe", fs[1]},
		{"huge picture", huge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewDecoder()
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if _, err := d.Decode(tc.in); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			// Still usable: a keyframe decodes.
			if f, err := d.Decode(fs[0]); err != nil || f.Validate() != nil {
				t.Fatalf("keyframe after bad input: %v", err)
			}
		})
	}
	t.Run("damaged keyframe", func(t *testing.T) {
		// libvpx may conceal damage rather than refuse it; either way the
		// result is an error or a consistent frame, and the next keyframe
		// decodes cleanly.
		d, err := NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if f, err := d.Decode(flipped); err == nil && f.Validate() != nil {
			t.Fatalf("inconsistent frame from damaged data")
		}
		if _, err := d.Decode(fs[0]); err != nil {
			t.Fatalf("keyframe after damage: %v", err)
		}
	})
}

func TestClose(t *testing.T) {
	fs := clip(t)
	before := Live()
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	if Live() != before+1 {
		t.Fatalf("Live = %d after NewDecoder, want %d", Live(), before+1)
	}
	for range 2 {
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if Live() != before {
		t.Fatalf("Live = %d after Close, want %d", Live(), before)
	}
	if _, err := d.Decode(fs[0]); !errors.Is(err, ErrClosed) {
		t.Fatalf("Decode after Close: %v", err)
	}
}

// FuzzDecode feeds arbitrary bytes to a decoder, alone and after a real
// keyframe (so damaged delta frames reach the inter-frame decoder).
// testdata/tiny.ivf is a synthetic 64x48 clip (ffmpeg testsrc).
func FuzzDecode(f *testing.F) {
	tiny := media.ReadIVF(f, filepath.Join("testdata", "tiny.ivf"))
	for _, fr := range tiny {
		f.Add(fr, false)
		f.Add(fr, true)
	}
	f.Add([]byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01}, false)
	d, err := NewDecoder()
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { d.Close() })
	f.Fuzz(func(t *testing.T, b []byte, afterKeyframe bool) {
		if afterKeyframe {
			if _, err := d.Decode(tiny[0]); err != nil {
				t.Fatalf("keyframe: %v", err)
			}
		}
		img, err := d.Decode(b)
		switch {
		case err == nil:
			if img.Validate() != nil {
				t.Fatal("decoded an inconsistent frame")
			}
		case !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNoPicture):
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}

// BenchmarkDecode is VP8 decode + I420→BGR of a 640x480 stream, per frame
// (target <= 3 ms on one core), with the SIMD and the portable conversion.
func BenchmarkDecode(b *testing.B) {
	fs := clip(b)
	for _, simd := range []bool{true, false} {
		b.Run(fmt.Sprintf("simd=%v", simd), func(b *testing.B) {
			defer setSIMD(setSIMD(simd))
			d, err := NewDecoder()
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			i := 0
			testenv.ReportCPU(b, func() {
				if i == len(fs) {
					i = 0
				}
				if _, err := d.Decode(fs[i]); err != nil {
					b.Fatal(err)
				}
				i++
			})
		})
	}
}
