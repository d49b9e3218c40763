package ocv_test

import (
	"context"
	"errors"
	"image"
	"path/filepath"
	"testing"

	"vidid/engine"
	"vidid/engine/ocv"
	"vidid/engine/ocv/ocvtest"
)

func newLandmarker(tb testing.TB) *ocv.Landmarker {
	tb.Helper()
	l, err := ocv.NewLandmarker(ocv.LandmarkerConfig{ModelRoot: ocvtest.ModelRoot(tb)})
	if err != nil {
		tb.Fatalf("NewLandmarker: %v", err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

func meanPt(pts []engine.Point, idx ...int) engine.Point {
	var p engine.Point
	for _, i := range idx {
		p.X += pts[i].X
		p.Y += pts[i].Y
	}
	p.X /= float32(len(idx))
	p.Y /= float32(len(idx))
	return p
}

// On real one-person photos the 68 points must lie on the face: inside the
// crop the model saw (with a margin for a chin running past the box), eyes
// above the nose above the mouth, the image-left eye left of the other.
func TestLandmarksOnRealFaces(t *testing.T) {
	data := ocvtest.DataDir(t)
	d := newDetector(t, ocv.DetectorConfig{})
	l := newLandmarker(t)
	ctx := context.Background()
	for _, p := range singlePersonPhotos(t, data) {
		rel, _ := filepath.Rel(data, p)
		t.Run(rel, func(t *testing.T) {
			f := ocvtest.Load(t, p)
			faces, err := d.Detect(ctx, f)
			if err != nil || len(faces) == 0 {
				t.Fatalf("Detect: %d faces, %v", len(faces), err)
			}
			pts, err := l.Landmarks(ctx, f, faces[0])
			if err != nil {
				t.Fatalf("Landmarks: %v", err)
			}
			if len(pts) != 68 {
				t.Fatalf("%d points", len(pts))
			}
			crop := ocv.LandmarkCrop(faces[0], f.Width, f.Height)
			m := crop.Dy() / 10
			outer := image.Rect(crop.Min.X-m, crop.Min.Y-m, crop.Max.X+m, crop.Max.Y+m)
			for i, q := range pts {
				if !image.Pt(int(q.X), int(q.Y)).In(outer) {
					t.Errorf("point %d at (%.0f,%.0f) outside crop %v (+10%%)", i, q.X, q.Y, crop)
				}
			}
			le, re := meanPt(pts, 36, 37, 38, 39, 40, 41), meanPt(pts, 42, 43, 44, 45, 46, 47)
			nose, mouth := pts[30], meanPt(pts, 48, 54, 60, 64)
			if !(le.Y < nose.Y && re.Y < nose.Y && nose.Y < mouth.Y) {
				t.Errorf("vertical order wrong: eyes y %.0f/%.0f, nose %.0f, mouth %.0f", le.Y, re.Y, nose.Y, mouth.Y)
			}
			if !(le.X < re.X) {
				t.Errorf("image-left eye x %.0f not left of the other %.0f", le.X, re.X)
			}
			if !(pts[8].Y > mouth.Y) {
				t.Errorf("chin y %.0f not below mouth %.0f", pts[8].Y, mouth.Y)
			}
		})
	}
}

func TestLandmarksBadInput(t *testing.T) {
	l := newLandmarker(t)
	f := engine.Frame{Width: 64, Height: 48, Pix: make([]byte, 64*48*3)}
	for _, tc := range []struct {
		name string
		f    engine.Frame
		face engine.Face
		want error
	}{
		{"bad frame", engine.Frame{Width: 3, Height: 3}, engine.Face{Box: image.Rect(0, 0, 2, 2)}, engine.ErrBadFrame},
		{"box outside frame", f, engine.Face{Box: image.Rect(100, 100, 200, 200)}, ocv.ErrBadFace},
		{"empty box", f, engine.Face{}, ocv.ErrBadFace},
		{"tiny box", f, engine.Face{Box: image.Rect(10, 10, 13, 13)}, ocv.ErrBadFace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := l.Landmarks(context.Background(), tc.f, tc.face); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// A box half outside the frame is clamped, not refused.
	if pts, err := l.Landmarks(context.Background(), f, engine.Face{Box: image.Rect(40, 20, 90, 70)}); err != nil || len(pts) != 68 {
		t.Fatalf("partly outside: %d points, %v", len(pts), err)
	}
	l.Close()
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := l.Landmarks(context.Background(), f, engine.Face{Box: image.Rect(0, 0, 40, 40)}); !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
