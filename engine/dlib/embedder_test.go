package dlib

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"vidid/engine"
	"vidid/models"
)

// faceFrame is a 640x480 webcam frame with one face (s01, bona fide).
func faceFrame(t testing.TB) engine.Frame {
	return loadFrame(t, filepath.Join(dataDir(t), "spoof", "bonafide", "s01-apfol-frames", "s01-apfol-real2-01.jpg"))
}

// oneFace detects faces with dlib's own detector and requires exactly one.
func oneFace(t testing.TB, f engine.Frame) engine.Face {
	t.Helper()
	faces, err := sharedDetector(t, 1).Detect(context.Background(), f)
	if err != nil {
		t.Fatalf("detect: %v", err)
	}
	if len(faces) != 1 {
		t.Fatalf("dlib detector found %d faces in the test frame, want 1", len(faces))
	}
	return faces[0]
}

func TestModel(t *testing.T) {
	e := sharedEmbedder(t)
	b, err := os.ReadFile(filepath.Join(modelRoot(t), "dlib", "dlib_face_recognition_resnet_model_v1.dat"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if want := "dlib-resnet-v1@" + hex.EncodeToString(sum[:])[:8]; e.Model() != want {
		t.Fatalf("Model() = %q, want %q", e.Model(), want)
	}
}

// linkModels fills dir/dlib with symlinks to the real model files, except
// those named in skip.
func linkModels(t *testing.T, dir string, skip ...string) string {
	t.Helper()
	sub := filepath.Join(dir, "dlib")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(modelRoot(t), "dlib")
	for _, name := range modelFiles {
		if contains(skip, name) {
			continue
		}
		abs, err := filepath.Abs(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(sub, name)); err != nil {
			t.Fatal(err)
		}
	}
	return sub
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// writeCorrupt writes a damaged copy of the real model file name into sub.
func writeCorrupt(t *testing.T, sub, name, how string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(modelRoot(t), "dlib", name))
	if err != nil {
		t.Fatal(err)
	}
	switch how {
	case "flip":
		b[len(b)/2] ^= 0xff
	case "truncate":
		b = b[:len(b)/2]
	case "empty":
		b = nil
	case "text":
		b = []byte("this is not a dlib model\n")
	default:
		t.Fatalf("unknown corruption %q", how)
	}
	if err := os.WriteFile(filepath.Join(sub, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Through the constructors, a bad file never reaches dlib: the catalogue
// check refuses it first.
func TestNewEmbedderRefusesBadModelFiles(t *testing.T) {
	needModels(t)
	for _, tc := range []struct {
		name, file, how string // how == "" removes the file
	}{
		{"resnet one byte flipped (same size)", fileResNet, "flip"},
		{"mmod detector truncated", fileMMOD, "truncate"},
		{"shape predictor missing", fileShapePredictor, ""},
		{"resnet replaced by text", fileResNet, "text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			sub := linkModels(t, root, tc.file)
			if tc.how != "" {
				writeCorrupt(t, sub, tc.file, tc.how)
			}
			e, err := NewEmbedder(Config{ModelRoot: root})
			if err == nil {
				e.Close()
				t.Fatal("NewEmbedder accepted a bad model file")
			}
			if !errors.Is(err, models.ErrModel) || !errors.Is(err, engine.ErrModel) {
				t.Fatalf("err = %v, want it to wrap models.ErrModel and engine.ErrModel", err)
			}
			if !strings.Contains(err.Error(), tc.file) {
				t.Fatalf("err = %v, want it to name %s", err, tc.file)
			}
			d, err := NewDetector(DetectorConfig{ModelRoot: root})
			if err == nil {
				d.Close()
				t.Fatal("NewDetector accepted a bad model file")
			}
			if !errors.Is(err, models.ErrModel) {
				t.Fatalf("detector err = %v, want models.ErrModel", err)
			}
		})
	}
}

// Below the verification, dlib's own exceptions must come back as errors
// (not abort the process) and map to ErrModel.
func TestLoadRecognizerMapsDlibErrors(t *testing.T) {
	needModels(t)
	for _, tc := range []struct {
		name, file, how string
	}{
		{"resnet truncated", fileResNet, "truncate"},
		{"mmod detector empty", fileMMOD, "empty"},
		{"shape predictor is text", fileShapePredictor, "text"},
		{"resnet missing", fileResNet, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := linkModels(t, t.TempDir(), tc.file)
			if tc.how != "" {
				writeCorrupt(t, sub, tc.file, tc.how)
			}
			r, err := loadRecognizer(sub, DefaultPadding, 0)
			if err == nil {
				r.close()
				t.Fatal("dlib loaded a corrupt model")
			}
			if !errors.Is(err, models.ErrModel) || !errors.Is(err, engine.ErrModel) {
				t.Fatalf("err = %v, want models.ErrModel and engine.ErrModel", err)
			}
		})
	}
}

// The accuracy check the embedder exists for: on 200 LFW DevTrain pairs
// (every 11th of each class), same-person pairs must score above
// different-person pairs. Faces are located with this package's HOG
// detector (2x upscaled: LFW faces are ~60 px; 1x when 2x finds none,
// HOG being sensitive to scale). A pair with an image in
// which no face is found scores 0, as it would in service.
func TestEmbedLFWPairs(t *testing.T) {
	emb := sharedEmbedder(t)
	det, det1 := sharedDetector(t, 2), sharedDetector(t, 1)
	data := dataDir(t)
	pairs := readPairs(t, filepath.Join(data, "faces", "lfw-pairs.tsv"), 11)
	ctx := context.Background()

	cache := map[string]*engine.Embedding{}
	var missed []string
	embed := func(rel string) *engine.Embedding {
		if e, ok := cache[rel]; ok {
			return e
		}
		f := loadFrame(t, filepath.Join(data, "faces", rel))
		var out *engine.Embedding
		fc, ok := centralFace(ctx, t, det, f)
		if !ok {
			fc, ok = centralFace(ctx, t, det1, f)
		}
		if ok {
			e, err := emb.Embed(ctx, f, fc)
			switch {
			case err == nil:
				out = &e
			case errors.Is(err, engine.ErrNoFace):
			default:
				t.Fatalf("embed %s: %v", rel, err)
			}
		}
		if out == nil {
			missed = append(missed, rel)
		}
		cache[rel] = out
		return out
	}
	var genuine, impostor []float64
	for _, p := range pairs {
		a, b := embed(p.left), embed(p.right)
		s := 0.0
		if a != nil && b != nil {
			var err error
			if s, err = engine.Score(*a, *b); err != nil {
				t.Fatal(err)
			}
		}
		if p.same {
			genuine = append(genuine, s)
		} else {
			impostor = append(impostor, s)
		}
	}
	if len(genuine) < 90 || len(impostor) < 90 {
		t.Fatalf("only %d genuine and %d impostor pairs read", len(genuine), len(impostor))
	}
	a := auc(genuine, impostor)
	rate, th := eer(genuine, impostor)
	t.Logf("LFW %d genuine / %d impostor pairs, %d images, %d without a face %v: AUC %.4f, EER %.2f%% at score %.3f (distance %.3f); lowest genuine score %.3f, highest impostor score %.3f",
		len(genuine), len(impostor), len(cache), len(missed), missed, a, 100*rate, th, 2*(1-th), slices.Min(genuine), slices.Max(impostor))
	if frac := float64(len(missed)) / float64(len(cache)); frac > 0.05 {
		t.Errorf("no face in %.1f%% of the images, want at most 5%%", 100*frac)
	}
	if a <= 0.95 {
		t.Errorf("AUC %.4f, want > 0.95", a)
	}
}

// The embedder must embed the face at the requested box, not another face
// in the crop: two LFW people side by side with a margin wide enough that
// each crop holds both faces.
func TestEmbedPicksFaceAtBox(t *testing.T) {
	emb := sharedEmbedder(t)
	det := sharedDetector(t, 2)
	data := dataDir(t)
	ctx := context.Background()
	left := loadFrame(t, filepath.Join(data, "faces", "lfw-Aaron_Peirsol", "1.jpg"))
	right := loadFrame(t, filepath.Join(data, "faces", "lfw-Adam_Sandler", "1.jpg"))
	if left.Height != right.Height {
		t.Fatalf("test images differ in height")
	}
	both := engine.Frame{Width: left.Width + right.Width, Height: left.Height, Pix: make([]byte, (left.Width+right.Width)*left.Height*3)}
	for y := 0; y < left.Height; y++ {
		copy(both.Pix[y*both.Width*3:], left.Pix[y*left.Width*3:(y+1)*left.Width*3])
		copy(both.Pix[(y*both.Width+left.Width)*3:], right.Pix[y*right.Width*3:(y+1)*right.Width*3])
	}
	const margin = 3
	wide, err := NewEmbedder(Config{ModelRoot: modelRoot(t), Margin: margin})
	if err != nil {
		t.Fatal(err)
	}
	defer wide.Close()

	alone := map[string]engine.Embedding{}
	for name, f := range map[string]engine.Frame{"left": left, "right": right} {
		fc, ok := centralFace(ctx, t, det, f)
		if !ok {
			t.Fatalf("no face in the %s image", name)
		}
		e, err := emb.Embed(ctx, f, fc)
		if err != nil {
			t.Fatalf("embed %s alone: %v", name, err)
		}
		alone[name] = e
	}
	faces, err := det.Detect(ctx, both)
	if err != nil {
		t.Fatal(err)
	}
	if len(faces) != 2 {
		t.Fatalf("detector found %d faces in the side-by-side image, want 2", len(faces))
	}
	for i, fc := range faces {
		name, other := "left", "right"
		if fc.Box.Min.X >= left.Width {
			name, other = "right", "left"
		}
		otherBox := faces[1-i].Box
		t.Run(name, func(t *testing.T) {
			if crop, _, _ := cropGeometry(both.Bounds(), fc.Box, margin, DefaultFaceSize); !otherBox.In(crop) {
				t.Fatalf("crop %v does not hold the other face %v; test set-up is wrong", crop, otherBox)
			}
			_, got, err := wide.embed(ctx, both, fc.Box)
			if err != nil {
				t.Fatal(err)
			}
			if v := iou(got, fc.Box); v < 0.5 {
				t.Fatalf("embedded the face at %v, asked for %v (IoU %.2f)", got, fc.Box, v)
			}
			e, err := wide.Embed(ctx, both, fc)
			if err != nil {
				t.Fatal(err)
			}
			same, _ := engine.Score(e, alone[name])
			diff, _ := engine.Score(e, alone[other])
			t.Logf("score vs same image alone %.3f, vs the other person %.3f", same, diff)
			if same < 0.9 || same <= diff {
				t.Fatalf("score vs itself %.3f, vs the other person %.3f", same, diff)
			}
		})
	}
}

func TestEmbedNoFace(t *testing.T) {
	emb := sharedEmbedder(t)
	ctx := context.Background()
	noise := engine.Frame{Width: 640, Height: 480, Pix: make([]byte, 640*480*3)}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Pix {
		noise.Pix[i] = byte(rng.IntN(256))
	}
	// Background of a real frame: the corner farthest from the face, with a
	// box small enough that its crop (box + margin) does not reach the face.
	real := faceFrame(t)
	fc := oneFace(t, real)
	var bg image.Rectangle
	if c := fc.Box.Min.Add(fc.Box.Max).Div(2); c.X > real.Width/2 {
		bg = image.Rect(0, real.Height-100, 100, real.Height)
	} else {
		bg = image.Rect(real.Width-100, real.Height-100, real.Width, real.Height)
	}
	if crop, _, _ := cropGeometry(real.Bounds(), bg, DefaultMargin, DefaultFaceSize); crop.Overlaps(fc.Box) {
		t.Fatalf("background crop %v overlaps the face %v; pick another frame", crop, fc.Box)
	}
	center := engine.Face{Box: image.Rect(240, 160, 400, 320)}
	for _, tc := range []struct {
		name string
		f    engine.Frame
		face engine.Face
	}{
		{"uniform grey", solidFrame(640, 480, 128, 128, 128), center},
		{"random noise", noise, center},
		{"background of a real frame", real, engine.Face{Box: bg}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := emb.Embed(ctx, tc.f, tc.face)
			if !errors.Is(err, engine.ErrNoFace) {
				t.Fatalf("err = %v, want ErrNoFace", err)
			}
		})
	}
}

func TestEmbedBadInput(t *testing.T) {
	emb := sharedEmbedder(t)
	ctx := context.Background()
	good := solidFrame(640, 480, 0, 0, 0)
	for _, tc := range []struct {
		name string
		f    engine.Frame
		box  image.Rectangle
		want error
	}{
		{"short pixel buffer", engine.Frame{Width: 640, Height: 480, Pix: make([]byte, 100)}, image.Rect(0, 0, 100, 100), engine.ErrBadFrame},
		{"zero-size frame", engine.Frame{}, image.Rect(0, 0, 100, 100), engine.ErrBadFrame},
		{"box outside the frame", good, image.Rect(700, 500, 800, 600), ErrBadFace},
		{"empty box", good, image.Rectangle{}, ErrBadFace},
		{"box too small", good, image.Rect(10, 10, 20, 20), ErrBadFace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := emb.Embed(ctx, tc.f, engine.Face{Box: tc.box})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// dlib's JPEG loader errors surface as ErrBadImage (the path Embed and
// Detect cannot reach, since they encode the JPEG themselves).
func TestRecognizeBadJPEG(t *testing.T) {
	emb := sharedEmbedder(t)
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"not a JPEG", []byte("GIF89a not a jpeg at all")},
		{"truncated JPEG", []byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F'}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := emb.rec.recognize(context.Background(), "test", tc.b)
			if !errors.Is(err, engine.ErrBadImage) {
				t.Fatalf("err = %v, want ErrBadImage", err)
			}
		})
	}
}

func TestEmbedConcurrentCallsAgree(t *testing.T) {
	emb := sharedEmbedder(t)
	f := faceFrame(t)
	fc := oneFace(t, f)
	ctx := context.Background()
	want, err := emb.Embed(ctx, f, fc)
	if err != nil {
		t.Fatal(err)
	}
	if want.Model != emb.Model() || want.Metric != engine.Euclidean || len(want.Vector) != 128 {
		t.Fatalf("embedding %q %q len %d", want.Model, want.Metric, len(want.Vector))
	}
	var norm float64
	for _, v := range want.Vector {
		norm += float64(v) * float64(v)
	}
	if norm == 0 || math.IsNaN(norm) {
		t.Fatalf("degenerate descriptor (squared norm %v)", norm)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2; i++ {
				got, err := emb.Embed(ctx, f, fc)
				if err != nil {
					errs <- err
					return
				}
				for k := range got.Vector {
					if got.Vector[k] != want.Vector[k] {
						errs <- errors.New("concurrent Embed gave a different descriptor")
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestEmbedCancelledContext(t *testing.T) {
	emb := sharedEmbedder(t)
	f := faceFrame(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := emb.Embed(ctx, f, engine.Face{Box: image.Rect(200, 100, 400, 300)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	needModels(t)
	f := faceFrame(t)
	e, err := NewEmbedder(Config{ModelRoot: modelRoot(t)})
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDetector(DetectorConfig{ModelRoot: modelRoot(t)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := e.Close(); err != nil {
			t.Fatalf("Embedder.Close #%d: %v", i+1, err)
		}
		if err := d.Close(); err != nil {
			t.Fatalf("Detector.Close #%d: %v", i+1, err)
		}
	}
	if _, err := e.Embed(context.Background(), f, engine.Face{Box: image.Rect(200, 100, 400, 300)}); !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("Embed after Close: %v, want ErrClosed", err)
	}
	if _, err := d.Detect(context.Background(), f); !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("Detect after Close: %v, want ErrClosed", err)
	}
}

func TestMetrics(t *testing.T) {
	needModels(t)
	reg := prometheus.NewPedanticRegistry()
	e, err := NewEmbedder(Config{ModelRoot: modelRoot(t), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	d, err := NewDetector(DetectorConfig{ModelRoot: modelRoot(t), Registerer: reg})
	if err != nil {
		t.Fatalf("second component on the same registry: %v", err)
	}
	defer d.Close()
	ctx := context.Background()
	grey := solidFrame(320, 240, 128, 128, 128)
	if _, err := e.Embed(ctx, grey, engine.Face{Box: image.Rect(100, 60, 220, 180)}); !errors.Is(err, engine.ErrNoFace) {
		t.Fatalf("embed grey: %v", err)
	}
	if _, err := d.Detect(ctx, grey); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(e.m.calls.WithLabelValues("embed", outcomeNoFace)); got != 1 {
		t.Fatalf("embed/no_face = %v, want 1", got)
	}
	if got := testutil.ToFloat64(e.m.calls.WithLabelValues("detect", outcomeNoFace)); got != 1 {
		t.Fatalf("detect/no_face = %v, want 1 (shared collector)", got)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric lint: %s: %s", p.Metric, p.Text)
	}
}

// BenchmarkEmbed: crop + scale + JPEG encode + go-face (HOG, landmarks,
// ResNet) for the face in a 640x480 webcam frame.
func BenchmarkEmbed(b *testing.B) {
	emb := sharedEmbedder(b)
	f := faceFrame(b)
	fc := oneFace(b, f)
	ctx := context.Background()
	for b.Loop() {
		if _, err := emb.Embed(ctx, f, fc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

// BenchmarkEmbedPrepare: the pure-Go part of Embed (crop, scale, encode).
func BenchmarkEmbedPrepare(b *testing.B) {
	needModels(b)
	f := faceFrame(b)
	fc := oneFace(b, f)
	crop, dw, dh := cropGeometry(f.Bounds(), fc.Box, DefaultMargin, DefaultFaceSize)
	var n int
	for b.Loop() {
		jpg, err := encodeRegion(f, crop, dw, dh, DefaultJPEGQuality)
		if err != nil {
			b.Fatal(err)
		}
		n = len(jpg)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
	b.ReportMetric(float64(n), "jpeg-bytes")
}

// BenchmarkDetect: go-face's HOG path on a whole 640x480 frame (encode +
// HOG + landmarks + one ResNet descriptor per face).
func BenchmarkDetect(b *testing.B) {
	det := sharedDetector(b, 1)
	f := faceFrame(b)
	ctx := context.Background()
	for b.Loop() {
		faces, err := det.Detect(ctx, f)
		if err != nil {
			b.Fatal(err)
		}
		if len(faces) != 1 {
			b.Fatalf("%d faces", len(faces))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

// Close during running calls must neither crash nor free the models under
// a call: every call either succeeds or reports ErrClosed.
func TestCloseWhileEmbedding(t *testing.T) {
	needModels(t)
	f := faceFrame(t)
	fc := oneFace(t, f)
	e, err := NewEmbedder(Config{ModelRoot: modelRoot(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	var ok, closed, other int
	var mu sync.Mutex
	start := make(chan struct{})
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < 3; i++ {
				_, err := e.Embed(ctx, f, fc)
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, engine.ErrClosed):
					closed++
				default:
					other++
					t.Errorf("Embed: %v", err)
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	// Let at least one call get going, then close under the others.
	for {
		mu.Lock()
		n := ok
		mu.Unlock()
		if n > 0 {
			break
		}
		runtime.Gosched()
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	t.Logf("%d succeeded, %d refused after Close", ok, closed)
	if ok+closed != 9 || closed == 0 {
		t.Fatalf("%d ok, %d closed, %d other; want 9 in all and some refused", ok, closed, other)
	}
}
