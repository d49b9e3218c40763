package engine

import "errors"

// Sentinel errors callers branch on. Wrap them with context; test with errors.Is.
var (
	// ErrBadFrame: the frame's size and buffer disagree.
	ErrBadFrame = errors.New("malformed frame")
	// ErrBadImage: the bytes are not a decodable JPEG or PNG image, or the
	// image is too small or too large.
	ErrBadImage = errors.New("not a usable image")
	// ErrNoFace: no face was found.
	ErrNoFace = errors.New("no face found")
	// ErrMultipleFaces: more than one face was found where exactly one is required.
	ErrMultipleFaces = errors.New("more than one face in frame")
	// ErrPoorQuality: a face was found but fails the quality gate.
	ErrPoorQuality = errors.New("face quality too poor")
	// ErrModel: a model file is missing, corrupt or does not match its checksum.
	ErrModel = errors.New("model unavailable")
	// ErrClosed: the stage was used after Close.
	ErrClosed = errors.New("stage closed")
	// ErrNoAligner: the configured embedder does not expose its face chip.
	ErrNoAligner = errors.New("the embedder has no separate alignment stage")
	// ErrModelMismatch: two embeddings from different models were compared.
	ErrModelMismatch = errors.New("embeddings come from different models")
)
