package liveness

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// walk is a moving face: a random walk of the disc, rendered with sensor
// noise, n frames at 30 fps starting at frame index first.
func walk(rng *rand.Rand, n, first int) []Observation {
	cx, cy := 32.0, 24.0
	out := make([]Observation, n)
	for i := range out {
		cx = math.Max(14, math.Min(50, cx+rng.NormFloat64()*1.5))
		cy = math.Max(14, math.Min(34, cy+rng.NormFloat64()*1.0))
		out[i] = observe(scene(64, 48, cx, cy, 12, 3, rng), at(first+i, 30), disc(cx, cy, 12))
	}
	return out
}

// replay plays the clip's frames again from frame index first, every
// skip-th frame dropped (skip 0: none), each re-rendered with fresh noise
// as a re-encoding would; arrivals keep 30 fps pacing.
func replay(clip []Observation, first, skip int) []Observation {
	out := make([]Observation, 0, len(clip))
	for i, o := range clip {
		if skip > 0 && i%skip == skip-1 {
			continue
		}
		for k := range o.Thumb {
			o.Thumb[k] = byte(int(o.Thumb[k]) + (k+i)%3 - 1) // ±1 grey level
		}
		o.Arrival = at(first+i, 30)
		out = append(out, o)
	}
	return out
}

func TestLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	clip := walk(rng, 90, 0) // 3 s
	still := make([]Observation, 300)
	for i := range still {
		still[i] = observe(scene(64, 48, 32, 24, 12, 2, rng), at(i, 30), disc(32, 24, 12))
	}
	// A person nodding: the same movement again and again, but each nod
	// a little different (amplitude, pace, sideways drift).
	nod := make([]Observation, 300)
	phase, amp, cx := 0.0, 8.0, 32.0
	for i := range nod {
		if i%30 == 0 {
			amp = 8 * (1 + 0.15*rng.NormFloat64())
		}
		phase += math.Pi / 15 * (1 + 0.1*rng.NormFloat64())
		cx = math.Max(24, math.Min(40, cx+0.3*rng.NormFloat64()))
		cy := 24 + amp*math.Sin(phase)
		nod[i] = observe(scene(64, 48, cx, cy, 12, 3, rng), at(i, 30), disc(cx, cy, 12))
	}
	tests := []struct {
		name string
		obs  []Observation
		want want
	}{
		{"live, moving", walk(rng, 300, 0), live},
		{"live, still face and background", still, live},
		{"live, nodding", nod, live},
		{"clip looped three times", cat(clip, replay(clip, 90, 0), replay(clip, 180, 0)), attack},
		{"clip looped, frames dropped", cat(clip, replay(clip, 90, 4), replay(clip, 180, 3)), attack},
		{"too short to loop", walk(rng, 50, 0), unsure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := feed(NewLoop(LoopConfig{}), tc.obs)
			tc.want.check(t, r, ReasonInjection)
			if tc.want.lo == 0 && math.Abs(r.Detail["period_s"]-3) > 0.1 {
				t.Errorf("period %.2f s, want 3 s", r.Detail["period_s"])
			}
		})
	}
}

func cat(parts ...[]Observation) []Observation {
	var out []Observation
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestLoopHistory: frames older than History are forgotten, so a loop
// longer than it goes unseen (and memory stays bounded).
func TestLoopHistory(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	clip := walk(rng, 90, 0)
	obs := cat(clip, walk(rng, 60, 90), replay(clip, 150, 0))
	r := feed(NewLoop(LoopConfig{History: 4 * time.Second}), obs)
	live.check(t, r, ReasonInjection)
	r = feed(NewLoop(LoopConfig{History: 6 * time.Second}), obs)
	attack.check(t, r, ReasonInjection)
}
