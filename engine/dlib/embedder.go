package dlib

import (
	"context"
	"fmt"
	"image"
	"io"
	"log/slog"
	"math"

	"github.com/prometheus/client_golang/prometheus"

	"vidid/engine"
	"vidid/models"
)

// ModelName is the prefix of Embedder.Model(); the full name adds the first
// 8 hex digits of the ResNet file's sha256.
const ModelName = "dlib-resnet-v1"

// Defaults applied to zero Config fields.
const (
	DefaultPadding     = 0.25 // dlib's chip padding, what the ResNet was trained with
	DefaultMargin      = 0.6
	DefaultFaceSize    = 160
	DefaultMinIoU      = 0.3
	DefaultJPEGQuality = 95
	DefaultMinFaceSide = 20
)

// Config configures an Embedder. Zero fields take the defaults above.
type Config struct {
	// ModelRoot holds dlib/<files>; "" means models.Root("") ($VIDID_MODELS
	// or var/models).
	ModelRoot string
	// Padding is the face-chip padding dlib adds around the landmarks before
	// scaling the chip to 150x150 (get_face_chip_details). Other values than
	// 0.25 change the embedding space; Model() does not record it.
	Padding float64
	// Jitter > 0 averages the descriptor over that many randomly jittered
	// chips (about Jitter times slower, and not deterministic).
	Jitter int
	// Margin is added on each side of the face box before cropping, as a
	// fraction of the box width (left/right) and height (top/bottom), so
	// dlib's detector sees the whole head. Clamped to the frame.
	Margin float64
	// FaceSize is the larger side, in pixels, the face box is scaled to
	// before dlib sees the crop. dlib's HOG detector misses faces under
	// about 80 px; larger sizes only cost time. When dlib does not find the
	// face at this size, Embed tries 2/3 and 4/3 of it (HOG is sensitive to
	// scale), so a miss costs three HOG passes.
	FaceSize int
	// MinIoU is the least intersection-over-union between the expected face
	// box and the face dlib finds in the crop for them to count as the same
	// face (dlib's HOG boxes are tighter than most detectors').
	MinIoU float64
	// JPEGQuality is the quality of the JPEG handed to go-face (1..100).
	JPEGQuality int
	// MinFaceSide refuses face boxes whose smaller side is below this many
	// pixels (they would be upscaled into noise).
	MinFaceSide int
	// Logger receives debug records (sizes and counts only, never pixels or
	// descriptors). nil discards.
	Logger *slog.Logger
	// Registerer receives vidid_dlib_calls_total; nil registers nothing.
	Registerer prometheus.Registerer
}

func (c *Config) fill() error {
	if c.Padding == 0 {
		c.Padding = DefaultPadding
	}
	if c.Margin == 0 {
		c.Margin = DefaultMargin
	}
	if c.FaceSize == 0 {
		c.FaceSize = DefaultFaceSize
	}
	if c.MinIoU == 0 {
		c.MinIoU = DefaultMinIoU
	}
	if c.JPEGQuality == 0 {
		c.JPEGQuality = DefaultJPEGQuality
	}
	if c.MinFaceSide == 0 {
		c.MinFaceSide = DefaultMinFaceSide
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	switch {
	case math.IsNaN(c.Padding) || math.IsNaN(c.Margin) || math.IsNaN(c.MinIoU):
		return fmt.Errorf("%w: NaN in Padding, Margin or MinIoU", ErrBadConfig)
	case c.Padding < 0 || c.Padding > 2:
		return fmt.Errorf("%w: Padding %v, want 0..2", ErrBadConfig, c.Padding)
	case c.Jitter < 0 || c.Jitter > 100:
		return fmt.Errorf("%w: Jitter %d, want 0..100", ErrBadConfig, c.Jitter)
	case c.Margin < 0 || c.Margin > 3:
		return fmt.Errorf("%w: Margin %v, want 0..3", ErrBadConfig, c.Margin)
	case c.FaceSize < 80 || c.FaceSize > 1000:
		return fmt.Errorf("%w: FaceSize %d, want 80..1000", ErrBadConfig, c.FaceSize)
	case c.MinIoU < 0 || c.MinIoU > 1:
		return fmt.Errorf("%w: MinIoU %v, want 0..1", ErrBadConfig, c.MinIoU)
	case c.JPEGQuality < 1 || c.JPEGQuality > 100:
		return fmt.Errorf("%w: JPEGQuality %d, want 1..100", ErrBadConfig, c.JPEGQuality)
	case c.MinFaceSide < 1:
		return fmt.Errorf("%w: MinFaceSide %d, want >= 1", ErrBadConfig, c.MinFaceSide)
	}
	return nil
}

// Embedder computes dlib ResNet descriptors. It satisfies engine.Embedder.
//
// Calls are serialised: an Embedder runs one go-face call at a time (see
// recognizer), so Embed is safe for concurrent use but does not run in
// parallel. Close it to free the C++ models (about 95 MB resident).
type Embedder struct {
	cfg   Config
	rec   *recognizer
	model string
	m     *metrics
}

var _ engine.Embedder = (*Embedder)(nil)

// NewEmbedder verifies and loads dlib's models from cfg.ModelRoot/dlib.
// A missing, truncated or altered model file gives an error wrapping
// engine.ErrModel and models.ErrModel; dlib never sees such a file.
func NewEmbedder(cfg Config) (*Embedder, error) {
	if err := cfg.fill(); err != nil {
		return nil, fmt.Errorf("new dlib embedder: %w", err)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("new dlib embedder: %w", err)
	}
	rec, sum, err := openRecognizer(models.Root(cfg.ModelRoot), cfg.Padding, cfg.Jitter)
	if err != nil {
		return nil, fmt.Errorf("new dlib embedder: %w", err)
	}
	return &Embedder{cfg: cfg, rec: rec, model: ModelName + "@" + sum[:8], m: m}, nil
}

// Model returns "dlib-resnet-v1@<first 8 hex of the model file's sha256>".
func (e *Embedder) Model() string { return e.model }

// Embed returns the 128-d descriptor (Metric Euclidean) of the face at
// face.Box. dlib must find that face again in a crop around the box (at up
// to three scales, see Config.FaceSize): if it finds none, or none
// overlapping the box by Config.MinIoU, the error wraps engine.ErrNoFace.
// A malformed frame wraps engine.ErrBadFrame, a box outside the frame or
// smaller than Config.MinFaceSide wraps ErrBadFace. face.Landmarks are not
// used (dlib locates its own).
func (e *Embedder) Embed(ctx context.Context, f engine.Frame, fc engine.Face) (engine.Embedding, error) {
	d, _, err := e.embed(ctx, f, fc.Box)
	if err != nil {
		return engine.Embedding{}, err
	}
	v := make([]float32, len(d))
	copy(v, d[:])
	return engine.Embedding{Model: e.model, Metric: engine.Euclidean, Vector: v}, nil
}

// embed also returns the box (frame coordinates) of the face dlib embedded.
func (e *Embedder) embed(ctx context.Context, f engine.Frame, box image.Rectangle) ([128]float32, image.Rectangle, error) {
	const op = "embed"
	var zero [128]float32
	if err := f.Validate(); err != nil {
		e.m.count(op, outcomeBadInput)
		return zero, image.Rectangle{}, fmt.Errorf("dlib embed: %w", err)
	}
	box = box.Canon()
	if box.Intersect(f.Bounds()).Empty() {
		e.m.count(op, outcomeBadInput)
		return zero, image.Rectangle{}, fmt.Errorf("dlib embed: %w: box %v lies outside the %dx%d frame", ErrBadFace, box, f.Width, f.Height)
	}
	if min(box.Dx(), box.Dy()) < e.cfg.MinFaceSide {
		e.m.count(op, outcomeBadInput)
		return zero, image.Rectangle{}, fmt.Errorf("dlib embed: %w: face box %dx%d is smaller than %d px", ErrBadFace, box.Dx(), box.Dy(), e.cfg.MinFaceSide)
	}
	// HOG samples scales in steps of 6/5, and a face it finds at one scale
	// it may miss at a nearby one; so when dlib does not find the face at
	// FaceSize, try a smaller and a larger size before giving up.
	var (
		nFaces  int
		bestIoU float64
	)
	for _, size := range e.faceSizes() {
		crop, dw, dh := cropGeometry(f.Bounds(), box, e.cfg.Margin, size)
		jpg, err := encodeRegion(f, crop, dw, dh, e.cfg.JPEGQuality)
		if err != nil {
			e.m.count(op, outcomeError)
			return zero, image.Rectangle{}, fmt.Errorf("dlib embed: %w", err)
		}
		faces, err := e.rec.recognize(ctx, "dlib embed", jpg)
		if err != nil {
			e.m.count(op, outcomeError)
			return zero, image.Rectangle{}, err
		}
		sx, sy := float64(dw)/float64(crop.Dx()), float64(dh)/float64(crop.Dy())
		best, iouBest := -1, 0.0
		var bestBox image.Rectangle
		for i, df := range faces {
			fb := toFrame(df.Rect, crop.Min, sx, sy)
			if v := iou(fb, box); v > iouBest {
				best, iouBest, bestBox = i, v, fb
			}
		}
		if best >= 0 && iouBest >= e.cfg.MinIoU {
			e.m.count(op, outcomeOK)
			return faces[best].Descriptor, bestBox, nil
		}
		nFaces, bestIoU = max(nFaces, len(faces)), max(bestIoU, iouBest)
		e.cfg.Logger.Debug("dlib did not find the face in the crop", "box_w", box.Dx(), "box_h", box.Dy(), "face_size", size, "crop_w", dw, "crop_h", dh, "faces", len(faces), "best_iou", iouBest)
	}
	if nFaces == 0 {
		e.m.count(op, outcomeNoFace)
		return zero, image.Rectangle{}, fmt.Errorf("dlib embed: %w: dlib's detector found no face around the %dx%d box (tried face sizes %v px)", engine.ErrNoFace, box.Dx(), box.Dy(), e.faceSizes())
	}
	e.m.count(op, outcomeOffTarget)
	return zero, image.Rectangle{}, fmt.Errorf("dlib embed: %w: dlib found face(s) around the %dx%d box but none at it (best IoU %.2f < %.2f)", engine.ErrNoFace, box.Dx(), box.Dy(), bestIoU, e.cfg.MinIoU)
}

// faceSizes are the face sizes Embed tries, in order.
func (e *Embedder) faceSizes() []int {
	s := e.cfg.FaceSize
	return []int{s, max(80, s*2/3), s * 4 / 3}
}

// Close frees the C++ models. It waits for a running Embed, is idempotent,
// and later calls to Embed fail with engine.ErrClosed.
func (e *Embedder) Close() error {
	e.rec.close()
	return nil
}

// cropGeometry returns the crop rectangle (box plus margin, clamped to the
// frame) and the size to scale it to so the box's larger side becomes
// faceSize pixels.
func cropGeometry(frame, box image.Rectangle, margin float64, faceSize int) (crop image.Rectangle, dw, dh int) {
	mx := int(math.Round(margin * float64(box.Dx())))
	my := int(math.Round(margin * float64(box.Dy())))
	crop = image.Rect(box.Min.X-mx, box.Min.Y-my, box.Max.X+mx, box.Max.Y+my).Intersect(frame)
	s := float64(faceSize) / float64(max(box.Dx(), box.Dy()))
	dw = max(1, int(math.Round(float64(crop.Dx())*s)))
	dh = max(1, int(math.Round(float64(crop.Dy())*s)))
	return crop, dw, dh
}

// toFrame maps a rectangle in a scaled crop back to frame coordinates.
func toFrame(r image.Rectangle, origin image.Point, sx, sy float64) image.Rectangle {
	return image.Rect(
		origin.X+int(math.Floor(float64(r.Min.X)/sx)),
		origin.Y+int(math.Floor(float64(r.Min.Y)/sy)),
		origin.X+int(math.Ceil(float64(r.Max.X)/sx)),
		origin.Y+int(math.Ceil(float64(r.Max.Y)/sy)),
	)
}

// iou is the intersection over union of two rectangles (0 if either is empty).
func iou(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	ia := float64(in.Dx() * in.Dy())
	u := float64(a.Dx()*a.Dy()) + float64(b.Dx()*b.Dy()) - ia
	return ia / u
}
