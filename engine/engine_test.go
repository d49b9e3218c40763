package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// checker draws a sharp chequerboard of the given luma levels.
func checker(w, h, cell int, lo, hi uint8) Frame {
	f := Frame{Width: w, Height: h, Pix: make([]byte, w*h*3)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := lo
			if (x/cell+y/cell)%2 == 0 {
				v = hi
			}
			i := (y*w + x) * 3
			f.Pix[i], f.Pix[i+1], f.Pix[i+2] = v, v, v
		}
	}
	return f
}

func flat(w, h int, v uint8) Frame {
	f := Frame{Width: w, Height: h, Pix: bytes.Repeat([]byte{v}, w*h*3)}
	return f
}

func encodePNG(t *testing.T, f Frame) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, f.ToImage()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngHeader is the signature and IHDR chunk of a PNG claiming w×h RGBA
// pixels, with no pixel data.
func pngHeader(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA, no interlace
	chunk := append([]byte("IHDR"), ihdr...)
	out := append([]byte("\x89PNG\r\n\x1a\n"), binary.BigEndian.AppendUint32(nil, uint32(len(ihdr)))...)
	out = append(out, chunk...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(chunk))
}

func TestDecodeImage(t *testing.T) {
	src := checker(64, 64, 8, 20, 230)
	good := encodePNG(t, src)
	jpg, err := src.EncodeJPEG(95)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      []byte
		wantErr error
		msg     string
	}{
		{"png", good, nil, ""},
		{"jpeg", jpg, nil, ""},
		{"empty", nil, ErrBadImage, "empty"},
		{"text", []byte("hello, this is not an image at all"), ErrBadImage, "not a JPEG or PNG"},
		{"truncated png", good[:len(good)/2], ErrBadImage, "decode png"},
		{"truncated jpeg", jpg[:len(jpg)/3], ErrBadImage, "truncated"},
		{"tiny", encodePNG(t, flat(10, 10, 100)), ErrBadImage, "smaller"},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ErrBadImage, ""},
		// A 33-byte header claiming 40 megapixels (an image bomb): refused
		// from the header, before any pixel is decoded.
		{"40 MP header", pngHeader(8000, 5000), ErrBadImage, "larger than allowed"},
		{"20 MP header", pngHeader(5000, 4000), ErrBadImage, "larger than allowed"},
		{"one side too long", pngHeader(7000, 100), ErrBadImage, "larger than allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := DecodeImage(tc.in)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("DecodeImage: %v", err)
				}
				if f.Width != 64 || f.Height != 64 || f.Validate() != nil {
					t.Fatalf("got %dx%d", f.Width, f.Height)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err %q does not say %q", err, tc.msg)
			}
		})
	}
}

func TestDecodeImageRoundTripColours(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 50, 50))
	for i := range 50 * 50 {
		img.Set(i%50, i/50, color.RGBA{R: 200, G: 100, B: 10, A: 255})
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	f, err := DecodeImage(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if bb, g, r := f.At(10, 10); bb != 10 || g != 100 || r != 200 {
		t.Fatalf("BGR = %d,%d,%d, want 10,100,200", bb, g, r)
	}
}

func FuzzDecodeImage(f *testing.F) {
	f.Add([]byte{0xff, 0xd8, 0xff})
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := DecodeImage(b)
		if err == nil && fr.Validate() != nil {
			t.Fatalf("decoded a malformed frame")
		}
		if err != nil && !errors.Is(err, ErrBadImage) {
			t.Fatalf("error does not wrap ErrBadImage: %v", err)
		}
	})
}

func TestScore(t *testing.T) {
	a := Embedding{Model: "m", Metric: Cosine, Vector: []float32{1, 0}}
	tests := []struct {
		name    string
		a, b    Embedding
		want    float64
		wantErr bool
	}{
		{"cosine same", a, a, 1, false},
		{"cosine opposite", a, Embedding{Model: "m", Metric: Cosine, Vector: []float32{-2, 0}}, 0, false},
		{"cosine orthogonal", a, Embedding{Model: "m", Metric: Cosine, Vector: []float32{0, 3}}, 0.5, false},
		{"euclidean 0.6", Embedding{Model: "d", Metric: Euclidean, Vector: []float32{0, 0}}, Embedding{Model: "d", Metric: Euclidean, Vector: []float32{0.6, 0}}, 0.7, false},
		{"euclidean far clamps", Embedding{Model: "d", Metric: Euclidean, Vector: []float32{0}}, Embedding{Model: "d", Metric: Euclidean, Vector: []float32{5}}, 0, false},
		{"model mismatch", a, Embedding{Model: "other", Metric: Cosine, Vector: []float32{1, 0}}, 0, true},
		{"length mismatch", a, Embedding{Model: "m", Metric: Cosine, Vector: []float32{1}}, 0, true},
		{"zero vector", a, Embedding{Model: "m", Metric: Cosine, Vector: []float32{0, 0}}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Score(tc.a, tc.b)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				if !errors.Is(err, ErrModelMismatch) {
					t.Fatalf("err %v does not wrap ErrModelMismatch", err)
				}
				return
			}
			if math.Abs(got-tc.want) > 1e-6 {
				t.Fatalf("score = %v, want %v", got, tc.want)
			}
		})
	}
}

// frontal returns 68 landmarks of an idealised frontal face in box b.
func frontal(b image.Rectangle) []Point {
	p := make([]Point, 68)
	x0, y0, w, h := float32(b.Min.X), float32(b.Min.Y), float32(b.Dx()), float32(b.Dy())
	for i := 0; i <= 16; i++ { // jaw from left to right through the chin
		a := math.Pi * float64(i) / 16
		p[i] = Point{x0 + w/2 - w/2*float32(math.Cos(a)), y0 + h*0.45 + h*0.5*float32(math.Sin(a))}
	}
	for i := 36; i < 42; i++ {
		p[i] = Point{x0 + w*0.33, y0 + h*0.4}
	}
	for i := 42; i < 48; i++ {
		p[i] = Point{x0 + w*0.67, y0 + h*0.4}
	}
	p[30] = Point{x0 + w*0.5, y0 + h*0.4 + (h*0.95-h*0.4)*0.31}
	return p
}

func TestPoseFromLandmarks(t *testing.T) {
	b := image.Rect(100, 100, 300, 300)
	p := frontal(b)
	pose := PoseFromLandmarks(p)
	if math.Abs(pose.Yaw) > 2 || math.Abs(pose.Roll) > 2 || math.Abs(pose.Pitch) > 5 {
		t.Fatalf("frontal pose = %+v", pose)
	}
	turned := append([]Point(nil), p...)
	turned[30].X += 60 // nose towards the image's right
	if y := PoseFromLandmarks(turned).Yaw; y < 20 {
		t.Fatalf("turned yaw = %.1f, want > 20", y)
	}
	tilted := append([]Point(nil), p...)
	for i := 42; i < 48; i++ {
		tilted[i].Y += 40
	}
	if r := PoseFromLandmarks(tilted).Roll; r < 15 {
		t.Fatalf("tilted roll = %.1f", r)
	}
}

func TestMeasureQuality(t *testing.T) {
	box := image.Rect(200, 100, 400, 340)
	face := Face{Box: box, Score: 0.99, Landmarks: frontal(box)}
	tests := []struct {
		name  string
		frame Frame
		face  Face
		want  []QualityIssue
	}{
		{"good", checker(640, 480, 4, 60, 190), face, nil},
		{"dark", checker(640, 480, 4, 5, 30), face, []QualityIssue{IssueTooDark}},
		{"bright", checker(640, 480, 4, 240, 255), face, []QualityIssue{IssueTooBright}},
		{"blurry", flat(640, 480, 128), face, []QualityIssue{IssueBlurry}},
		{"small", checker(640, 480, 2, 60, 190), Face{Box: image.Rect(10, 10, 50, 50), Landmarks: frontal(image.Rect(10, 10, 50, 50))}, []QualityIssue{IssueTooSmall}},
		{"no landmarks", checker(640, 480, 4, 60, 190), Face{Box: box}, []QualityIssue{IssueNoLandmark}},
		{"off frame", checker(640, 480, 4, 60, 190), Face{Box: image.Rect(500, 100, 800, 400), Landmarks: frontal(image.Rect(500, 100, 800, 400))}, []QualityIssue{IssueOffFrame}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := MeasureQuality(tc.frame, tc.face, QualityConfig{})
			for _, w := range tc.want {
				if !q.Has(w) {
					t.Errorf("issues %v lack %v (%s)", q.Issues, w, q)
				}
			}
			if tc.want == nil && !q.OK() {
				t.Errorf("unexpected issues: %s", q)
			}
		})
	}
}

type fakeEmbedder struct{ vec []float32 }

func (f fakeEmbedder) Model() string { return "fake" }
func (f fakeEmbedder) Embed(ctx context.Context, fr Frame, face Face) (Embedding, error) {
	if face.Landmarks == nil {
		return Embedding{}, errors.New("no landmarks")
	}
	return Embedding{Model: "fake", Metric: Cosine, Vector: f.vec}, nil
}

func TestPipelineProbe(t *testing.T) {
	main := image.Rect(200, 100, 400, 340)
	lm := LandmarkerFunc(func(ctx context.Context, f Frame, face Face) ([]Point, error) { return frontal(face.Box), nil })
	frame := checker(640, 480, 4, 60, 190)
	tests := []struct {
		name  string
		faces []Face
		want  error
	}{
		{"one face", []Face{{Box: main, Score: .99}}, nil},
		{"no face", nil, ErrNoFace},
		{"two faces", []Face{{Box: main, Score: .99}, {Box: image.Rect(450, 200, 560, 330), Score: .9}}, ErrMultipleFaces},
		{"tiny background face ignored", []Face{{Box: main, Score: .99}, {Box: image.Rect(10, 10, 30, 30), Score: .7}}, nil},
		{"small face", []Face{{Box: image.Rect(10, 10, 40, 40), Score: .99}}, ErrPoorQuality},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			det := DetectorFunc(func(ctx context.Context, f Frame) ([]Face, error) { return append([]Face(nil), tc.faces...), nil })
			reg := prometheus.NewPedanticRegistry()
			p, err := New(Config{}, det, lm, fakeEmbedder{[]float32{1, 2}}, WithRegisterer(reg))
			if err != nil {
				t.Fatal(err)
			}
			pr, err := p.ProbeImage(context.Background(), frame)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want == nil {
				if s, err := Score(pr.Embedding, pr.Embedding); err != nil || s < 0.999 {
					t.Fatalf("self score %v, %v", s, err)
				}
				if n := testutil.CollectAndCount(reg, "vidid_engine_stage_duration_seconds"); n == 0 {
					t.Fatal("no stage latencies recorded")
				}
				if probs, err := testutil.CollectAndLint(reg); err != nil || len(probs) > 0 {
					t.Fatalf("metric lint: %v %v", probs, err)
				}
			}
		})
	}
}

func BenchmarkMeasureQuality(b *testing.B) {
	f := checker(640, 480, 3, 40, 200)
	rng := rand.New(rand.NewSource(1))
	for i := range f.Pix {
		f.Pix[i] += uint8(rng.Intn(8))
	}
	box := image.Rect(200, 100, 400, 340)
	face := Face{Box: box, Landmarks: frontal(box)}
	b.ReportAllocs()
	for b.Loop() {
		MeasureQuality(f, face, QualityConfig{})
	}
}

func TestMainFace(t *testing.T) {
	f := Frame{Width: 250, Height: 250}
	tests := []struct {
		name  string
		faces []Face
		want  int
	}{
		{"one", []Face{{Box: image.Rect(80, 80, 170, 180)}}, 0},
		{"cut-off face at the edge is larger", []Face{{Box: image.Rect(0, 60, 60, 190)}, {Box: image.Rect(85, 70, 165, 170)}}, 1},
		{"small central face in the background", []Face{{Box: image.Rect(110, 110, 140, 140)}, {Box: image.Rect(20, 40, 140, 200)}}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mainFace(f, tc.faces); got != tc.want {
				t.Fatalf("main face %d, want %d", got, tc.want)
			}
		})
	}
}

type fakeAligner struct{ fakeEmbedder }

func (fakeAligner) Align(ctx context.Context, f Frame, face Face) (Frame, error) {
	if face.Landmarks == nil {
		return Frame{}, errors.New("no landmarks")
	}
	return Frame{Width: 2, Height: 2, Pix: make([]byte, 12)}, nil
}

// Align hands out the embedder's chip when it has one and says so when not.
func TestPipelineAlign(t *testing.T) {
	det := DetectorFunc(func(ctx context.Context, f Frame) ([]Face, error) { return nil, nil })
	lm := LandmarkerFunc(func(ctx context.Context, f Frame, face Face) ([]Point, error) { return nil, nil })
	face := Face{Box: image.Rect(0, 0, 10, 10), Landmarks: frontal(image.Rect(0, 0, 10, 10))}
	frame := checker(64, 64, 4, 60, 190)
	with, err := New(Config{}, det, lm, fakeAligner{})
	if err != nil {
		t.Fatal(err)
	}
	if chip, err := with.Align(context.Background(), frame, face); err != nil || chip.Width != 2 {
		t.Fatalf("Align: %+v, %v", chip, err)
	}
	if _, err := with.Align(context.Background(), frame, Face{Box: face.Box}); err == nil {
		t.Fatal("Align without landmarks succeeded")
	}
	without, err := New(Config{}, det, lm, fakeEmbedder{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := without.Align(context.Background(), frame, face); !errors.Is(err, ErrNoAligner) {
		t.Fatalf("Align without an aligner: %v, want ErrNoAligner", err)
	}
}
