package ocv

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"sync"

	"gocv.io/x/gocv"

	"vidid/engine"
)

const (
	// ChipSize is the side of the aligned face chip fr_feature.onnx takes.
	ChipSize = 112
	// EmbeddingSize is the length of fr_feature.onnx's output.
	EmbeddingSize = 512
)

// EmbedderConfig configures NewEmbedder.
type EmbedderConfig struct {
	// ModelRoot is the model folder holding faceplugin/fr_feature.onnx.
	ModelRoot string
	// Threads, when > 0, sets OpenCV's process-wide thread count.
	Threads int
}

// Embedder computes 512-d face embeddings with fr_feature.onnx after
// aligning the face to the ArcFace template. It is safe for concurrent use;
// calls are serialised by a mutex.
type Embedder struct {
	model string

	mu   sync.Mutex
	net  *Net
	m    gocv.Mat // 2x3 CV_64F warp matrix
	chip gocv.Mat
	blob gocv.Mat
	outs []gocv.Mat
}

var (
	_ engine.Embedder = (*Embedder)(nil)
	_ engine.Aligner  = (*Embedder)(nil)
)

// NewEmbedder loads and verifies fr_feature.onnx.
func NewEmbedder(cfg EmbedderConfig) (*Embedder, error) {
	if cfg.Threads < 0 {
		return nil, fmt.Errorf("new embedder: %w: threads %d < 0", ErrBadConfig, cfg.Threads)
	}
	SetNumThreads(cfg.Threads)
	net, err := OpenNet(cfg.ModelRoot, "fr_feature.onnx", "output")
	if err != nil {
		return nil, fmt.Errorf("new embedder: %w", err)
	}
	return &Embedder{
		model: "faceplugin-fr_feature@" + net.SHA256()[:8],
		net:   net,
		m:     gocv.NewMatWithSize(2, 3, gocv.MatTypeCV64F),
		chip:  gocv.NewMat(),
		blob:  NewBlob(3, ChipSize, ChipSize),
		outs:  []gocv.Mat{gocv.NewMat()},
	}, nil
}

// Model names the model and its version: "faceplugin-fr_feature@" + the
// first 8 hex digits of the file's sha256.
func (e *Embedder) Model() string { return e.model }

// AlignTransform returns the similarity transform that maps the face's five
// alignment points (FivePoints) onto ArcFaceTemplate, fitted by least
// squares (SimilarityTransform).
func AlignTransform(face engine.Face) (Affine, error) {
	if face.Landmarks == nil {
		return Affine{}, fmt.Errorf("align: %w", ErrNoLandmarks)
	}
	five, err := FivePoints(face.Landmarks)
	if err != nil {
		return Affine{}, fmt.Errorf("align: %w", err)
	}
	a, err := SimilarityTransform(five[:], ArcFaceTemplate[:])
	if err != nil {
		return Affine{}, fmt.Errorf("align: %w: %w", ErrBadFace, err)
	}
	return a, nil
}

// checkInside refuses landmarks whose eye centres or nose tip lie outside
// the w x h frame: the chip would be mostly border.
func checkInside(face engine.Face, w, h int) error {
	five, err := FivePoints(face.Landmarks)
	if err != nil {
		return err
	}
	for _, p := range five[:3] {
		if !(p.X >= 0 && p.Y >= 0 && p.X < float32(w) && p.Y < float32(h)) {
			return fmt.Errorf("%w: eye or nose landmark (%.0f,%.0f) outside the %dx%d frame", ErrBadFace, p.X, p.Y, w, h)
		}
	}
	return nil
}

// warp fills e.chip with the aligned 112x112 BGR chip. Callers hold e.mu.
func (e *Embedder) warp(f engine.Frame, a Affine) error {
	mv, err := e.m.DataPtrFloat64()
	if err != nil || len(mv) != 6 {
		return fmt.Errorf("align: %w: warp matrix: %v", ErrOpenCV, err)
	}
	copy(mv, a[:])
	src, err := FrameMat(f)
	if err != nil {
		return fmt.Errorf("align: %w", err)
	}
	defer src.Close()
	gocv.WarpAffineWithParams(src, &e.chip, e.m, image.Pt(ChipSize, ChipSize), gocv.InterpolationLinear, gocv.BorderConstant, color.RGBA{})
	if e.chip.Empty() || e.chip.Cols() != ChipSize || e.chip.Rows() != ChipSize {
		return fmt.Errorf("align: %w: empty warp result", ErrOpenCV)
	}
	return nil
}

// Align returns the 112x112 BGR chip the embedding is computed from (for
// moderators' review and debugging; engine.Aligner). It needs face.Landmarks.
func (e *Embedder) Align(ctx context.Context, f engine.Frame, face engine.Face) (engine.Frame, error) {
	if err := ctx.Err(); err != nil {
		return engine.Frame{}, fmt.Errorf("align: %w", err)
	}
	if err := f.Validate(); err != nil {
		return engine.Frame{}, fmt.Errorf("align: %w", err)
	}
	a, err := AlignTransform(face)
	if err != nil {
		return engine.Frame{}, err
	}
	if err := checkInside(face, f.Width, f.Height); err != nil {
		return engine.Frame{}, fmt.Errorf("align: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.net == nil {
		return engine.Frame{}, fmt.Errorf("align: %w", engine.ErrClosed)
	}
	if err := e.warp(f, a); err != nil {
		return engine.Frame{}, err
	}
	px, err := e.chip.DataPtrUint8()
	if err != nil {
		return engine.Frame{}, fmt.Errorf("align: %w: %v", ErrOpenCV, err)
	}
	return engine.Frame{Width: ChipSize, Height: ChipSize, Pix: append([]byte(nil), px...), Seq: f.Seq, Time: f.Time}, nil
}

// Embed aligns the face (five points from its 68 landmarks, least-squares
// similarity onto the ArcFace template, bilinear warp, black border), feeds
// the BGR chip as (p-127)/128 and returns the L2-normalised 512-d vector.
// face.Landmarks is required (error wrapping ErrNoLandmarks otherwise); eye
// centres and nose tip outside the frame give ErrBadFace.
func (e *Embedder) Embed(ctx context.Context, f engine.Frame, face engine.Face) (engine.Embedding, error) {
	if err := ctx.Err(); err != nil {
		return engine.Embedding{}, fmt.Errorf("embed: %w", err)
	}
	if err := f.Validate(); err != nil {
		return engine.Embedding{}, fmt.Errorf("embed: %w", err)
	}
	a, err := AlignTransform(face)
	if err != nil {
		return engine.Embedding{}, fmt.Errorf("embed: %w", err)
	}
	if err := checkInside(face, f.Width, f.Height); err != nil {
		return engine.Embedding{}, fmt.Errorf("embed: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.net == nil {
		return engine.Embedding{}, fmt.Errorf("embed: %w", engine.ErrClosed)
	}
	if err := e.warp(f, a); err != nil {
		return engine.Embedding{}, fmt.Errorf("embed: %w", err)
	}
	if err := FillBlob(e.chip, &e.blob, Norm{Mean: [3]float32{127, 127, 127}, Scale: [3]float32{1.0 / 128, 1.0 / 128, 1.0 / 128}}); err != nil {
		return engine.Embedding{}, fmt.Errorf("embed: %w", err)
	}
	if err := e.net.Forward(e.blob, e.outs); err != nil {
		return engine.Embedding{}, fmt.Errorf("embed: %w", err)
	}
	v, err := floats(&e.outs[0], EmbeddingSize, "embed: output")
	if err != nil {
		return engine.Embedding{}, err
	}
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	norm := math.Sqrt(ss)
	if !(norm > 1e-12) || math.IsInf(norm, 0) {
		return engine.Embedding{}, fmt.Errorf("embed: %w: zero or non-finite output vector", ErrOpenCV)
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / norm)
	}
	return engine.Embedding{Model: e.model, Metric: engine.Cosine, Vector: out}, nil
}

// Close frees the network and buffers. It is idempotent.
func (e *Embedder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.net == nil {
		return nil
	}
	err := e.net.Close()
	e.net = nil
	CloseMats(&e.m, &e.chip, &e.blob, &e.outs[0])
	return err
}
