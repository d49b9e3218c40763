package ocv

import (
	"context"
	"fmt"
	"image"
	"sync"

	"gocv.io/x/gocv"

	"vidid/engine"
)

// Detector input layout (MODELS.md, fr_detect.onnx). The file's graph
// takes 320x240 and ends in a prior-box decoder built for that size; vidid
// drops that tail (OpenNetPart), runs the convolutional part at the
// configured size and decodes the heads itself (decodeHeads), which gives the
// same detections at 320x240 and lets the live path run at smaller sizes.
const (
	// DefaultInputWidth is the detector's native input width (height is
	// 3/4 of the width).
	DefaultInputWidth = 320
	// MinInputWidth and MaxInputWidth bound DetectorConfig.InputWidth.
	MinInputWidth, MaxInputWidth = 128, 640
	detectTopK                   = 750
)

// detectHeadNodes are the ONNX nodes of fr_detect.onnx whose outputs are the
// raw heads, as (classification, regression) pairs from the finest scale (stride 8)
// to the coarsest (stride 64).
var detectHeadNodes = []string{"Conv_49", "Conv_59", "Conv_81", "Conv_91", "Conv_109", "Conv_119", "Conv_133", "Conv_141"}

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
	// InputWidth is the width the frame is resized to before the network
	// (height = 3/4 of it), a multiple of 16 in [128, 640]; default 320, the
	// model's native size. Cost grows with its square: 240 takes about 60%
	// and 160 about 35% of the time of 320, and the smallest face found
	// reliably grows from about 8% of the frame height at 320 to 11% at 240
	// and 16% at 160 (docs/models.md).
	InputWidth int
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
	if c.InputWidth == 0 {
		c.InputWidth = DefaultInputWidth
	}
	if c.InputWidth < MinInputWidth || c.InputWidth > MaxInputWidth || c.InputWidth%16 != 0 {
		return c, fmt.Errorf("%w: detector input width %d not a multiple of 16 in [%d, %d]", ErrBadConfig, c.InputWidth, MinInputWidth, MaxInputWidth)
	}
	return c, nil
}

// Detector is the Ultra-Light face detector (fr_detect.onnx) on OpenCV DNN.
// It is safe for concurrent use, but calls are serialised by a mutex (one
// OpenCV network runs one forward pass at a time); for parallel detection
// create one Detector per goroutine.
type Detector struct {
	cfg  DetectorConfig
	size image.Point // network input size
	pri  []prior

	mu      sync.Mutex
	net     *Net
	resized gocv.Mat
	blob    gocv.Mat
	outs    []gocv.Mat // the heads, in detectHeadNodes order
	heads   [len(detectStrides)]head
}

var _ engine.Detector = (*Detector)(nil)

// NewDetector loads and verifies fr_detect.onnx.
func NewDetector(cfg DetectorConfig) (*Detector, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("new detector: %w", err)
	}
	SetNumThreads(cfg.Threads)
	net, err := OpenNetPart(cfg.ModelRoot, "fr_detect.onnx", detectHeadNodes...)
	if err != nil {
		return nil, fmt.Errorf("new detector: %w", err)
	}
	size := image.Pt(cfg.InputWidth, cfg.InputWidth*3/4)
	d := &Detector{
		cfg:     cfg,
		size:    size,
		pri:     priors(size.X, size.Y),
		net:     net,
		resized: gocv.NewMat(),
		blob:    NewBlob(3, size.Y, size.X),
		outs:    make([]gocv.Mat, len(detectHeadNodes)),
	}
	for i := range d.outs {
		d.outs[i] = gocv.NewMat()
	}
	return d, nil
}

// Config returns the configuration in effect (defaults filled in).
func (d *Detector) Config() DetectorConfig { return d.cfg }

// Detect finds faces in f: the whole frame is stretched to the input size
// (320x240 by default), normalised as (p-127)/128, and the decoded boxes
// pass the score threshold and IoU NMS. Boxes are in frame coordinates, clamped to the
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
	gocv.Resize(src, &d.resized, d.size, 0, 0, gocv.InterpolationLinear)
	if err := FillBlob(d.resized, &d.blob, Norm{Mean: [3]float32{127, 127, 127}, Scale: [3]float32{1.0 / 128, 1.0 / 128, 1.0 / 128}}); err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	if err := d.net.Forward(d.blob, d.outs); err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	for i := range d.heads {
		cls, reg := &d.outs[2*i], &d.outs[2*i+1]
		h, err := headOf(cls, reg, i, d.size)
		if err != nil {
			return nil, fmt.Errorf("detect: %w", err)
		}
		d.heads[i] = h
	}
	cand := decodeHeads(d.heads[:], d.pri, d.cfg.ScoreThreshold)
	return finishDetections(cand, f.Width, f.Height, d.cfg), nil
}

// headOf checks one scale's output Mats (NCHW, classification and
// regression) against the input size and returns their data.
func headOf(cls, reg *gocv.Mat, scale int, in image.Point) (head, error) {
	fw, fh := featureSize(in.X, detectStrides[scale]), featureSize(in.Y, detectStrides[scale])
	a := len(detectMinBoxes[scale])
	for _, m := range []struct {
		mat *gocv.Mat
		ch  int
	}{{cls, 2 * a}, {reg, 4 * a}} {
		if sz := m.mat.Size(); len(sz) != 4 || sz[0] != 1 || sz[1] != m.ch || sz[2] != fh || sz[3] != fw {
			return head{}, fmt.Errorf("%w: head %d has shape %v, want [1 %d %d %d]", ErrOpenCV, scale, sz, m.ch, fh, fw)
		}
	}
	c, err := floats(cls, 2*a*fh*fw, "head scores")
	if err != nil {
		return head{}, err
	}
	r, err := floats(reg, 4*a*fh*fw, "head boxes")
	if err != nil {
		return head{}, err
	}
	return head{cls: c, reg: r, w: fw, h: fh, anchors: a}, nil
}

// finishDetections scales candidate boxes (corner fractions of the input)
// to the w x h frame, drops degenerate ones, applies NMS and
// MinFaceFraction, and clamps the boxes to the frame.
func finishDetections(cand []scored, w, h int, cfg DetectorConfig) []engine.Face {
	fw, fh := float64(w), float64(h)
	kept := cand[:0]
	for _, c := range cand {
		c.Box = Box{c.X1 * fw, c.Y1 * fh, c.X2 * fw, c.Y2 * fh}
		if c.X2 > c.X1 && c.Y2 > c.Y1 {
			kept = append(kept, c)
		}
	}
	kept = nms(kept, float64(cfg.NMS), detectTopK)
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
	CloseMats(&d.resized, &d.blob)
	for i := range d.outs {
		CloseMats(&d.outs[i])
	}
	return err
}
