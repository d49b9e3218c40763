package liveness

import (
	"math/rand/v2"
	"testing"
)

func TestFrozen(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	// frames renders n frames at 30 fps from frame index first; noisy
	// says whether each has fresh sensor noise, move whether the face moves.
	frames := func(n, first int, noisy, move bool) []Observation {
		out := make([]Observation, n)
		still := scene(64, 48, 32, 24, 12, 3, rng)
		for i := range out {
			f, cx := still, 32.0
			if move {
				cx += float64((first+i)%7) / 2
			}
			if noisy || move {
				f = scene(64, 48, cx, 24, 12, 3*b2i(noisy), rng)
			}
			out[i] = observe(f, at(first+i, 30), disc(cx, 24, 12))
		}
		return out
	}
	// flicker is a still picture in which a few pixels change (a virtual
	// camera's encoder touching up a block now and then).
	flicker := frames(90, 60, false, false)
	for i := range flicker {
		flicker[i].PixHash += uint64(i)
		flicker[i].Grain[i%len(flicker[i].Grain)] ^= 1
	}
	tests := []struct {
		name string
		obs  []Observation
		want want
	}{
		{"live, moving", frames(90, 0, true, true), live},
		{"live, still with sensor noise", frames(90, 0, true, false), live},
		{"live with a 0.3 s freeze", cat(frames(45, 0, true, true), frames(9, 45, false, false), frames(45, 54, true, true)), live},
		{"still picture, byte-identical", cat(frames(60, 0, true, true), frames(90, 60, false, false)), attack},
		{"still picture, a few pixels flicker", cat(frames(60, 0, true, true), flicker), attack},
		{"1 s freeze", cat(frames(45, 0, true, true), frames(31, 45, false, false), frames(45, 76, true, true)), halfScore},
		{"too short", frames(30, 0, true, true), unsure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.check(t, feed(NewFrozen(FrozenConfig{}), tc.obs), ReasonInjection)
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
