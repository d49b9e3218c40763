package liveness

import (
	"math"
	"math/rand/v2"
	"testing"

	"vidid/engine"
	"vidid/engine/assemble"
	"vidid/internal/testenv"
)

// TestDepthOnClip runs the face pipeline over the bona fide s01 recording,
// which turns its head both ways: its landmarks show a solid head (depth
// cue live), and its face does not jump. The most frontal landmarks of the
// clip, pressed onto a plane and turned like a held-up photo, read flat.
func TestDepthOnClip(t *testing.T) {
	e, err := assemble.Open(assemble.Config{ModelRoot: testenv.ModelRoot(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := decodeClip(t, "bonafide/s01-apfol-real2.webm", 640, 3)
	depth, jump, appr := NewDepth(DepthConfig{}), NewJump(JumpConfig{}), NewApproach(ApproachConfig{})
	var front []engine.Point
	var frontFrame engine.Frame
	frontYaw := math.Inf(1)
	for k, f := range c.frames {
		f.Time = at(k, c.fps)
		an, err := e.Analyze(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		o := NewObservation(f, an)
		for _, cue := range []Cue{depth, jump, appr} {
			cue.Observe(o)
		}
		if o.HasPose && math.Abs(o.Pose.Yaw) < frontYaw {
			front, frontYaw, frontFrame = o.Landmarks, math.Abs(o.Pose.Yaw), f
		}
	}
	r := depth.Result()
	t.Logf("real head: %v; jump %v; approach %v", r.Detail, jump.Result().Detail, appr.Result().Detail)
	want{true, 0.5, 1}.check(t, r, ReasonLivenessFailed)
	live.check(t, jump.Result(), ReasonInjection)
	if front == nil {
		t.Fatal("no frontal face in the clip")
	}
	// The frontal landmarks as a photo: on the plane z = 0 at 50 cm, then
	// turned as sweep turns a head.
	var flat [68][3]float64
	for i, p := range front {
		flat[i] = [3]float64{(float64(p.X) - 320) * 50 / 600, (float64(p.Y) - 240) * 50 / 600, 0}
	}
	r = feed(NewDepth(DepthConfig{}), sweep(flat, 25, 50, rand.New(rand.NewPCG(1, 1))))
	t.Logf("the same landmarks as a turned photo: %v", r.Detail)
	attack.check(t, r, ReasonLivenessFailed)

	// The frontal frame itself printed and turned: rendered as a plane
	// turned by yaw, located by the real landmark model (which may see
	// depth where there is none), with the pose set to the true turn as a
	// pose model would read it.
	flatCue := NewDepth(DepthConfig{})
	for _, yaw := range []float64{0, 10, 20, 30, 0, -10, -20, -30} {
		g := turnPlane(frontFrame, yaw, 50)
		an, err := e.Analyze(t.Context(), g)
		if err != nil || an.Main == nil {
			t.Fatalf("photo turned %v°: no face (%v)", yaw, err)
		}
		o := NewObservation(g, an)
		t.Logf("photo turned %v°: landmark yaw %.1f°", yaw, o.Pose.Yaw)
		o.Pose.Yaw = yaw
		flatCue.Observe(o)
	}
	r = flatCue.Result()
	t.Logf("the frontal frame as a turned photo, real landmarks: %v", r.Detail)
	want{true, 0, 0.2}.check(t, r, ReasonLivenessFailed)
}

// turnPlane renders f as a photo on a plane at distance cm from a camera
// with a 600 px focal length, turned by yaw degrees about its vertical
// centre line (nearest pixel; outside the photo is grey).
func turnPlane(f engine.Frame, yaw, distance float64) engine.Frame {
	const focal = 600
	s, c := math.Sincos(yaw * math.Pi / 180)
	g := engine.Frame{Width: f.Width, Height: f.Height, Pix: make([]byte, len(f.Pix))}
	cx, cy := float64(f.Width)/2, float64(f.Height)/2
	for v := 0; v < f.Height; v++ {
		for u := 0; u < f.Width; u++ {
			a := (float64(u) - cx) / focal
			x := a * distance / (c - a*s) // on the plane, in cm
			d := distance + x*s
			y := (float64(v) - cy) / focal * d
			sx, sy := int(cx+x*focal/distance), int(cy+y*focal/distance)
			i := (v*f.Width + u) * 3
			if sx < 0 || sy < 0 || sx >= f.Width || sy >= f.Height || d <= 0 {
				g.Pix[i], g.Pix[i+1], g.Pix[i+2] = 128, 128, 128
				continue
			}
			copy(g.Pix[i:i+3], f.Pix[(sy*f.Width+sx)*3:])
		}
	}
	return g
}
