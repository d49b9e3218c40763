package dlib

import (
	"context"
	"errors"
	"image"
	"path/filepath"
	"testing"

	"vidid/engine"
)

func TestDetectFaceAndLandmarks(t *testing.T) {
	ctx := context.Background()
	f := faceFrame(t)
	faces, err := sharedDetector(t, 1).Detect(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(faces) != 1 {
		t.Fatalf("%d faces, want 1", len(faces))
	}
	fc := faces[0]
	if !fc.Box.In(f.Bounds()) || fc.Box.Dx() < 80 {
		t.Fatalf("box %v: want inside %v and at least 80 px (HOG's window)", fc.Box, f.Bounds())
	}
	if len(fc.Landmarks) != 68 {
		t.Fatalf("%d landmarks, want 68", len(fc.Landmarks))
	}
	// iBUG 300-W order: 36-47 eyes, 30 nose tip, 48-67 mouth, 8 chin.
	mean := func(from, to int) engine.Point {
		var p engine.Point
		for _, q := range fc.Landmarks[from : to+1] {
			p.X += q.X
			p.Y += q.Y
		}
		n := float32(to - from + 1)
		return engine.Point{X: p.X / n, Y: p.Y / n}
	}
	rightEye, leftEye, nose, mouth, chin := mean(36, 41), mean(42, 47), fc.Landmarks[30], mean(48, 67), fc.Landmarks[8]
	if !(rightEye.X < leftEye.X && (rightEye.Y+leftEye.Y)/2 < nose.Y && nose.Y < mouth.Y && mouth.Y < chin.Y) {
		t.Fatalf("landmarks out of anatomical order: eyes %v %v nose %v mouth %v chin %v", rightEye, leftEye, nose, mouth, chin)
	}
	grown := image.Rect(fc.Box.Min.X-fc.Box.Dx()/4, fc.Box.Min.Y-fc.Box.Dy()/4, fc.Box.Max.X+fc.Box.Dx()/4, fc.Box.Max.Y+fc.Box.Dy()/4)
	for i, p := range fc.Landmarks {
		if !image.Pt(int(p.X), int(p.Y)).In(grown) {
			t.Fatalf("landmark %d at %v is far outside the box %v", i, p, fc.Box)
		}
	}
}

// Upscaling must map boxes back to frame coordinates.
func TestDetectUpscaleKeepsCoordinates(t *testing.T) {
	ctx := context.Background()
	f := faceFrame(t)
	one := oneFace(t, f)
	faces, err := sharedDetector(t, 2).Detect(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(faces) == 0 {
		t.Fatal("no face at 2x")
	}
	if v := iou(faces[0].Box, one.Box); v < 0.6 {
		t.Fatalf("2x box %v vs 1x box %v: IoU %.2f", faces[0].Box, one.Box, v)
	}
}

// LFW images are 150x150 with ~60 px faces: HOG at 1x misses many, the 2x
// upscale is what finds them.
func TestDetectSmallFacesNeedUpscale(t *testing.T) {
	ctx := context.Background()
	data := dataDir(t)
	names := []string{"lfw-Aaron_Peirsol/1.jpg", "lfw-Aaron_Peirsol/2.jpg", "lfw-Aaron_Sorkin/1.jpg", "lfw-Adam_Sandler/1.jpg", "lfw-Abdel_Nasser_Assidi/1.jpg"}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			f := loadFrame(t, filepath.Join(data, "faces", n))
			fc, ok := centralFace(ctx, t, sharedDetector(t, 2), f)
			if !ok {
				t.Fatal("no face at 2x")
			}
			if fc.Box.Dx() >= 80 || fc.Box.Dx() < 30 {
				t.Fatalf("face box %v: want a small face (30..80 px)", fc.Box)
			}
		})
	}
}

func TestDetectNoFace(t *testing.T) {
	ctx := context.Background()
	det := sharedDetector(t, 1)
	for _, tc := range []struct {
		name string
		f    engine.Frame
	}{
		{"uniform grey", solidFrame(640, 480, 128, 128, 128)},
		{"black, tiny", solidFrame(8, 8, 0, 0, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			faces, err := det.Detect(ctx, tc.f)
			if err != nil || len(faces) != 0 {
				t.Fatalf("Detect = %d faces, %v; want none and no error", len(faces), err)
			}
		})
	}
}

func TestDetectBadFrame(t *testing.T) {
	det := sharedDetector(t, 1)
	for _, f := range []engine.Frame{{}, {Width: 10, Height: 10, Pix: make([]byte, 5)}} {
		if _, err := det.Detect(context.Background(), f); !errors.Is(err, engine.ErrBadFrame) {
			t.Fatalf("err = %v, want ErrBadFrame", err)
		}
	}
}
