package dlib

// This file is the package's only contact with C++: it is the one importer
// of github.com/Kagami/go-face. go-face carries its own cgo flags
// (CXXFLAGS -std=c++1z -O3 -march=native, LDFLAGS -ldlib -lblas -lcblas
// -llapack -ljpeg); this package adds none.

import (
	"context"
	"errors"
	"fmt"
	"image"
	"path/filepath"

	face "github.com/Kagami/go-face"

	"vidid/engine"
	"vidid/models"
)

// ModelSubdir is the folder under the model root that holds dlib's files.
const ModelSubdir = "dlib"

// The three files go-face's NewRecognizer reads from one folder.
const (
	fileShapePredictor = "shape_predictor_5_face_landmarks.dat" // really the 68-point model, see MODELS.md
	fileResNet         = "dlib_face_recognition_resnet_model_v1.dat"
	fileMMOD           = "mmod_human_face_detector.dat"
)

// modelFiles lists what go-face loads, in the order it loads them.
var modelFiles = []string{fileShapePredictor, fileResNet, fileMMOD}

// chipSize is the input side of dlib's ResNet (input_rgb_image_sized<150>).
const chipSize = 150

// dlibFace is one face go-face found, in the coordinates of the image it
// was given. Rect follows Go's convention (Max exclusive).
type dlibFace struct {
	Rect       image.Rectangle
	Descriptor [128]float32
	Shapes     []image.Point
}

// recognizer owns one go-face Recognizer and serialises every call on it.
//
// go-face's C++ side locks its detector and ResNet internally, but its
// Close frees the C++ object under a running call and its Config is
// unsynchronised, so all access goes through sem (a mutex whose acquisition
// honours the caller's context). Calls are therefore one at a time per
// recognizer; run several Embedders for parallelism.
type recognizer struct {
	sem chan struct{}
	rec *face.Recognizer // nil once closed
}

// openRecognizer verifies the three model files under root/dlib and only
// then lets dlib read them. It returns the ResNet file's catalogued sha256.
func openRecognizer(root string, padding float64, jitter int) (*recognizer, string, error) {
	var dir string
	for _, name := range modelFiles {
		p, err := models.Path(root, ModelSubdir, name)
		if err != nil {
			return nil, "", fmt.Errorf("open dlib model %s: %w: %w", name, engine.ErrModel, err)
		}
		dir = filepath.Dir(p)
	}
	f, err := models.Lookup(ModelSubdir, fileResNet)
	if err != nil {
		return nil, "", fmt.Errorf("open dlib model %s: %w: %w", fileResNet, engine.ErrModel, err)
	}
	r, err := loadRecognizer(dir, padding, jitter)
	if err != nil {
		return nil, "", err
	}
	return r, f.SHA256, nil
}

// loadRecognizer hands dir to go-face without verifying anything; only
// openRecognizer and tests of the error mapping call it.
func loadRecognizer(dir string, padding float64, jitter int) (*recognizer, error) {
	rec, err := face.NewRecognizerWithConfig(dir, chipSize, float32(padding), jitter)
	if err != nil {
		err = mapError("load dlib models from "+dir, err)
		if !errors.Is(err, engine.ErrModel) {
			// Any failure while reading the models is a model problem.
			err = fmt.Errorf("%w: %w: %w", engine.ErrModel, models.ErrModel, err)
		}
		return nil, err
	}
	return &recognizer{sem: make(chan struct{}, 1), rec: rec}, nil
}

// recognize runs go-face's HOG detection, landmarks and ResNet on a JPEG.
// Zero faces is not an error.
func (r *recognizer) recognize(ctx context.Context, op string, jpeg []byte) ([]dlibFace, error) {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", op, ctx.Err())
	}
	defer func() { <-r.sem }()
	if r.rec == nil {
		return nil, fmt.Errorf("%s: %w", op, engine.ErrClosed)
	}
	// The C++ call cannot be interrupted; check once more before it.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	faces, err := r.rec.Recognize(jpeg)
	if err != nil {
		return nil, mapError(op, err)
	}
	out := make([]dlibFace, len(faces))
	for i, f := range faces {
		// dlib rectangles are inclusive on the right and bottom.
		out[i] = dlibFace{
			Rect:       image.Rect(f.Rectangle.Min.X, f.Rectangle.Min.Y, f.Rectangle.Max.X+1, f.Rectangle.Max.Y+1),
			Descriptor: f.Descriptor,
			Shapes:     f.Shapes,
		}
	}
	return out, nil
}

// close frees the C++ recognizer once; it waits for a running call.
func (r *recognizer) close() {
	r.sem <- struct{}{}
	defer func() { <-r.sem }()
	if r.rec != nil {
		r.rec.Close()
		r.rec = nil
	}
}

// mapError turns go-face's typed errors (C++ exceptions caught in
// facerec.cc) into errors wrapping this project's sentinels.
func mapError(op string, err error) error {
	var (
		imgErr   face.ImageLoadError
		serErr   face.SerializationError
		otherErr face.UnknownError
	)
	switch {
	case errors.As(err, &imgErr):
		return fmt.Errorf("%s: %w: dlib could not decode the image: %s", op, engine.ErrBadImage, string(imgErr))
	case errors.As(err, &serErr):
		return fmt.Errorf("%s: %w: %w: dlib could not read a model file: %s", op, engine.ErrModel, models.ErrModel, string(serErr))
	case errors.As(err, &otherErr):
		return fmt.Errorf("%s: %w: %s", op, ErrDlib, string(otherErr))
	default:
		return fmt.Errorf("%s: %w: %w", op, ErrDlib, err)
	}
}
