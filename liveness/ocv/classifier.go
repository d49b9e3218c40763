package ocv

import (
	"context"
	"fmt"
	"image"
	"sync"

	"gocv.io/x/gocv"

	"vidid/engine"
	eocv "vidid/engine/ocv"
)

// cropClassifier is what the passive anti-spoofing models share: a context
// crop of the frame around the face, resized (bilinear) to size x size,
// written into an NCHW blob with norm, one forward pass, and a softmax over
// the output's classes. Calls are serialised: the network and the Mats are
// reused between calls.
type cropClassifier struct {
	what    string // error prefix, e.g. "passive liveness"
	size    int
	classes int
	norm    eocv.Norm

	mu      sync.Mutex
	net     *eocv.Net
	resized gocv.Mat
	blob    gocv.Mat
	outs    []gocv.Mat
}

func newCropClassifier(what string, net *eocv.Net, size, classes int, norm eocv.Norm) *cropClassifier {
	return &cropClassifier{
		what: what, size: size, classes: classes, norm: norm,
		net:     net,
		resized: gocv.NewMat(),
		blob:    eocv.NewBlob(3, size, size),
		outs:    []gocv.Mat{gocv.NewMat()},
	}
}

// probs returns the class probabilities for the crop that crop computes
// from the frame size. A crop smaller than 8x8 is an ErrBadFace.
func (c *cropClassifier) probs(ctx context.Context, f engine.Frame, face engine.Face, crop func(face engine.Face, w, h int) image.Rectangle) ([]float64, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", c.what, err)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", c.what, err)
	}
	r := crop(face, f.Width, f.Height)
	if r.Dx() < 8 || r.Dy() < 8 {
		return nil, fmt.Errorf("%s: %w: box %v gives crop %v in a %dx%d frame", c.what, eocv.ErrBadFace, face.Box, r, f.Width, f.Height)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.net == nil {
		return nil, fmt.Errorf("%s: %w", c.what, engine.ErrClosed)
	}
	src, err := eocv.FrameMat(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.what, err)
	}
	defer src.Close()
	if err := eocv.CropResize(src, r, image.Pt(c.size, c.size), &c.resized); err != nil {
		return nil, fmt.Errorf("%s: %w", c.what, err)
	}
	if err := eocv.FillBlob(c.resized, &c.blob, c.norm); err != nil {
		return nil, fmt.Errorf("%s: %w", c.what, err)
	}
	if err := c.net.Forward(c.blob, c.outs); err != nil {
		return nil, fmt.Errorf("%s: %w", c.what, err)
	}
	v, err := eocv.Floats(&c.outs[0], c.classes, c.what+": output")
	if err != nil {
		return nil, err
	}
	return eocv.Softmax(v), nil
}

// close frees the network and the Mats. It is idempotent.
func (c *cropClassifier) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.net == nil {
		return nil
	}
	err := c.net.Close()
	c.net = nil
	eocv.CloseMats(&c.resized, &c.blob, &c.outs[0])
	return err
}
