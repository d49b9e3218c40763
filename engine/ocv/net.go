package ocv

/*
#include <stdlib.h>
#include "dnn.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	"gocv.io/x/gocv"

	"vidid/engine"
	"vidid/models"
)

// ModelSubdir is the folder under the model root that holds the Faceplugin
// ONNX files.
const ModelSubdir = "faceplugin"

// Net is one OpenCV DNN network read from a verified ONNX file, with C++
// exceptions turned into Go errors. It is the runtime shared by the stages
// in this package and in liveness/ocv.
//
// A Net is not safe for concurrent use: OpenCV's cv::dnn::Net is not
// thread-safe, so every stage that owns one serialises its calls with a
// mutex.
type Net struct {
	p       C.VididNet
	name    string
	sha256  string
	outs    []*C.char        // output names, C strings owned by the Net
	dstPtrs []unsafe.Pointer // scratch: the cv::Mat* of Forward's dst
}

// OpenNet verifies modelRoot/faceplugin/name against the model catalogue
// (size + sha256, see package models) and only then hands it to OpenCV, whose
// ONNX reader aborts the process on some corrupt files. The bytes OpenCV
// parses are the bytes that were verified (it reads from memory, not from
// the path again). outputs names the network outputs Forward returns, in
// that order. A missing, truncated or altered file gives an error wrapping
// both models.ErrModel and engine.ErrModel.
func OpenNet(modelRoot, name string, outputs ...string) (*Net, error) {
	return OpenNetIn(modelRoot, ModelSubdir, name, outputs...)
}

// OpenNetIn is OpenNet for a model in another folder of the catalogue
// (subdir, e.g. "minifasnet"): the same verification before OpenCV reads it.
func OpenNetIn(modelRoot, subdir, name string, outputs ...string) (*Net, error) {
	if len(outputs) == 0 {
		return nil, fmt.Errorf("open %s: no outputs named", name)
	}
	return openNet(modelRoot, subdir, name, func(b []byte) ([]byte, []string, error) { return b, outputs, nil })
}

// OpenNetPart is OpenNet for the part of a network that computes the
// outputs of the nodes named in keep (ONNX node names): the verified file is
// trimmed in memory to those nodes and everything they depend on, and
// Forward returns their outputs in the order of keep. The file on disk is
// not changed.
//
// The face detector uses it to drop a tail that bakes in one input size, so
// that its convolutional part runs at any size.
func OpenNetPart(modelRoot, name string, keep ...string) (*Net, error) {
	if len(keep) == 0 {
		return nil, fmt.Errorf("open %s: no nodes named", name)
	}
	return openNet(modelRoot, ModelSubdir, name, func(b []byte) ([]byte, []string, error) { return trimONNX(b, keep) })
}

// openNet reads and verifies the model, lets prepare turn the verified
// bytes into the model to load and its output names, and loads it.
func openNet(modelRoot, subdir, name string, prepare func([]byte) ([]byte, []string, error)) (*Net, error) {
	b, err := models.ReadVerified(modelRoot, subdir, name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w: %w", name, engine.ErrModel, err)
	}
	f, err := models.Lookup(subdir, name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w: %w", name, engine.ErrModel, err)
	}
	model, outputs, err := prepare(b)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w: %w", name, engine.ErrModel, err)
	}
	p, err := readONNX(model)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w: %w: %v", name, engine.ErrModel, models.ErrModel, err)
	}
	n := &Net{p: p, name: name, sha256: f.SHA256, dstPtrs: make([]unsafe.Pointer, len(outputs))}
	for _, o := range outputs {
		n.outs = append(n.outs, C.CString(o))
	}
	return n, nil
}

// readONNX loads an ONNX model from memory without any verification.
// Unexported: callers go through OpenNet or OpenNetPart.
func readONNX(model []byte) (C.VididNet, error) {
	if len(model) == 0 {
		return nil, fmt.Errorf("%w: empty model", ErrOpenCV)
	}
	var cerr *C.char
	p := C.vidid_net_read_onnx_buffer((*C.char)(unsafe.Pointer(&model[0])), C.size_t(len(model)), &cerr)
	if p == nil {
		return nil, fmt.Errorf("%w: %s", ErrOpenCV, takeError(cerr))
	}
	return p, nil
}

func takeError(cerr *C.char) string {
	if cerr == nil {
		return "unknown error"
	}
	defer C.free(unsafe.Pointer(cerr))
	return C.GoString(cerr)
}

// Name is the model file name, e.g. "fr_detect.onnx".
func (n *Net) Name() string { return n.name }

// SHA256 is the catalogued (and verified) sha256 of the model file, in hex.
func (n *Net) SHA256() string { return n.sha256 }

// Forward runs the network on the blob in (an NCHW float32 Mat) and copies
// the outputs named at OpenNet into dst, which must hold that many Mats. The
// dst Mats are reused across calls: their memory is reallocated only when an
// output's shape changes.
func (n *Net) Forward(in gocv.Mat, dst []gocv.Mat) error {
	if n == nil || n.p == nil {
		return engine.ErrClosed
	}
	if in.Empty() {
		return fmt.Errorf("forward %s: empty input blob", n.name)
	}
	if len(dst) != len(n.outs) {
		return fmt.Errorf("forward %s: %d destination Mats for %d outputs", n.name, len(dst), len(n.outs))
	}
	// Both arrays live in Go memory but hold only C pointers, which cgo
	// allows passing to C.
	for i := range dst {
		if dst[i].Ptr() == nil {
			return fmt.Errorf("forward %s: destination Mat %d is closed", n.name, i)
		}
		n.dstPtrs[i] = unsafe.Pointer(dst[i].Ptr())
	}
	var cerr *C.char
	if C.vidid_net_forward(n.p, unsafe.Pointer(in.Ptr()), &n.outs[0], C.int(len(dst)), &n.dstPtrs[0], &cerr) != 0 {
		return fmt.Errorf("forward %s: %w: %s", n.name, ErrOpenCV, takeError(cerr))
	}
	for i := range dst {
		if dst[i].Empty() {
			return fmt.Errorf("forward %s: %w: output %d is empty", n.name, ErrOpenCV, i)
		}
	}
	return nil
}

// Close frees the network. It is idempotent.
func (n *Net) Close() error {
	if n == nil || n.p == nil {
		return nil
	}
	C.vidid_net_close(n.p)
	n.p = nil
	for _, s := range n.outs {
		C.free(unsafe.Pointer(s))
	}
	n.outs = nil
	return nil
}

// SetNumThreads sets the number of threads OpenCV uses for its parallel
// loops (cv::setNumThreads). The setting is process-wide, not per network:
// gocv v0.31 does not wrap it, so this package does. n <= 0 leaves OpenCV's
// setting unchanged (by default OpenCV uses every logical CPU).
func SetNumThreads(n int) {
	if n > 0 {
		C.vidid_set_num_threads(C.int(n))
	}
}

// NumThreads returns OpenCV's current thread count (cv::getNumThreads).
func NumThreads() int { return int(C.vidid_get_num_threads()) }
