package ocv

import (
	"context"
	"fmt"
	"image"

	"vidid/engine"
	eocv "vidid/engine/ocv"
	"vidid/liveness"
)

const (
	passiveSize = 128
	// PassiveCropScale is how much the square face box is enlarged for the
	// passive model's crop: the surroundings (paper edge, phone bezel) are
	// part of the evidence.
	PassiveCropScale = 2.7
)

// PassiveConfig configures NewPassive.
type PassiveConfig struct {
	// ModelRoot is the model folder holding faceplugin/fr_liveness.onnx.
	ModelRoot string
	// Threads, when > 0, sets OpenCV's process-wide thread count.
	Threads int
}

// Passive is the fr_liveness.onnx passive anti-spoofing model (3 classes,
// class 0 = live). It is no longer the default passive scorer (MiniFASNet,
// Fused, is): it remains selectable as an optional cue.
type Passive struct{ c *cropClassifier }

var _ liveness.PassiveScorer = (*Passive)(nil)

// NewPassive loads and verifies fr_liveness.onnx.
func NewPassive(cfg PassiveConfig) (*Passive, error) {
	if cfg.Threads < 0 {
		return nil, fmt.Errorf("new passive liveness: %w: threads %d < 0", eocv.ErrBadConfig, cfg.Threads)
	}
	eocv.SetNumThreads(cfg.Threads)
	net, err := eocv.OpenNet(cfg.ModelRoot, "fr_liveness.onnx", "output")
	if err != nil {
		return nil, fmt.Errorf("new passive liveness: %w", err)
	}
	return &Passive{newCropClassifier("passive liveness", net, passiveSize, 3, eocv.Norm{Scale: [3]float32{1, 1, 1}, RGB: true})}, nil
}

// PassiveCrop is the frame region the passive model sees: the square face
// box enlarged 2.7x about its centre, shrunk if it does not fit and shifted
// back inside the frame (eocv.ScaledCrop).
func PassiveCrop(face engine.Face, w, h int) image.Rectangle {
	return eocv.ScaledCrop(eocv.SquareBox(face.Box, image.Rect(0, 0, w, h)), PassiveCropScale, w, h)
}

// Score returns p(live): the softmax probability of class 0 for the crop
// (PassiveCrop) resized to 128x128, fed as raw 0..255 values in R,G,B order.
func (p *Passive) Score(ctx context.Context, f engine.Frame, face engine.Face) (float64, error) {
	pr, err := p.c.probs(ctx, f, face, PassiveCrop)
	if err != nil {
		return 0, err
	}
	return pr[0], nil
}

// Close frees the network and buffers. It is idempotent.
func (p *Passive) Close() error { return p.c.close() }
