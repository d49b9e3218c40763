package ocv

import "errors"

// Sentinel errors of this package. Model-file problems wrap engine.ErrModel
// and models.ErrModel; use after Close wraps engine.ErrClosed; a malformed
// frame wraps engine.ErrBadFrame.
var (
	// ErrOpenCV: OpenCV raised a C++ exception (caught and turned into this
	// error instead of aborting the process).
	ErrOpenCV = errors.New("opencv error")
	// ErrNoLandmarks: the stage needs the face's 68 landmarks and it has none.
	ErrNoLandmarks = errors.New("face has no 68-point landmarks")
	// ErrBadFace: the face box (or the landmarks) lie outside the frame or
	// are too small to crop.
	ErrBadFace = errors.New("face region unusable")
	// ErrBadConfig: a configuration value is out of range.
	ErrBadConfig = errors.New("invalid configuration")
)
