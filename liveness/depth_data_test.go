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
			front, frontYaw = o.Landmarks, math.Abs(o.Pose.Yaw)
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
}
