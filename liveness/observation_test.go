package liveness

import (
	"image"
	"testing"
	"time"

	"vidid/engine"
)

func TestNewObservation(t *testing.T) {
	// A 64x48 grey frame (level 100) with a red 16x16 square at (24, 16).
	f := engine.Frame{Width: 64, Height: 48, Pix: make([]byte, 64*48*3), Time: t0, RTPTimestamp: 9000, HasRTP: true}
	for i := range f.Pix {
		f.Pix[i] = 100
	}
	box := image.Rect(24, 16, 40, 32)
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			i := (y*64 + x) * 3
			f.Pix[i], f.Pix[i+1], f.Pix[i+2] = 0, 0, 200
		}
	}
	lm := make([]engine.Point, 68)
	an := engine.Analysis{Faces: []engine.Face{{Box: box, Landmarks: lm}, {Box: image.Rect(0, 0, 8, 8)}}}
	an.Main = &an.Faces[0]
	an.Quality.Pose.Yaw = 12
	o := NewObservation(f, an)
	if o.Arrival != t0 || o.RTPTimestamp != 9000 || !o.HasRTP || o.Width != 64 || o.Height != 48 {
		t.Errorf("time, RTP or size not copied: %+v", o)
	}
	if o.Face != box || o.Faces != 2 || !o.HasPose || o.Pose.Yaw != 12 || len(o.Landmarks) != 68 {
		t.Errorf("face %v (%d faces), pose %v %v, %d landmarks", o.Face, o.Faces, o.HasPose, o.Pose, len(o.Landmarks))
	}
	lm[0].X = 5
	if o.Landmarks[0].X != 0 {
		t.Error("the landmarks alias the analysis's")
	}
	if o.FaceColour != (RGB{200, 0, 0}) {
		t.Errorf("face colour %v, want pure red", o.FaceColour)
	}
	redY := luma(f, 30, 20) // the red square's luma
	if o.Thumb[0] != 100 || o.Thumb[6*ThumbSide+8] != redY || o.FaceThumb[0] != redY {
		t.Errorf("thumbnails: corner %d, centre %d, face %d; want 100, %d, %d", o.Thumb[0], o.Thumb[6*ThumbSide+8], o.FaceThumb[0], redY, redY)
	}
	if o.Grain[0] != 100 || o.Grain[10*GrainW+16] != redY {
		t.Errorf("grain: corner %d, centre %d", o.Grain[0], o.Grain[10*GrainW+16])
	}
	g := f
	g.Pix = append([]byte(nil), f.Pix...)
	if NewObservation(g, an).PixHash != o.PixHash {
		t.Error("equal frames hash differently")
	}
	g.Pix[(44*64+63)*3]++ // a hashed row (every fourth)
	if NewObservation(g, an).PixHash == o.PixHash {
		t.Error("a changed byte leaves the hash")
	}
	// No face: only the frame's own fields.
	o = NewObservation(f, engine.Analysis{})
	if !o.Face.Empty() || o.FaceColour != (RGB{}) || o.Landmarks != nil || o.HasPose {
		t.Errorf("faceless frame has face fields: %+v", o.Face)
	}
	// A bad frame: time and size only, no panic.
	o = NewObservation(engine.Frame{Width: 4, Height: 4, Time: t0.Add(time.Second)}, an)
	if o.PixHash != 0 || !o.Face.Empty() || o.Arrival != t0.Add(time.Second) {
		t.Errorf("bad frame observed as %+v", o)
	}
}

func TestSet(t *testing.T) {
	names := func(s *Set) []string {
		var out []string
		for _, r := range s.Results() {
			out = append(out, r.Name)
			if r.Measured || r.Score != 1 {
				t.Errorf("%s on no frames: measured %v, score %v", r.Name, r.Measured, r.Score)
			}
		}
		return out
	}
	s := NewSet(Config{}, nil)
	s.Observe(Observation{})
	if got := names(s); len(got) != 8 || got[0] != "loop" || got[7] != "approach" {
		t.Errorf("cues %v", got)
	}
	seq, err := RandomColours(t0, ColourPlan{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(NewSet(Config{}, seq)); len(got) != 9 || got[8] != "colour" {
		t.Errorf("cues with colours %v", got)
	}
}

func TestRamp(t *testing.T) {
	tests := []struct{ x, bad, good, want float64 }{
		{0.5, 0, 1, 0.5}, {-1, 0, 1, 0}, {2, 0, 1, 1},
		{0.2, 0.3, 0.1, 0.5}, {0.4, 0.3, 0.1, 0}, {0, 0.3, 0.1, 1},
	}
	for _, tc := range tests {
		if got := ramp(tc.x, tc.bad, tc.good); got < tc.want-1e-9 || got > tc.want+1e-9 {
			t.Errorf("ramp(%v, %v, %v) = %v, want %v", tc.x, tc.bad, tc.good, got, tc.want)
		}
	}
}
