package vpx

import "errors"

// Sentinel errors.
var (
	// ErrCorrupt: libvpx could not decode the frame (or the picture is
	// out of range). The decoder stays usable; ask the sender for a keyframe.
	ErrCorrupt = errors.New("corrupt vp8 frame")
	// ErrClosed: the decoder was used after Close.
	ErrClosed = errors.New("vp8 decoder closed")
	// ErrNoPicture: the frame decoded but produced no picture to show (for
	// example a hidden alt-ref frame). Not a failure: skip it.
	ErrNoPicture = errors.New("vp8 frame produced no picture")
)
