package dlib

import "errors"

// Sentinel errors of this package. Model-file problems wrap engine.ErrModel
// and models.ErrModel; use after Close wraps engine.ErrClosed; a malformed
// frame wraps engine.ErrBadFrame; an image dlib cannot decode wraps
// engine.ErrBadImage; no face where one was expected wraps engine.ErrNoFace.
var (
	// ErrDlib: dlib raised an exception that is neither an image-load nor a
	// model-serialisation error (caught and turned into this error).
	ErrDlib = errors.New("dlib error")
	// ErrBadFace: the face box lies outside the frame or is too small to
	// embed.
	ErrBadFace = errors.New("face region unusable")
	// ErrBadConfig: a configuration value is out of range.
	ErrBadConfig = errors.New("invalid configuration")
)
