package ocv

import (
	"context"
	"fmt"
	"image"
	"math"
	"sync"

	"gocv.io/x/gocv"

	"vidid/engine"
	eocv "vidid/engine/ocv"
)

const (
	eyeSize = 24
	// EyeBoxScale is the eye crop's side as a multiple of the eye width
	// (corner to corner).
	EyeBoxScale = 1.6
)

// EyeConfig configures NewEyeState.
type EyeConfig struct {
	// ModelRoot is the model folder holding faceplugin/fr_eye.onnx.
	ModelRoot string
	// Threads, when > 0, sets OpenCV's process-wide thread count.
	Threads int
}

// EyeState is the fr_eye.onnx open/closed eye classifier.
type EyeState struct {
	mu      sync.Mutex
	net     *eocv.Net
	resized gocv.Mat
	gray    gocv.Mat
	blob    gocv.Mat
	outs    []gocv.Mat
}

// NewEyeState loads and verifies fr_eye.onnx.
func NewEyeState(cfg EyeConfig) (*EyeState, error) {
	if cfg.Threads < 0 {
		return nil, fmt.Errorf("new eye state: %w: threads %d < 0", eocv.ErrBadConfig, cfg.Threads)
	}
	eocv.SetNumThreads(cfg.Threads)
	net, err := eocv.OpenNet(cfg.ModelRoot, "fr_eye.onnx", "output")
	if err != nil {
		return nil, fmt.Errorf("new eye state: %w", err)
	}
	return &EyeState{
		net:     net,
		resized: gocv.NewMat(),
		gray:    gocv.NewMat(),
		blob:    eocv.NewBlob(1, eyeSize, eyeSize),
		outs:    []gocv.Mat{gocv.NewMat()},
	}, nil
}

// EyeBoxes returns the square crops of the two eyes from 68 iBUG landmarks:
// centred on the mean of the four eyelid points (37,38,40,41 and
// 43,44,46,47), side = 1.6 x the corner-to-corner width (36-39, 42-45),
// kept inside the w x h frame. left is the eye on the image's left
// (points 36-41: the subject's right eye in an unmirrored image).
func EyeBoxes(lm []engine.Point, w, h int) (left, right image.Rectangle, err error) {
	if len(lm) != 68 {
		return left, right, fmt.Errorf("eye boxes: %w: %d points", eocv.ErrNoLandmarks, len(lm))
	}
	box := func(lid [4]int, c0, c1 int) (image.Rectangle, error) {
		var cx, cy float64
		for _, i := range lid {
			cx += float64(lm[i].X) / 4
			cy += float64(lm[i].Y) / 4
		}
		side := math.Hypot(float64(lm[c1].X-lm[c0].X), float64(lm[c1].Y-lm[c0].Y)) * EyeBoxScale
		if math.IsNaN(cx+cy+side) || math.IsInf(cx+cy+side, 0) || side < 4 || side > float64(w+h) {
			return image.Rectangle{}, fmt.Errorf("eye boxes: %w: eye width %.1f px", eocv.ErrBadFace, side/EyeBoxScale)
		}
		r := image.Rect(int(cx-side/2), int(cy-side/2), int(cx+side/2), int(cy+side/2)).Intersect(image.Rect(0, 0, w, h))
		if r.Dx() < 4 || r.Dy() < 4 {
			return image.Rectangle{}, fmt.Errorf("eye boxes: %w: eye outside the frame", eocv.ErrBadFace)
		}
		return r, nil
	}
	if left, err = box([4]int{37, 38, 40, 41}, 36, 39); err != nil {
		return left, right, err
	}
	right, err = box([4]int{43, 44, 46, 47}, 42, 45)
	return left, right, err
}

// EyesClosed returns the probability that each eye is closed (softmax class
// 0 of fr_eye.onnx on the 24x24 gray crop scaled v/255); left and right as
// in EyeBoxes. face.Landmarks is required.
func (e *EyeState) EyesClosed(ctx context.Context, f engine.Frame, face engine.Face) (left, right float64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, fmt.Errorf("eye state: %w", err)
	}
	if err := f.Validate(); err != nil {
		return 0, 0, fmt.Errorf("eye state: %w", err)
	}
	if face.Landmarks == nil {
		return 0, 0, fmt.Errorf("eye state: %w", eocv.ErrNoLandmarks)
	}
	lb, rb, err := EyeBoxes(face.Landmarks, f.Width, f.Height)
	if err != nil {
		return 0, 0, fmt.Errorf("eye state: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.net == nil {
		return 0, 0, fmt.Errorf("eye state: %w", engine.ErrClosed)
	}
	src, err := eocv.FrameMat(f)
	if err != nil {
		return 0, 0, fmt.Errorf("eye state: %w", err)
	}
	defer src.Close()
	if left, err = e.closed(src, lb); err != nil {
		return 0, 0, err
	}
	if right, err = e.closed(src, rb); err != nil {
		return 0, 0, err
	}
	return left, right, nil
}

func (e *EyeState) closed(src gocv.Mat, r image.Rectangle) (float64, error) {
	if err := eocv.CropResize(src, r, image.Pt(eyeSize, eyeSize), &e.resized); err != nil {
		return 0, fmt.Errorf("eye state: %w", err)
	}
	gocv.CvtColor(e.resized, &e.gray, gocv.ColorBGRToGray)
	if err := eocv.FillBlob(e.gray, &e.blob, eocv.Norm{Scale: [3]float32{1.0 / 255}}); err != nil {
		return 0, fmt.Errorf("eye state: %w", err)
	}
	if err := e.net.Forward(e.blob, e.outs); err != nil {
		return 0, fmt.Errorf("eye state: %w", err)
	}
	v, err := eocv.Floats(&e.outs[0], 2, "eye state: output")
	if err != nil {
		return 0, err
	}
	return eocv.Softmax(v)[0], nil
}

// Close frees the network and buffers. It is idempotent.
func (e *EyeState) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.net == nil {
		return nil
	}
	err := e.net.Close()
	e.net = nil
	eocv.CloseMats(&e.resized, &e.gray, &e.blob, &e.outs[0])
	return err
}
