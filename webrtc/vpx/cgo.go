// Package vpx decodes VP8 video with libvpx into packed BGR frames. It is
// the only cgo in the WebRTC path; everything above it is plain Go.
package vpx

/*
#cgo pkg-config: vpx
#cgo CFLAGS: -O3
#cgo LDFLAGS: -lpthread
#include <stdlib.h>
#include "vpx.h"
*/
import "C"

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"vidid/engine"
)

// live counts decoders not yet closed (see Live).
var live atomic.Int64

// Live returns the number of decoders created and not yet closed in this
// process: tests assert it returns to zero (no leaked C memory).
func Live() int { return int(live.Load()) }

// Decoder is a VP8 decoder producing packed BGR frames. A mutex makes Close
// safe against a concurrent Decode; decoding itself is sequential.
type Decoder struct {
	mu   sync.Mutex
	d    *C.vidid_vp8
	buf  []byte // Decode's reusable output buffer
	w, h C.int  // out-parameters of the C decode (fields: no allocation)
}

// NewDecoder returns a decoder; Close frees it.
func NewDecoder() (*Decoder, error) {
	var msg [256]C.char
	d := C.vidid_vp8_new(&msg[0], C.size_t(len(msg)))
	if d == nil {
		return nil, fmt.Errorf("new vp8 decoder: %s", C.GoString(&msg[0]))
	}
	live.Add(1)
	return &Decoder{d: d}, nil
}

// Decode decodes one complete VP8 frame (as reassembled from RTP) into the
// decoder's reusable buffer: the returned frame's Pix is valid until the
// next Decode or Close; copy it to keep it. A corrupt frame returns an error
// wrapping ErrCorrupt, a frame without a picture ErrNoPicture; the decoder
// stays usable either way.
func (d *Decoder) Decode(frame []byte) (engine.Frame, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := d.decode(d.buf, frame)
	if err == nil {
		d.buf = f.Pix
	}
	return f, err
}

// DecodeInto is Decode with the output written into dst when its capacity
// suffices (a new buffer is allocated otherwise). The caller owns the
// returned Pix; pass it back later to reuse it.
func (d *Decoder) DecodeInto(dst []byte, frame []byte) (engine.Frame, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.decode(dst, frame)
}

func (d *Decoder) decode(dst, frame []byte) (engine.Frame, error) {
	if d.d == nil {
		return engine.Frame{}, ErrClosed
	}
	if len(frame) == 0 {
		return engine.Frame{}, fmt.Errorf("%w: empty frame", ErrCorrupt)
	}
	// The C side copies frame before libvpx sees it: no Go pointer is kept.
	r := C.vidid_vp8_decode(d.d, (*C.uint8_t)(unsafe.Pointer(&frame[0])), C.size_t(len(frame)), &d.w, &d.h)
	switch r {
	case 1:
	case 0:
		return engine.Frame{}, ErrNoPicture
	default:
		return engine.Frame{}, fmt.Errorf("%w: %s", ErrCorrupt, C.GoString(C.vidid_vp8_error(d.d)))
	}
	w, h := int(d.w), int(d.h)
	n := w * h * 3
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	if C.vidid_vp8_bgr(d.d, (*C.uint8_t)(unsafe.Pointer(&dst[0])), C.size_t(n)) != 0 {
		return engine.Frame{}, fmt.Errorf("%w: convert picture to BGR", ErrCorrupt)
	}
	return engine.Frame{Width: w, Height: h, Pix: dst}, nil
}

// setSIMD turns the SSSE3 I420→BGR conversion on or off (tests compare it
// with the portable one) and returns the previous setting.
func setSIMD(on bool) bool {
	v := 0
	if on {
		v = 1
	}
	return C.vidid_vp8_simd(C.int(v)) != 0
}

// Close frees the decoder. It is idempotent.
func (d *Decoder) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.d != nil {
		C.vidid_vp8_free(d.d)
		d.d = nil
		d.buf = nil
		live.Add(-1)
	}
	return nil
}
