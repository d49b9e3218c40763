// Package vpx decodes VP8 video with libvpx. It is the only cgo in the
// WebRTC path; everything above it is plain Go.
package vpx

/*
#cgo pkg-config: vpx
#cgo CFLAGS: -O2
#include <stdlib.h>
#include "vpx.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"vidid/engine"
)

// Errors.
var (
	// ErrCorrupt: libvpx could not decode the frame.
	ErrCorrupt = errors.New("corrupt vp8 frame")
	// ErrClosed: the decoder was used after Close.
	ErrClosed = errors.New("vp8 decoder closed")
	// ErrNoPicture: the frame decoded but produced no picture.
	ErrNoPicture = errors.New("vp8 frame produced no picture")
)

// Decoder is a VP8 decoder producing packed BGR frames. It is safe for use
// by one goroutine at a time (a mutex guards Close against Decode).
type Decoder struct {
	mu  sync.Mutex
	d   *C.vidid_vp8
	buf *C.uint8_t
	cap C.size_t
}

// NewDecoder returns a decoder; Close frees it.
func NewDecoder() (*Decoder, error) {
	var msg [256]C.char
	d := C.vidid_vp8_new(&msg[0], C.size_t(len(msg)))
	if d == nil {
		return nil, fmt.Errorf("new vp8 decoder: %s", C.GoString(&msg[0]))
	}
	return &Decoder{d: d}, nil
}

// Decode decodes one complete VP8 frame (as reassembled from RTP) into a
// new engine.Frame. A corrupt frame returns an error wrapping ErrCorrupt;
// the decoder stays usable (ask the sender for a keyframe).
func (d *Decoder) Decode(frame []byte) (engine.Frame, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.d == nil {
		return engine.Frame{}, ErrClosed
	}
	if len(frame) == 0 {
		return engine.Frame{}, fmt.Errorf("%w: empty frame", ErrCorrupt)
	}
	var msg [256]C.char
	var w, h C.int
	cdata := C.CBytes(frame)
	defer C.free(cdata)
	r := C.vidid_vp8_decode(d.d, (*C.uint8_t)(cdata), C.size_t(len(frame)), &d.buf, &d.cap, &w, &h, &msg[0], C.size_t(len(msg)))
	switch r {
	case 1:
		n := int(w) * int(h) * 3
		pix := C.GoBytes(unsafe.Pointer(d.buf), C.int(n))
		return engine.Frame{Width: int(w), Height: int(h), Pix: pix}, nil
	case 0:
		return engine.Frame{}, ErrNoPicture
	default:
		return engine.Frame{}, fmt.Errorf("%w: %s", ErrCorrupt, C.GoString(&msg[0]))
	}
}

// Close frees the decoder. It is idempotent.
func (d *Decoder) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.d != nil {
		C.vidid_vp8_free(d.d)
		d.d = nil
	}
	if d.buf != nil {
		C.free(unsafe.Pointer(d.buf))
		d.buf = nil
		d.cap = 0
	}
	return nil
}
