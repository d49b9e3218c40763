package ocv

import (
	"context"
	"fmt"
	"image"
	"sync"

	"gocv.io/x/gocv"

	"vidid/engine"
)

// Detector input and output layout (MODELS.md, fr_detect.onnx).
const (
	detectW, detectH = 320, 240
	detectPriors     = 4420
	detectTopK       = 750
)

// Detector defaults.
const (
	// DefaultScoreThreshold is the face probability a detection needs; the
	// Faceplugin package uses 0.65.
	DefaultScoreThreshold = 0.65
	// DefaultNMS is the IoU above which a lower-scored overlapping box is
	// suppressed.
	DefaultNMS = 0.4
)

// DetectorConfig configures NewDetector. Zero values take the defaults.
type DetectorConfig struct {
	// ModelRoot is the model folder holding faceplugin/fr_detect.onnx
	// (see models.Root).
	ModelRoot string
	// ScoreThreshold is the minimum face probability in (0,1); default
	// 0.65. Lower finds more small or turned faces and more false positives.
	ScoreThreshold float32
	// NMS is the IoU threshold in (0,1) of non-maximum suppression; default 0.4.
	NMS float32
	// MinFaceFraction drops faces whose box height is below this fraction of
	// the frame height, in [0,1). 0 keeps every face. The detector finds
	// faces reliably down to about 0.08 of the frame height (MODELS.md).
	MinFaceFraction float32
	// Threads, when > 0, sets OpenCV's process-wide thread count (see
	// SetNumThreads). 0 leaves it unchanged.
	Threads int
}

func (c DetectorConfig) withDefaults() (DetectorConfig, error) {
	if c.ScoreThreshold == 0 {
		c.ScoreThreshold = DefaultScoreThreshold
	}
	if c.NMS == 0 {
		c.NMS = DefaultNMS
	}
	if !(c.ScoreThreshold > 0 && c.ScoreThreshold < 1) {
		return c, fmt.Errorf("%w: detector score threshold %v not in (0,1)", ErrBadConfig, c.ScoreThreshold)
	}
	if !(c.NMS > 0 && c.NMS < 1) {
		return c, fmt.Errorf("%w: detector NMS threshold %v not in (0,1)", ErrBadConfig, c.NMS)
	}
	if !(c.MinFaceFraction >= 0 && c.MinFaceFraction < 1) {
		return c, fmt.Errorf("%w: detector MinFaceFraction %v not in [0,1)", ErrBadConfig, c.MinFaceFraction)
	}
	if c.Threads < 0 {
		return c, fmt.Errorf("%w: threads %d < 0", ErrBadConfig, c.Threads)
	}
	return c, nil
}

// Detector is the Ultra-Light face detector (fr_detect.onnx) on OpenCV DNN.
// It is safe for concurrent use, but calls are serialised by a mutex (one
// OpenCV network runs one forward pass at a time); for parallel detection
// create one Detector per goroutine.
type Detector struct {
	cfg DetectorConfig

	mu      sync.Mutex
	net     *Net
	resized gocv.Mat
	blob    gocv.Mat
	outs    []gocv.Mat // scores, boxes
}

var _ engine.Detector = (*Detector)(nil)

// NewDetector loads and verifies fr_detect.onnx.
func NewDetector(cfg DetectorConfig) (*Detector, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("new detector: %w", err)
	}
	SetNumThreads(cfg.Threads)
	net, err := OpenNet(cfg.ModelRoot, "fr_detect.onnx", "scores", "boxes")
	if err != nil {
		return nil, fmt.Errorf("new detector: %w", err)
	}
	return &Detector{
		cfg:     cfg,
		net:     net,
		resized: gocv.NewMat(),
		blob:    NewBlob(3, detectH, detectW),
		outs:    []gocv.Mat{gocv.NewMat(), gocv.NewMat()},
	}, nil
}

// Config returns the configuration in effect (defaults filled in).
func (d *Detector) Config() DetectorConfig { return d.cfg }

// Detect finds faces in f: the whole frame is stretched to 320x240,
// normalised as (p-127)/128, and the decoded boxes pass the score
// threshold and IoU NMS. Boxes are in frame coordinates, clamped to the
// frame, sorted by descending score. No face gives an empty slice and a nil
// error. The context is checked before the forward pass (which cannot be
// interrupted).
func (d *Detector) Detect(ctx context.Context, f engine.Frame) ([]engine.Face, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.net == nil {
		return nil, fmt.Errorf("detect: %w", engine.ErrClosed)
	}
	src, err := FrameMat(f)
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	defer src.Close()
	gocv.Resize(src, &d.resized, image.Pt(detectW, detectH), 0, 0, gocv.InterpolationLinear)
	if err := FillBlob(d.resized, &d.blob, Norm{Mean: [3]float32{127, 127, 127}, Scale: [3]float32{1.0 / 128, 1.0 / 128, 1.0 / 128}}); err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	if err := d.net.Forward(d.blob, d.outs); err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	scores, err := floats(&d.outs[0], detectPriors*2, "detect: scores")
	if err != nil {
		return nil, err
	}
	boxes, err := floats(&d.outs[1], detectPriors*4, "detect: boxes")
	if err != nil {
		return nil, err
	}
	return decodeDetections(scores, boxes, f.Width, f.Height, d.cfg), nil
}

// decodeDetections turns the raw outputs (scores N x 2 with column 1 = face,
// boxes N x 4 as corner fractions of the input) into faces.
func decodeDetections(scores, boxes []float32, w, h int, cfg DetectorConfig) []engine.Face {
	fw, fh := float64(w), float64(h)
	var cand []scored
	for i := 0; i < len(scores)/2 && i*4+3 < len(boxes); i++ {
		s := scores[i*2+1]
		if !(s >= cfg.ScoreThreshold) { // also drops NaN
			continue
		}
		b := Box{float64(boxes[i*4]) * fw, float64(boxes[i*4+1]) * fh, float64(boxes[i*4+2]) * fw, float64(boxes[i*4+3]) * fh}
		if !(b.X2 > b.X1 && b.Y2 > b.Y1) {
			continue
		}
		cand = append(cand, scored{Box: b, Score: s})
	}
	kept := nms(cand, float64(cfg.NMS), detectTopK)
	bounds := image.Rect(0, 0, w, h)
	faces := make([]engine.Face, 0, len(kept))
	for _, k := range kept {
		if k.H() < float64(cfg.MinFaceFraction)*fh {
			continue
		}
		r := clampRect(k.Box, bounds)
		if r.Dx() < 2 || r.Dy() < 2 {
			continue
		}
		score := k.Score
		if score > 1 {
			score = 1
		}
		faces = append(faces, engine.Face{Box: r, Score: score})
	}
	return faces
}

// Close frees the network and buffers. It is idempotent; Detect after Close
// returns an error wrapping engine.ErrClosed.
func (d *Detector) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.net == nil {
		return nil
	}
	err := d.net.Close()
	d.net = nil
	closeMats(&d.resized, &d.blob, &d.outs[0], &d.outs[1])
	return err
}
