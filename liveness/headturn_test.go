package liveness

import (
	"testing"

	"vidid/engine"
)

func TestHeadTurn(t *testing.T) {
	for _, tc := range []struct {
		name string
		left bool
		yaws []float64
		want int // index of the frame that answers; -1 = none
	}{
		{"left from frontal", true, []float64{0, 10, 20}, 2},
		{"right from frontal", false, []float64{2, -10, -15}, 2},
		{"exactly the bar", true, []float64{0, 15}, 1},
		{"wrong side", true, []float64{0, -20, -30}, -1},
		{"held turned from the start", true, []float64{20, 25, 30}, -1},
		{"held turned, then through frontal", false, []float64{-20, -20, 0, -18}, 3},
		{"not far enough", false, []float64{0, -10, -14.9}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &HeadTurn{Left: tc.left, Degrees: 15}
			got := -1
			for i, y := range tc.yaws {
				an := engine.Analysis{Main: &engine.Face{}, Quality: engine.Quality{Pose: engine.Pose{Yaw: y}}}
				if h.Answered(an) {
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
