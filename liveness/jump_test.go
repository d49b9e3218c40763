package liveness

import (
	"image"
	"testing"
)

// track is a face box per frame at 30 fps: box(i) for frame i, no face
// when it returns an empty box; faces overrides the face count.
func track(n int, box func(i int) image.Rectangle, fps float64) []Observation {
	out := make([]Observation, n)
	for i := range out {
		b := box(i)
		out[i] = Observation{Arrival: at(i, fps), Width: 640, Height: 480, Face: b}
		if !b.Empty() {
			out[i].Faces = 1
		}
	}
	return out
}

// face is a 200 px face box centred at (x, 240), h px tall.
func face(x, h int) image.Rectangle { return image.Rect(x-h/2, 240-h/2, x+h/2, 240+h/2) }

func TestJump(t *testing.T) {
	two := track(60, func(i int) image.Rectangle { return face(200+2*i, 200) }, 30)
	for i := 20; i < 25; i++ {
		two[i].Face, two[i].Faces = face(500, 150), 2 // another face is the largest for a moment
	}
	tests := []struct {
		name string
		obs  []Observation
		want want
	}{
		{"steady", track(60, func(i int) image.Rectangle { return face(320, 200) }, 30), live},
		// 1.5 face heights a second sideways, a quick but human move.
		{"quick sideways move", track(60, func(i int) image.Rectangle { return face(200+10*i, 200) }, 30), live},
		// The face grows 2x in 0.6 s: a fast approach.
		{"fast approach", track(60, func(i int) image.Rectangle { return face(320, 150+5*min(i, 30)) }, 30), live},
		{"splice: the face jumps once", track(60, func(i int) image.Rectangle { return face(200+200*b2i(i >= 30), 200) }, 30), halfScore},
		{"two splices", track(90, func(i int) image.Rectangle {
			return face(320, 200+100*b2i(i >= 30 && i < 60))
		}, 30), attack},
		{"a jump across a gap without a face", track(60, func(i int) image.Rectangle {
			switch {
			case i >= 30 && i < 40:
				return image.Rectangle{}
			case i >= 40:
				return face(500, 200)
			}
			return face(200, 200)
		}, 30), live},
		{"a second face is skipped", two, live},
		{"a slow stream's move between frames", track(30, func(i int) image.Rectangle { return face(200+40*i, 200) }, 5), live},
		{"too few frames", track(5, func(i int) image.Rectangle { return face(320, 200) }, 30), unsure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.check(t, feed(NewJump(JumpConfig{}), tc.obs), ReasonInjection)
		})
	}
}
