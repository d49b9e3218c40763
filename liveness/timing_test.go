package liveness

import (
	"math/rand/v2"
	"testing"
	"time"
)

// rtpStream is n frames: frame i has RTP timestamp start + i*step (plus
// capture jitter) and arrives at rate × its RTP time plus network delay in
// [0, net).
func rtpStream(rng *rand.Rand, n int, start uint32, step int, rate float64, net time.Duration) []Observation {
	out := make([]Observation, n)
	for i := range out {
		ts := start + uint32(i*step)
		if i > 0 {
			ts += uint32(rng.IntN(61) - 30)
		}
		arr := time.Duration(rate * float64(i*step) / rtpClock * float64(time.Second))
		if net > 0 {
			arr += time.Duration(rng.Int64N(int64(net)))
		}
		out[i] = Observation{Arrival: t0.Add(arr), RTPTimestamp: ts, HasRTP: true, Width: 640, Height: 480}
	}
	return out
}

func TestTiming(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	noRTP := rtpStream(rng, 150, 0, 3000, 1, 20*time.Millisecond)
	for i := range noRTP {
		noRTP[i].HasRTP = false
	}
	spliced := cat(rtpStream(rng, 90, 5_000_000, 3000, 1, 20*time.Millisecond), rtpStream(rng, 90, 1_000, 3000, 1, 20*time.Millisecond))
	for i := 90; i < 180; i++ {
		spliced[i].Arrival = spliced[i].Arrival.Add(3 * time.Second)
	}
	tests := []struct {
		name string
		obs  []Observation
		want want
	}{
		{"live 30 fps", rtpStream(rng, 150, 12345, 3000, 1, 20*time.Millisecond), live},
		{"live, RTP clock wraps", rtpStream(rng, 150, 1<<32-100_000, 3000, 1, 20*time.Millisecond), live},
		{"live 15 fps, slow network", rtpStream(rng, 75, 0, 6000, 1, 80*time.Millisecond), live},
		{"file sent twice as fast as its timestamps", rtpStream(rng, 300, 0, 3000, 0.5, 10*time.Millisecond), attack},
		{"timestamps slower than the clock", rtpStream(rng, 150, 0, 3000, 1.3, 10*time.Millisecond), attack},
		{"timestamps jump back at a splice", spliced, attack},
		{"120 fps", rtpStream(rng, 600, 0, 750, 1, 5*time.Millisecond), attack},
		{"no jitter at all", rtpStream(rand.New(rand.NewPCG(0, 0)), 150, 0, 3000, 1, 0), want{true, 0, 0.5}},
		{"no RTP timestamps", noRTP, unsure},
		{"too short", rtpStream(rng, 60, 0, 3000, 1, 20*time.Millisecond), unsure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.check(t, feed(NewTiming(TimingConfig{}), tc.obs), ReasonInjection)
		})
	}
}
