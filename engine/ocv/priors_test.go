package ocv

import (
	"context"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"vidid/engine"
	"vidid/engine/ocv/ocvtest"
)

func TestPriors(t *testing.T) {
	for _, tc := range []struct{ w, h, n int }{
		{320, 240, 4420}, // the count baked into the model file's decoder
		{240, 180, 30*23*3 + 15*12*2 + 8*6*2 + 4*3*3},
		{160, 120, 20*15*3 + 10*8*2 + 5*4*2 + 3*2*3},
	} {
		p := priors(tc.w, tc.h)
		if len(p) != tc.n {
			t.Errorf("%dx%d: %d priors, want %d", tc.w, tc.h, len(p), tc.n)
		}
		for _, q := range p {
			for _, v := range []float64{q.cx, q.cy, q.w, q.h} {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("%dx%d: prior %+v outside [0,1]", tc.w, tc.h, q)
				}
			}
		}
	}
	// First anchor: centre of the top-left stride-8 cell, 10 px.
	if p := priors(320, 240)[0]; math.Abs(p.cx-4.0/320) > 1e-12 || math.Abs(p.cy-4.0/240) > 1e-12 || math.Abs(p.w-10.0/320) > 1e-12 {
		t.Errorf("first prior %+v", p)
	}
}

// The heads decoded in Go must give what the model file's own decoder
// (its "scores" and "boxes" outputs) gives at the native 320x240, on real
// photos and frames with one and several faces.
func TestDetectorMatchesModelDecoder(t *testing.T) {
	root, data := ocvtest.ModelRoot(t), ocvtest.DataDir(t)
	d, err := NewDetector(DetectorConfig{ModelRoot: root, ScoreThreshold: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	full, err := OpenNet(root, "fr_detect.onnx", "scores", "boxes")
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	outs := []gocv.Mat{gocv.NewMat(), gocv.NewMat()}
	defer CloseMats(&outs[0], &outs[1])

	paths := append(ocvtest.Glob(t, data, "faces/o4n-*/*.jpg"), ocvtest.Glob(t, data, "spoof/multi-face/s09-zubair-frames/*.jpg")...)
	paths = append(paths, ocvtest.Glob(t, data, "spoof/bonafide/s01-apfol-frames/*.jpg")...)
	if len(paths) < 20 {
		t.Fatalf("only %d images", len(paths))
	}
	compared := 0
	for _, p := range paths {
		f := ocvtest.Load(t, p)
		got, err := d.Detect(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		want := modelDecoder(t, full, outs, f, d.cfg)
		name, _ := filepath.Rel(data, p)
		if len(got) != len(want) {
			t.Errorf("%s: %d faces, model decoder %d", name, len(got), len(want))
			continue
		}
		for i := range got {
			if math.Abs(float64(got[i].Score-want[i].Score)) > 1e-4 || !near(got[i].Box, want[i].Box, 1) {
				t.Errorf("%s: face %d %v %.5f, model decoder %v %.5f", name, i, got[i].Box, got[i].Score, want[i].Box, want[i].Score)
			}
			compared++
		}
	}
	if compared < len(paths) {
		t.Errorf("compared only %d faces in %d images", compared, len(paths))
	}
}

func modelDecoder(t *testing.T, n *Net, outs []gocv.Mat, f engine.Frame, cfg DetectorConfig) []engine.Face {
	t.Helper()
	src, err := FrameMat(f)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	resized, blob := gocv.NewMat(), NewBlob(3, 240, 320)
	defer CloseMats(&resized, &blob)
	gocv.Resize(src, &resized, image.Pt(320, 240), 0, 0, gocv.InterpolationLinear)
	if err := FillBlob(resized, &blob, Norm{Mean: [3]float32{127, 127, 127}, Scale: [3]float32{1.0 / 128, 1.0 / 128, 1.0 / 128}}); err != nil {
		t.Fatal(err)
	}
	if err := n.Forward(blob, outs); err != nil {
		t.Fatal(err)
	}
	scores, err := floats(&outs[0], 4420*2, "scores")
	if err != nil {
		t.Fatal(err)
	}
	boxes, err := floats(&outs[1], 4420*4, "boxes")
	if err != nil {
		t.Fatal(err)
	}
	return decodeDetections(scores, boxes, f.Width, f.Height, cfg)
}

func near(a, b image.Rectangle, tol int) bool {
	d := func(x, y int) bool { return x-y <= tol && y-x <= tol }
	return d(a.Min.X, b.Min.X) && d(a.Min.Y, b.Min.Y) && d(a.Max.X, b.Max.X) && d(a.Max.Y, b.Max.Y)
}

func TestTrimONNX(t *testing.T) {
	b, err := readModel(t, "fr_detect.onnx")
	if err != nil {
		t.Fatal(err)
	}
	part, outs, err := trimONNX(b, detectHeadNodes)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != len(detectHeadNodes) || len(part) >= len(b) {
		t.Fatalf("outputs %v, %d -> %d bytes", outs, len(b), len(part))
	}
	// Trimming the trimmed model to the same nodes changes nothing.
	again, outs2, err := trimONNX(part, detectHeadNodes)
	if err != nil || string(again) != string(part) || fmt.Sprint(outs2) != fmt.Sprint(outs) {
		t.Fatalf("not idempotent: %v", err)
	}
	for _, tc := range []struct {
		name  string
		model []byte
		keep  []string
	}{
		{"unknown node", b, []string{"Conv_9999"}},
		{"no nodes", b, nil},
		{"empty model", nil, detectHeadNodes},
		{"truncated", b[:len(b)/2], detectHeadNodes},
		{"not protobuf", []byte("\xff\xff\xff\xff garbage"), detectHeadNodes},
	} {
		if _, _, err := trimONNX(tc.model, tc.keep); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func readModel(t *testing.T, name string) ([]byte, error) {
	t.Helper()
	return readFile(filepath.Join(ocvtest.ModelRoot(t), ModelSubdir, name))
}

func FuzzTrimONNX(f *testing.F) {
	f.Add([]byte{0x3a, 0x04, 0x0a, 0x02, 0x1a, 0x00})
	f.Add([]byte("\x3a\x0c\x0a\x0a\x0a\x01a\x12\x01b\x1a\x02n1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		part, outs, err := trimONNX(b, []string{"n1"})
		if err == nil && (len(outs) != 1 || len(part) == 0) {
			t.Fatalf("ok with outputs %v and %d bytes", outs, len(part))
		}
	})
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }

// decodeDetections turns the outputs of the model file's own decoder tail
// (scores N x 2 with column 1 = face, boxes N x 4 as corner fractions of the
// input) into faces, the way the detector did before it ran the heads only:
// the reference the Go head decoding is checked against.
func decodeDetections(scores, boxes []float32, w, h int, cfg DetectorConfig) []engine.Face {
	var cand []scored
	for i := 0; i < len(scores)/2 && i*4+3 < len(boxes); i++ {
		s := scores[i*2+1]
		if !(s >= cfg.ScoreThreshold) { // also drops NaN
			continue
		}
		cand = append(cand, scored{Box: Box{float64(boxes[i*4]), float64(boxes[i*4+1]), float64(boxes[i*4+2]), float64(boxes[i*4+3])}, Score: s})
	}
	return finishDetections(cand, w, h, cfg)
}
