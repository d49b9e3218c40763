package liveness

import (
	"testing"

	"vidid/engine"
)

// eyes returns 68 landmarks whose eyes are 30 px wide and open by 2·open
// px: an eye aspect ratio of open/15.
func eyes(open float32) []engine.Point {
	p := make([]engine.Point, 68)
	eye := func(off int, x0 float32) {
		p[off] = engine.Point{X: x0, Y: 100}
		p[off+3] = engine.Point{X: x0 + 30, Y: 100}
		p[off+1] = engine.Point{X: x0 + 10, Y: 100 - open}
		p[off+2] = engine.Point{X: x0 + 20, Y: 100 - open}
		p[off+5] = engine.Point{X: x0 + 10, Y: 100 + open}
		p[off+4] = engine.Point{X: x0 + 20, Y: 100 + open}
	}
	eye(36, 0)
	eye(42, 60)
	return p
}

func TestEyeAspectRatio(t *testing.T) {
	if e := EyeAspectRatio(eyes(5)); e < 0.3 || e > 0.36 {
		t.Fatalf("open EAR %v", e)
	}
	if e := EyeAspectRatio(eyes(1)); e > 0.1 {
		t.Fatalf("closed EAR %v", e)
	}
	if e := EyeAspectRatio(make([]engine.Point, 5)); e != 0 {
		t.Fatalf("EAR of 5 points %v, want 0", e)
	}
}
