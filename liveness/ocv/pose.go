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

const (
	poseSize = 224
	poseBins = 66
)

// PoseConfig configures NewPoseEstimator.
type PoseConfig struct {
	// ModelRoot is the model folder holding faceplugin/fr_pose.onnx.
	ModelRoot string
	// Threads, when > 0, sets OpenCV's process-wide thread count.
	Threads int
}

// PoseEstimator is the fr_pose.onnx head-pose model (Hopenet-style: three
// heads of 66 three-degree bins).
type PoseEstimator struct {
	mu      sync.Mutex
	net     *eocv.Net
	resized gocv.Mat
	blob    gocv.Mat
	outs    []gocv.Mat // yaw, pitch, roll logits
}

// NewPoseEstimator loads and verifies fr_pose.onnx.
func NewPoseEstimator(cfg PoseConfig) (*PoseEstimator, error) {
	if cfg.Threads < 0 {
		return nil, fmt.Errorf("new pose estimator: %w: threads %d < 0", eocv.ErrBadConfig, cfg.Threads)
	}
	eocv.SetNumThreads(cfg.Threads)
	net, err := eocv.OpenNet(cfg.ModelRoot, "fr_pose.onnx", "output", "617", "618")
	if err != nil {
		return nil, fmt.Errorf("new pose estimator: %w", err)
	}
	return &PoseEstimator{
		net:     net,
		resized: gocv.NewMat(),
		blob:    eocv.NewBlob(3, poseSize, poseSize),
		outs:    []gocv.Mat{gocv.NewMat(), gocv.NewMat(), gocv.NewMat()},
	}, nil
}

// PoseCrop is the frame region the pose model sees: the square face box
// (eocv.SquareBox) itself.
//
// MODELS.md (and the Faceplugin package) grow the box by a quarter on every
// side. Measured on 35 one-person photos and their mirror images, that crop
// makes yaw inconsistent: mean |yaw(photo) + yaw(mirrored)| 15.0 degrees and
// correlation with the landmark-geometry yaw (engine.PoseFromLandmarks) only
// 0.67; the square box itself gives 2.8 degrees and 0.98 (growth 0.05-0.1
// is as good; 0.5 is useless: 42 degrees, 0.21).
func PoseCrop(face engine.Face, w, h int) image.Rectangle {
	return eocv.SquareBox(face.Box, image.Rect(0, 0, w, h))
}

// Pose returns head yaw, pitch and roll in degrees (each the softmax
// expectation over 66 bins, x3 - 99), from the crop (PoseCrop) resized to
// 224x224, R,G,B, ImageNet mean/std. Signs follow engine.PoseFromLandmarks
// (checked on mirrored and rotated photos): yaw > 0 when the nose points
// towards the image's right (the model's own yaw is negated for this), roll
// > 0 when the face is turned clockwise as seen in the image, pitch > 0 with
// the chin raised. Frontal faces read a few degrees of negative pitch.
func (p *PoseEstimator) Pose(ctx context.Context, f engine.Frame, face engine.Face) (yaw, pitch, roll float64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, 0, fmt.Errorf("pose: %w", err)
	}
	if err := f.Validate(); err != nil {
		return 0, 0, 0, fmt.Errorf("pose: %w", err)
	}
	crop := PoseCrop(face, f.Width, f.Height)
	if crop.Dx() < 8 || crop.Dy() < 8 {
		return 0, 0, 0, fmt.Errorf("pose: %w: box %v gives crop %v in a %dx%d frame", eocv.ErrBadFace, face.Box, crop, f.Width, f.Height)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.net == nil {
		return 0, 0, 0, fmt.Errorf("pose: %w", engine.ErrClosed)
	}
	src, err := eocv.FrameMat(f)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("pose: %w", err)
	}
	defer src.Close()
	if err := eocv.CropResize(src, crop, image.Pt(poseSize, poseSize), &p.resized); err != nil {
		return 0, 0, 0, fmt.Errorf("pose: %w", err)
	}
	norm := eocv.Norm{
		Mean:  [3]float32{0.485 * 255, 0.456 * 255, 0.406 * 255},
		Scale: [3]float32{1 / (0.229 * 255), 1 / (0.224 * 255), 1 / (0.225 * 255)},
		RGB:   true,
	}
	if err := eocv.FillBlob(p.resized, &p.blob, norm); err != nil {
		return 0, 0, 0, fmt.Errorf("pose: %w", err)
	}
	if err := p.net.Forward(p.blob, p.outs); err != nil {
		return 0, 0, 0, fmt.Errorf("pose: %w", err)
	}
	var deg [3]float64
	for i := range deg {
		v, err := eocv.Floats(&p.outs[i], poseBins, "pose: output")
		if err != nil {
			return 0, 0, 0, err
		}
		var e float64
		for bin, q := range eocv.Softmax(v) {
			e += q * float64(bin)
		}
		deg[i] = e*3 - 99
	}
	return -deg[0], deg[1], deg[2], nil
}

// Close frees the network and buffers. It is idempotent.
func (p *PoseEstimator) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.net == nil {
		return nil
	}
	err := p.net.Close()
	p.net = nil
	eocv.CloseMats(&p.resized, &p.blob, &p.outs[0], &p.outs[1], &p.outs[2])
	return err
}
