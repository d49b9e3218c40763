package dlib

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sort"

	"github.com/prometheus/client_golang/prometheus"

	"vidid/engine"
	"vidid/models"
)

// MaxDetectPixels bounds the (upscaled) image handed to dlib's detector.
const MaxDetectPixels = 16_000_000

// DetectorConfig configures a Detector. Zero fields take defaults.
type DetectorConfig struct {
	// ModelRoot holds dlib/<files>; "" means models.Root("").
	ModelRoot string
	// Upscale resizes the frame by this factor before HOG (0 means 1).
	// HOG's smallest face is about 80 px, so 2 finds faces down to ~40 px
	// at about four times the cost; values below 1 trade small faces for
	// speed. Range 0.25..4.
	Upscale float64
	// JPEGQuality of the image handed to go-face (0 means 95).
	JPEGQuality int
	// Logger: nil discards. Registerer: nil registers nothing.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Detector is dlib's HOG face detector with its 68-point shape predictor,
// through go-face. It satisfies engine.Detector. It is slow (go-face also
// computes a ResNet descriptor for every face it finds, and needs a JPEG
// round trip), so it serves comparison benchmarks and tests, not the live
// path. Calls are serialised like the Embedder's.
type Detector struct {
	cfg DetectorConfig
	rec *recognizer
	m   *metrics
}

var _ engine.Detector = (*Detector)(nil)

// NewDetector verifies and loads dlib's models (the same three files as the
// Embedder; errors wrap engine.ErrModel and models.ErrModel).
func NewDetector(cfg DetectorConfig) (*Detector, error) {
	if cfg.Upscale == 0 {
		cfg.Upscale = 1
	}
	if cfg.JPEGQuality == 0 {
		cfg.JPEGQuality = DefaultJPEGQuality
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Upscale < 0.25 || cfg.Upscale > 4 || math.IsNaN(cfg.Upscale) {
		return nil, fmt.Errorf("new dlib detector: %w: Upscale %v, want 0.25..4", ErrBadConfig, cfg.Upscale)
	}
	if cfg.JPEGQuality < 1 || cfg.JPEGQuality > 100 {
		return nil, fmt.Errorf("new dlib detector: %w: JPEGQuality %d, want 1..100", ErrBadConfig, cfg.JPEGQuality)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("new dlib detector: %w", err)
	}
	rec, _, err := openRecognizer(models.Root(cfg.ModelRoot), DefaultPadding, 0)
	if err != nil {
		return nil, fmt.Errorf("new dlib detector: %w", err)
	}
	return &Detector{cfg: cfg, rec: rec, m: m}, nil
}

// Detect returns every face dlib's HOG detector finds, boxes clamped to the
// frame, largest first. go-face does not expose HOG's detection score, so
// every Score is 1. Landmarks holds the 68 iBUG points when the shape model
// has 68 parts (the file installed here does), else nil. No face is an empty
// result, not an error.
func (d *Detector) Detect(ctx context.Context, f engine.Frame) ([]engine.Face, error) {
	const op = "detect"
	if err := f.Validate(); err != nil {
		d.m.count(op, outcomeBadInput)
		return nil, fmt.Errorf("dlib detect: %w", err)
	}
	u := d.cfg.Upscale
	dw := max(1, int(math.Round(float64(f.Width)*u)))
	dh := max(1, int(math.Round(float64(f.Height)*u)))
	if dw*dh > MaxDetectPixels {
		d.m.count(op, outcomeBadInput)
		return nil, fmt.Errorf("dlib detect: %w: %dx%d frame scaled by %v exceeds %d pixels", engine.ErrBadFrame, f.Width, f.Height, u, MaxDetectPixels)
	}
	jpg, err := encodeRegion(f, f.Bounds(), dw, dh, d.cfg.JPEGQuality)
	if err != nil {
		d.m.count(op, outcomeError)
		return nil, fmt.Errorf("dlib detect: %w", err)
	}
	faces, err := d.rec.recognize(ctx, "dlib detect", jpg)
	if err != nil {
		d.m.count(op, outcomeError)
		return nil, err
	}
	sx, sy := float64(dw)/float64(f.Width), float64(dh)/float64(f.Height)
	out := make([]engine.Face, 0, len(faces))
	for _, df := range faces {
		box := toFrame(df.Rect, f.Bounds().Min, sx, sy).Intersect(f.Bounds())
		if box.Empty() {
			continue
		}
		fc := engine.Face{Box: box, Score: 1}
		if len(df.Shapes) == 68 {
			fc.Landmarks = make([]engine.Point, 68)
			for i, p := range df.Shapes {
				fc.Landmarks[i] = engine.Point{
					X: float32((float64(p.X)+0.5)/sx - 0.5),
					Y: float32((float64(p.Y)+0.5)/sy - 0.5),
				}
			}
		}
		out = append(out, fc)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Box.Dx()*out[i].Box.Dy() > out[j].Box.Dx()*out[j].Box.Dy()
	})
	if len(out) == 0 {
		d.m.count(op, outcomeNoFace)
	} else {
		d.m.count(op, outcomeOK)
	}
	return out, nil
}

// Close frees the C++ models; idempotent; later Detect calls fail with
// engine.ErrClosed.
func (d *Detector) Close() error {
	d.rec.close()
	return nil
}
