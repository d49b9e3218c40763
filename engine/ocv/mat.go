package ocv

import (
	"fmt"
	"image"

	"gocv.io/x/gocv"

	"vidid/engine"
)

// FrameMat wraps the frame's BGR bytes as a CV_8UC3 Mat without copying.
// The Mat must be closed (it owns a small C header) and must not outlive
// f.Pix. It is exported for liveness/ocv.
func FrameMat(f engine.Frame) (gocv.Mat, error) {
	if err := f.Validate(); err != nil {
		return gocv.Mat{}, err
	}
	m, err := gocv.NewMatFromBytes(f.Height, f.Width, gocv.MatTypeCV8UC3, f.Pix)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("wrap frame: %w: %v", engine.ErrBadFrame, err)
	}
	if m.Empty() {
		m.Close()
		return gocv.Mat{}, fmt.Errorf("wrap frame: %w: OpenCV returned an empty Mat", engine.ErrBadFrame)
	}
	return m, nil
}

// CropResize cuts r out of src and resizes it (bilinear) into dst at size
// (dst is reused when it already has that size). r must lie inside src and
// be non-empty.
func CropResize(src gocv.Mat, r image.Rectangle, size image.Point, dst *gocv.Mat) error {
	if r.Empty() || !r.In(image.Rect(0, 0, src.Cols(), src.Rows())) {
		return fmt.Errorf("crop %v of a %dx%d frame: %w", r, src.Cols(), src.Rows(), ErrBadFace)
	}
	roi := src.Region(r)
	defer roi.Close()
	gocv.Resize(roi, dst, size, 0, 0, gocv.InterpolationLinear)
	if dst.Empty() || dst.Cols() != size.X || dst.Rows() != size.Y {
		return fmt.Errorf("resize crop: %w: empty result", ErrOpenCV)
	}
	return nil
}

// NewBlob allocates a 1 x c x h x w float32 Mat (NCHW) for network input.
func NewBlob(c, h, w int) gocv.Mat {
	return gocv.NewMatWithSizes([]int{1, c, h, w}, gocv.MatTypeCV32F)
}

// Norm says how 8-bit pixels become network input: value =
// (pixel - Mean[c]) * Scale[c] for output channel c; RGB selects R,G,B
// channel order instead of the frame's B,G,R.
type Norm struct {
	Mean, Scale [3]float32
	RGB         bool
}

// FillBlob writes the 8-bit image img (CV_8UC3 BGR, or CV_8UC1) into blob
// (1 x channels x h x w float32, same h and w) using n. For a one-channel
// image only Mean[0] and Scale[0] are used.
func FillBlob(img gocv.Mat, blob *gocv.Mat, n Norm) error {
	px, err := img.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("fill blob: %w: %v", ErrOpenCV, err)
	}
	dst, err := blob.DataPtrFloat32()
	if err != nil {
		return fmt.Errorf("fill blob: %w: %v", ErrOpenCV, err)
	}
	hw := img.Rows() * img.Cols()
	ch := img.Channels()
	if len(px) != hw*ch || len(dst) != hw*ch || (ch != 1 && ch != 3) {
		return fmt.Errorf("fill blob: %w: image %dx%dx%d, blob of %d values", ErrOpenCV, img.Cols(), img.Rows(), ch, len(dst))
	}
	if ch == 1 {
		m, s := n.Mean[0], n.Scale[0]
		for i, v := range px {
			dst[i] = (float32(v) - m) * s
		}
		return nil
	}
	// Output channel c reads source byte order[c] (source is B,G,R).
	order := [3]int{0, 1, 2}
	if n.RGB {
		order = [3]int{2, 1, 0}
	}
	for c := 0; c < 3; c++ {
		out := dst[c*hw : (c+1)*hw]
		src, m, s := order[c], n.Mean[c], n.Scale[c]
		for i := range out {
			out[i] = (float32(px[i*3+src]) - m) * s
		}
	}
	return nil
}

// floats returns the float32 data of an output Mat and checks its length.
func floats(m *gocv.Mat, want int, what string) ([]float32, error) {
	v, err := m.DataPtrFloat32()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", what, ErrOpenCV, err)
	}
	if len(v) != want {
		return nil, fmt.Errorf("%s: %w: %d values, want %d", what, ErrOpenCV, len(v), want)
	}
	return v, nil
}

// Floats is floats for liveness/ocv.
func Floats(m *gocv.Mat, want int, what string) ([]float32, error) { return floats(m, want, what) }

// CloseMats closes every Mat that is open; nil and closed ones are skipped.
// It is exported for liveness/ocv, whose stages own Mats too.
func CloseMats(ms ...*gocv.Mat) {
	for _, m := range ms {
		if m != nil && m.Ptr() != nil {
			m.Close()
		}
	}
}
