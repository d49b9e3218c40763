package ocv

import (
	"errors"
	"math/rand"
	"testing"

	"gocv.io/x/gocv"

	"vidid/engine"
	"vidid/engine/ocv/ocvtest"
	"vidid/models"
)

// OpenCV's C++ exceptions must come back as errors, never abort the
// process. OpenNet verifies checksums first, so this calls the unverified
// reader directly.
func TestReadONNXCorruptReturnsError(t *testing.T) {
	ocvtest.Real(t)
	garbage := make([]byte, 4096)
	rand.New(rand.NewSource(5)).Read(garbage)
	real, err := models.ReadVerified(ocvtest.ModelRoot(t), ModelSubdir, "fr_detect.onnx")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"garbage", garbage},
		{"empty", nil},
		{"text", []byte("this is not an onnx model\n")},
		{"real model cut in half", real[:len(real)/2]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := readONNX(tc.data)
			if err == nil {
				n := &Net{p: p}
				n.Close()
				t.Fatal("readONNX accepted a corrupt file")
			}
			if !errors.Is(err, ErrOpenCV) {
				t.Fatalf("err = %v, want ErrOpenCV", err)
			}
		})
	}
}

func TestForwardErrors(t *testing.T) {
	root := ocvtest.ModelRoot(t)
	n, err := OpenNet(root, "fr_detect.onnx", "scores", "boxes")
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	outs := []gocv.Mat{gocv.NewMat(), gocv.NewMat()}
	defer CloseMats(&outs[0], &outs[1])
	wrong := NewBlob(1, 7, 9) // wrong channel count for the first convolution
	defer wrong.Close()
	if err := n.Forward(wrong, outs); !errors.Is(err, ErrOpenCV) {
		t.Fatalf("wrong input shape: err = %v, want ErrOpenCV", err)
	}
	good := NewBlob(3, 240, 320)
	defer good.Close()
	if err := n.Forward(good, outs[:1]); err == nil {
		t.Fatal("Forward accepted 1 destination for 2 outputs")
	}
	if err := n.Forward(good, outs); err != nil {
		t.Fatalf("Forward after an error: %v", err)
	}
	// Output names are checked at the first forward pass.
	bad, err := OpenNet(root, "fr_detect.onnx", "no-such-output")
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.Forward(good, outs[:1]); !errors.Is(err, ErrOpenCV) {
		t.Fatalf("unknown output name: err = %v, want ErrOpenCV", err)
	}
	if _, err := OpenNet(root, "not-catalogued.onnx", "x"); !errors.Is(err, engine.ErrModel) {
		t.Fatalf("uncatalogued model: %v", err)
	}
	n.Close()
	if err := n.Forward(good, outs); !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("Forward after Close: %v", err)
	}
}

func TestSetNumThreads(t *testing.T) {
	old := NumThreads()
	defer SetNumThreads(old)
	SetNumThreads(1)
	if got := NumThreads(); got != 1 {
		t.Fatalf("NumThreads = %d after SetNumThreads(1)", got)
	}
	SetNumThreads(0) // no change
	if got := NumThreads(); got != 1 {
		t.Fatalf("SetNumThreads(0) changed the count to %d", got)
	}
}
