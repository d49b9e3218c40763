package liveness

import (
	"testing"
	"time"
)

// turning is 3 s at 30 fps of a head whose yaw is yaw(t) (t in seconds),
// a prompt sent at sent and answered at answered (zero: never).
func turning(code string, yaw func(t float64) float64, sent, answered time.Duration) []Observation {
	out := make([]Observation, 90)
	for i := range out {
		o := Observation{Arrival: at(i, 30), Width: 640, Height: 480, HasPose: true}
		o.Pose.Yaw = yaw(float64(i) / 30)
		prev := at(i-1, 30)
		for _, e := range []PromptEvent{{1, code, PromptSent, t0.Add(sent)}, {1, code, PromptAnswered, t0.Add(answered)}} {
			if e.At.After(prev) && !e.At.After(o.Arrival) && (e.Kind == PromptSent || answered != 0) {
				o.Prompts = append(o.Prompts, e)
			}
		}
		out[i] = o
	}
	return out
}

// turnAt is a head still until start seconds, then turning at 60°/s.
func turnAt(start float64) func(float64) float64 {
	return func(t float64) float64 { return 60 * max(0, t-start) }
}

func TestReaction(t *testing.T) {
	s := time.Second
	spike := func(t float64) float64 { // one noisy frame right after the prompt
		if t > 1.03 && t < 1.06 {
			return 9
		}
		return turnAt(1.5)(t)
	}
	tests := []struct {
		name string
		obs  []Observation
		want want
	}{
		{"turns 0.4 s after the prompt", turning("turn_left", turnAt(1.4), s, 2*s), live},
		{"one noisy frame, then a real turn", turning("turn_left", spike, s, 2*s), live},
		{"blinks 0.6 s after the prompt", turning("blink", func(float64) float64 { return 0 }, s, 1600*time.Millisecond), live},
		{"already turning when prompted", turning("turn_right", turnAt(0.5), s, 1300*time.Millisecond), attack},
		{"blink answered 50 ms after the prompt", turning("blink", func(float64) float64 { return 0 }, s, 1050*time.Millisecond), attack},
		{"answered before the prompt", turning("blink", func(float64) float64 { return 0 }, 2*s, 1500*time.Millisecond), attack},
		// The onset shows once the yaw has moved 5°: 170 ms here.
		{"turn 70 ms after the prompt", turning("turn_left", turnAt(1.07), s, 2*s), want{true, 0.6, 0.7}},
		{"no prompt answered", turning("turn_left", func(float64) float64 { return 0 }, s, 0), unsure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.check(t, feed(NewReaction(ReactionConfig{}), tc.obs), ReasonInjection)
		})
	}
}
