package engine

import "context"

// Detector finds faces in a frame. Implementations return faces sorted by
// descending Score, boxes clamped to the frame, and never an empty result in
// place of an error.
type Detector interface {
	Detect(ctx context.Context, f Frame) ([]Face, error)
}

// Landmarker locates the 68 iBUG 300-W points of one face.
type Landmarker interface {
	Landmarks(ctx context.Context, f Frame, face Face) ([]Point, error)
}

// Embedder turns one face (with landmarks, when the model needs them for
// alignment) into a feature vector. Model() names the model and its version;
// embeddings are only comparable within one Model().
type Embedder interface {
	Model() string
	Embed(ctx context.Context, f Frame, face Face) (Embedding, error)
}

// Aligner cuts the aligned face chip an embedder sees: the face warped
// onto the embedder's landmark template at its input size. Moderators and
// analysts look at chips to see what a score was computed from. Embedders
// that align (the ONNX one) implement it; dlib's does its own cropping and
// does not.
type Aligner interface {
	Align(ctx context.Context, f Frame, face Face) (Frame, error)
}

// DetectorFunc adapts a function to Detector (for tests and wrappers).
type DetectorFunc func(ctx context.Context, f Frame) ([]Face, error)

// Detect calls fn.
func (fn DetectorFunc) Detect(ctx context.Context, f Frame) ([]Face, error) { return fn(ctx, f) }

// LandmarkerFunc adapts a function to Landmarker.
type LandmarkerFunc func(ctx context.Context, f Frame, face Face) ([]Point, error)

// Landmarks calls fn.
func (fn LandmarkerFunc) Landmarks(ctx context.Context, f Frame, face Face) ([]Point, error) {
	return fn(ctx, f, face)
}
