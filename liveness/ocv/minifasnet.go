package ocv

import (
	"context"
	"errors"
	"fmt"
	"image"

	"vidid/engine"
	eocv "vidid/engine/ocv"
	"vidid/liveness"
)

// MiniFASNetSubdir is the model-catalogue folder of the MiniFASNet files.
const MiniFASNetSubdir = "minifasnet"

const miniFASNetSize = 80

// MiniFASNetModel is one of the two Silent-Face-Anti-Spoofing networks: its
// ONNX file (in MiniFASNetSubdir) and the context scale of its crop.
type MiniFASNetModel struct {
	File  string
	Scale float64
}

// The two models vidid ships (shared/models/minifasnet/MODELS.md,
// docs/models.md).
var (
	MiniFASNetV2   = MiniFASNetModel{File: "minifasnet_v2_2.7_80.onnx", Scale: 2.7}
	MiniFASNetV1SE = MiniFASNetModel{File: "minifasnet_v1se_4.0_80.onnx", Scale: 4.0}
)

// Crop is the frame region the model sees for face in a w x h frame: the
// detector box made square (side = box height, same centre, clamped to the
// frame: eocv.SquareBox), enlarged by min(Scale, (h-1)/side, (w-1)/side)
// about its centre, shifted back inside the frame, corners truncated to int
// and the last row and column included (eocv.ScaledCropInclusive).
func (m MiniFASNetModel) Crop(face engine.Face, w, h int) image.Rectangle {
	return eocv.ScaledCropInclusive(eocv.SquareBox(face.Box, image.Rect(0, 0, w, h)), m.Scale, w, h)
}

// MiniFASNetConfig configures NewMiniFASNet and NewFused.
type MiniFASNetConfig struct {
	// ModelRoot is the model folder holding minifasnet/*.onnx.
	ModelRoot string
	// Threads, when > 0, sets OpenCV's process-wide thread count.
	Threads int
}

// MiniFASNet is one MiniFASNet network as a passive scorer.
type MiniFASNet struct {
	model MiniFASNetModel
	c     *cropClassifier
}

var _ liveness.PassiveScorer = (*MiniFASNet)(nil)

// NewMiniFASNet verifies the model file against the catalogue (size and
// sha256) and only then loads it into OpenCV.
func NewMiniFASNet(cfg MiniFASNetConfig, m MiniFASNetModel) (*MiniFASNet, error) {
	if cfg.Threads < 0 {
		return nil, fmt.Errorf("new minifasnet: %w: threads %d < 0", eocv.ErrBadConfig, cfg.Threads)
	}
	if m.Scale <= 0 {
		return nil, fmt.Errorf("new minifasnet %s: %w: scale %v", m.File, eocv.ErrBadConfig, m.Scale)
	}
	eocv.SetNumThreads(cfg.Threads)
	net, err := eocv.OpenNetIn(cfg.ModelRoot, MiniFASNetSubdir, m.File, "output")
	if err != nil {
		return nil, fmt.Errorf("new minifasnet: %w", err)
	}
	// Raw 0..255 values in the frame's B,G,R order, no mean.
	norm := eocv.Norm{Scale: [3]float32{1, 1, 1}}
	return &MiniFASNet{model: m, c: newCropClassifier("minifasnet "+m.File, net, miniFASNetSize, 3, norm)}, nil
}

// Model returns the file and crop scale this scorer runs.
func (s *MiniFASNet) Model() MiniFASNetModel { return s.model }

// Score returns p(live): the softmax probability of class 1 (classes 0 and
// 2 are attacks) for the model's crop (MiniFASNetModel.Crop) resized to
// 80x80.
func (s *MiniFASNet) Score(ctx context.Context, f engine.Frame, face engine.Face) (float64, error) {
	p, err := s.c.probs(ctx, f, face, s.model.Crop)
	if err != nil {
		return 0, err
	}
	return p[1], nil
}

// Close frees the network and buffers. It is idempotent.
func (s *MiniFASNet) Close() error { return s.c.close() }

// Fused is the default passive scorer: MiniFASNetV2 (scale 2.7) and
// MiniFASNetV1SE (scale 4.0) on the same face, fused as the mean of their
// p(live). Upstream's own decision adds the two softmax vectors and takes
// the argmax; the mean of class 1 ranks the same way and gives one score in
// [0,1] to threshold.
type Fused struct {
	v2, v1se *MiniFASNet
}

var (
	_ liveness.PassiveScorer = (*Fused)(nil)
	_ liveness.MultiScorer   = (*Fused)(nil)
)

// NewFused loads and verifies both MiniFASNet files.
func NewFused(cfg MiniFASNetConfig) (*Fused, error) {
	v2, err := NewMiniFASNet(cfg, MiniFASNetV2)
	if err != nil {
		return nil, err
	}
	v1se, err := NewMiniFASNet(cfg, MiniFASNetV1SE)
	if err != nil {
		v2.Close()
		return nil, err
	}
	return &Fused{v2: v2, v1se: v1se}, nil
}

// ScoreAll returns both models' p(live) and their mean.
func (s *Fused) ScoreAll(ctx context.Context, f engine.Frame, face engine.Face) (liveness.Scores, error) {
	a, err := s.v2.Score(ctx, f, face)
	if err != nil {
		return liveness.Scores{}, err
	}
	b, err := s.v1se.Score(ctx, f, face)
	if err != nil {
		return liveness.Scores{}, err
	}
	return liveness.Scores{V2: a, V1SE: b, Fused: (a + b) / 2}, nil
}

// Score returns the fused p(live), the mean of the two models' scores.
func (s *Fused) Score(ctx context.Context, f engine.Frame, face engine.Face) (float64, error) {
	sc, err := s.ScoreAll(ctx, f, face)
	return sc.Fused, err
}

// Close frees both networks. It is idempotent.
func (s *Fused) Close() error { return errors.Join(s.v2.Close(), s.v1se.Close()) }
