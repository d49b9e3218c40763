package liveness

import (
	"testing"

	"vidid/engine"
)

func TestBlink(t *testing.T) {
	const open, closed = 5, 1 // EAR 0.33 and 0.07
	for _, tc := range []struct {
		name string
		seen []float32 // eye openness frame by frame
		want int       // index of the frame that answers; -1 = none
	}{
		{"open, closed, open", []float32{open, closed, open}, 2},
		{"closed first", []float32{closed, closed, open}, 2},
		{"never closed", []float32{open, open, open}, -1},
		{"never reopened", []float32{open, closed, closed}, -1},
		{"half open does not count", []float32{closed, 3.1, 3.2}, -1}, // EAR 0.21: between the bars
		{"no landmarks", []float32{0, 0, 0}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &Blink{}
			got := -1
			for i, o := range tc.seen {
				face := engine.Face{}
				if o > 0 {
					face.Landmarks = eyes(o)
				}
				if b.Answered(engine.Analysis{Main: &face}) {
					got = i
					break
				}
			}
			if got != tc.want {
				t.Errorf("answered at frame %d, want %d", got, tc.want)
			}
		})
	}
}
