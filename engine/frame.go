// Package engine is vidid's face pipeline: detection, landmarks, quality,
// alignment, embedding and the comparison that turns two faces into a score
// and a decision. It is plain Go: the model runtimes (OpenCV DNN, dlib) live
// behind the small interfaces declared here, in engine/ocv and engine/dlib.
package engine

import (
	"fmt"
	"image"
	"time"
)

// Frame is one decoded video frame or still image in packed 8-bit BGR order
// (the layout OpenCV uses), row-major with no padding: len(Pix) == W*H*3.
type Frame struct {
	Width, Height int
	Pix           []byte
	// Seq is the frame's position in its stream (0 for stills).
	Seq uint64
	// Time is when the frame was captured or received (zero for stills).
	Time time.Time
	// RTPTimestamp is the frame's RTP timestamp (90 kHz for video) when
	// HasRTP is set: the sender's capture clock, which the liveness timing
	// cue compares with Time. Frames not from RTP leave both zero.
	RTPTimestamp uint32
	HasRTP       bool
}

// Validate reports whether the frame's dimensions and buffer agree.
func (f Frame) Validate() error {
	if f.Width <= 0 || f.Height <= 0 {
		return fmt.Errorf("%w: %dx%d", ErrBadFrame, f.Width, f.Height)
	}
	if len(f.Pix) != f.Width*f.Height*3 {
		return fmt.Errorf("%w: %dx%d frame has %d bytes, want %d", ErrBadFrame, f.Width, f.Height, len(f.Pix), f.Width*f.Height*3)
	}
	return nil
}

// Bounds returns the frame rectangle.
func (f Frame) Bounds() image.Rectangle { return image.Rect(0, 0, f.Width, f.Height) }

// At returns the B, G, R bytes of pixel (x, y). It does not check bounds.
func (f Frame) At(x, y int) (b, g, r uint8) {
	i := (y*f.Width + x) * 3
	return f.Pix[i], f.Pix[i+1], f.Pix[i+2]
}

// Point is a 2-D point in frame pixel coordinates.
type Point struct{ X, Y float32 }

// Face is one detected face.
type Face struct {
	// Box is the detector's box, clamped to the frame.
	Box image.Rectangle
	// Score is the detector's confidence in [0,1].
	Score float32
	// Landmarks holds the 68 iBUG 300-W points in frame coordinates once a
	// Landmarker has run; nil before.
	Landmarks []Point
}
