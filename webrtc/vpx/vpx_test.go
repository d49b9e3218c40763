package vpx

import (
	"errors"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"

	"vidid/internal/media"
	"vidid/internal/testenv"
)

// frames reads every frame of a VP8 IVF file.
func frames(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		fr, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fr)
	}
}

func clip(t testing.TB) [][]byte {
	src := filepath.Join(testenv.DataDir(t), "video", "bonafide", "s01-apfol-real2.webm")
	return frames(t, media.IVF(t, src, 640, 480, 15, 3))
}

func TestDecode(t *testing.T) {
	fs := clip(t)
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	n := 0
	for _, fr := range fs {
		img, err := d.Decode(fr)
		if err != nil {
			t.Fatalf("frame %d: %v", n, err)
		}
		if img.Width != 640 || img.Height != 480 || img.Validate() != nil {
			t.Fatalf("frame %d: %dx%d", n, img.Width, img.Height)
		}
		n++
	}
	if n < 40 {
		t.Fatalf("decoded %d frames of a 3 s 15 fps clip", n)
	}
	// The picture is not blank: a face video has contrast.
	img, _ := d.Decode(fs[len(fs)-1])
	lo, hi := 255, 0
	for _, v := range img.Pix {
		lo, hi = min(lo, int(v)), max(hi, int(v))
	}
	if hi-lo < 100 {
		t.Fatalf("decoded picture has range %d..%d", lo, hi)
	}
}

func TestCorruptInput(t *testing.T) {
	fs := clip(t)
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rng := rand.New(rand.NewSource(1))
	garbage := make([]byte, 3000)
	rng.Read(garbage)
	for name, in := range map[string][]byte{"empty": nil, "random": garbage, "truncated keyframe": fs[0][:10]} {
		if _, err := d.Decode(in); !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNoPicture) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
	// Still usable after garbage: a keyframe decodes.
	if _, err := d.Decode(fs[0]); err != nil {
		t.Fatalf("keyframe after garbage: %v", err)
	}
	_ = d.Close()
	_ = d.Close()
	if _, err := d.Decode(fs[0]); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01})
	d, err := NewDecoder()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := d.Decode(b)
		if err == nil && img.Validate() != nil {
			t.Fatal("decoded an inconsistent frame")
		}
	})
}

// BenchmarkDecode is VP8 decode + I420→BGR of a 640x480 stream, per frame
// (target <= 3 ms on one core).
func BenchmarkDecode(b *testing.B) {
	fs := clip(b)
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
}
