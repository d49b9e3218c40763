package liveness

import (
	"errors"
	"image"
	"math/rand/v2"
	"testing"
	"time"
)

func TestRandomColours(t *testing.T) {
	a, err := RandomColours(t0, ColourPlan{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := RandomColours(t0, ColourPlan{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 8 {
		t.Fatalf("%d steps, want 8", len(a))
	}
	same := true
	for i, s := range a {
		if i > 0 && (s.Start != a[i-1].End || s.R == a[i-1].R && s.G == a[i-1].G && s.B == a[i-1].B) {
			t.Errorf("step %d: %+v after %+v: not contiguous, or the same colour twice", i, s, a[i-1])
		}
		if d := s.End.Sub(s.Start); d < 400*time.Millisecond || d > 900*time.Millisecond {
			t.Errorf("step %d shows for %v, want 400-900 ms", i, d)
		}
		same = same && s == b[i]
	}
	if a[0].Start != t0 || same {
		t.Errorf("starts at %v (want %v); two draws equal: %v", a[0].Start, t0, same)
	}
	for _, plan := range []ColourPlan{
		{MinDwell: 100 * time.Millisecond},                        // flashes too fast
		{MinDwell: time.Second, MaxDwell: 500 * time.Millisecond}, // empty range
		{Palette: [][3]uint8{{255, 0, 0}}},                        // nothing to alternate
		{Steps: -1},
	} {
		if _, err := RandomColours(t0, plan); !errors.Is(err, ErrColourPlan) {
			t.Errorf("RandomColours(%+v) = %v, want ErrColourPlan", plan, err)
		}
	}
}

// reflecting is a face seen at 30 fps while seq shows: skin tinted by the
// colour shown delay earlier (gain: share of the screen's light in the
// face's), with camera noise.
func reflecting(seq []ColourStep, delay time.Duration, gain float64, rng *rand.Rand) []Observation {
	c := NewColour(ColourConfig{}, seq)
	var out []Observation
	end := seq[len(seq)-1].End
	for i := 0; !at(i, 30).After(end); i++ {
		o := Observation{Arrival: at(i, 30), Width: 640, Height: 480, Face: image.Rect(200, 100, 440, 380), Faces: 1}
		o.FaceColour = RGB{180, 130, 110}
		if k := c.step(o.Arrival.Add(-delay)); k >= 0 {
			s := seq[k]
			o.FaceColour.R += gain * float64(s.R)
			o.FaceColour.G += gain * float64(s.G)
			o.FaceColour.B += gain * float64(s.B)
		}
		o.FaceColour.R += 2 * rng.NormFloat64()
		o.FaceColour.G += 2 * rng.NormFloat64()
		o.FaceColour.B += 2 * rng.NormFloat64()
		out = append(out, o)
	}
	return out
}

func TestColour(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	// A fixed sequence (a random one could, now and then, resemble the
	// other), and its complement: each colour replaced by the opposite hue.
	order := []int{0, 2, 4, 1, 3, 5, 0, 3, 1, 4}
	var shown, other []ColourStep
	for i, k := range order {
		start := t0.Add(time.Duration(i) * 600 * time.Millisecond)
		c, o := Palette[k], Palette[[]int{4, 5, 3, 2, 0, 1}[k]]
		shown = append(shown, ColourStep{R: c[0], G: c[1], B: c[2], Start: start, End: start.Add(600 * time.Millisecond)})
		other = append(other, ColourStep{R: o[0], G: o[1], B: o[2], Start: start, End: start.Add(600 * time.Millisecond)})
	}
	tests := []struct {
		name string
		obs  []Observation
		want want
	}{
		{"face reflects the screen, 100 ms camera delay", reflecting(shown, 100*time.Millisecond, 0.1, rng), live},
		{"face reflects the screen at once", reflecting(shown, 0, 0.1, rng), live},
		{"no reflection (replay, injection)", reflecting(shown, 0, 0, rng), want{true, 0, 0.3}},
		{"reflects the opposite colours", reflecting(other, 100*time.Millisecond, 0.1, rng), attack},
		{"too short", reflecting(shown, 100*time.Millisecond, 0.1, rng)[:20], unsure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := feed(NewColour(ColourConfig{}, shown), tc.obs)
			t.Logf("%v", r.Detail)
			tc.want.check(t, r, ReasonLivenessFailed)
		})
	}
}
