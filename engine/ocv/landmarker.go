package ocv

import (
	"context"
	"fmt"
	"image"
	"math"
	"sync"

	"gocv.io/x/gocv"

	"vidid/engine"
)

const landmarkSize = 64

// LandmarkerConfig configures NewLandmarker.
type LandmarkerConfig struct {
	// ModelRoot is the model folder holding faceplugin/fr_landmark.onnx.
	ModelRoot string
	// Threads, when > 0, sets OpenCV's process-wide thread count.
	Threads int
}

// Landmarker locates the 68 iBUG 300-W points with fr_landmark.onnx. It is
// safe for concurrent use; calls are serialised by a mutex.
type Landmarker struct {
	mu      sync.Mutex
	net     *Net
	resized gocv.Mat
	gray    gocv.Mat
	blob    gocv.Mat
	outs    []gocv.Mat
}

var _ engine.Landmarker = (*Landmarker)(nil)

// NewLandmarker loads and verifies fr_landmark.onnx.
func NewLandmarker(cfg LandmarkerConfig) (*Landmarker, error) {
	if cfg.Threads < 0 {
		return nil, fmt.Errorf("new landmarker: %w: threads %d < 0", ErrBadConfig, cfg.Threads)
	}
	SetNumThreads(cfg.Threads)
	net, err := OpenNet(cfg.ModelRoot, "fr_landmark.onnx", "output")
	if err != nil {
		return nil, fmt.Errorf("new landmarker: %w", err)
	}
	return &Landmarker{
		net:     net,
		resized: gocv.NewMat(),
		gray:    gocv.NewMat(),
		blob:    NewBlob(1, landmarkSize, landmarkSize),
		outs:    []gocv.Mat{gocv.NewMat()},
	}, nil
}

// LandmarkCrop is the frame region the landmark model sees for a face: the
// square box (SquareBox) kept inside the frame (ScaledCrop at scale 1).
func LandmarkCrop(face engine.Face, w, h int) image.Rectangle {
	return ScaledCrop(SquareBox(face.Box, image.Rect(0, 0, w, h)), 1, w, h)
}

// Landmarks returns the 68 points of face in frame coordinates: the crop
// (LandmarkCrop) is resized to 64x64 gray, scaled v/256, and the model's
// outputs (fractions of the crop) are mapped back to the frame.
func (l *Landmarker) Landmarks(ctx context.Context, f engine.Frame, face engine.Face) ([]engine.Point, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("landmarks: %w", err)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("landmarks: %w", err)
	}
	crop := LandmarkCrop(face, f.Width, f.Height)
	if crop.Dx() < 8 || crop.Dy() < 8 {
		return nil, fmt.Errorf("landmarks: %w: box %v gives crop %v in a %dx%d frame", ErrBadFace, face.Box, crop, f.Width, f.Height)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.net == nil {
		return nil, fmt.Errorf("landmarks: %w", engine.ErrClosed)
	}
	src, err := FrameMat(f)
	if err != nil {
		return nil, fmt.Errorf("landmarks: %w", err)
	}
	defer src.Close()
	if err := CropResize(src, crop, image.Pt(landmarkSize, landmarkSize), &l.resized); err != nil {
		return nil, fmt.Errorf("landmarks: %w", err)
	}
	gocv.CvtColor(l.resized, &l.gray, gocv.ColorBGRToGray)
	if err := FillBlob(l.gray, &l.blob, Norm{Scale: [3]float32{1.0 / 256}}); err != nil {
		return nil, fmt.Errorf("landmarks: %w", err)
	}
	if err := l.net.Forward(l.blob, l.outs); err != nil {
		return nil, fmt.Errorf("landmarks: %w", err)
	}
	v, err := floats(&l.outs[0], 136, "landmarks: output")
	if err != nil {
		return nil, err
	}
	pts := make([]engine.Point, 68)
	x0, y0, cw, ch := float32(crop.Min.X), float32(crop.Min.Y), float32(crop.Dx()), float32(crop.Dy())
	for i := range pts {
		x, y := v[2*i], v[2*i+1]
		if math.IsNaN(float64(x)) || math.IsNaN(float64(y)) || math.IsInf(float64(x), 0) || math.IsInf(float64(y), 0) {
			return nil, fmt.Errorf("landmarks: %w: non-finite model output", ErrOpenCV)
		}
		pts[i] = engine.Point{X: x0 + x*cw, Y: y0 + y*ch}
	}
	return pts, nil
}

// Close frees the network and buffers. It is idempotent.
func (l *Landmarker) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.net == nil {
		return nil
	}
	err := l.net.Close()
	l.net = nil
	CloseMats(&l.resized, &l.gray, &l.blob, &l.outs[0])
	return err
}
