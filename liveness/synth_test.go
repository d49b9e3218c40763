package liveness

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"vidid/engine"
)

// Synthetic sequences shared by the cue tests.

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// at is the time of frame i at fps frames a second.
func at(i int, fps float64) time.Time {
	return t0.Add(time.Duration(float64(i) / fps * float64(time.Second)))
}

// scene draws a w x h frame: a grey gradient background and a bright
// "face" disc of radius r at (cx, cy), each pixel with uniform noise in
// ±noise (0: none) from rng.
func scene(w, h int, cx, cy, r float64, noise int, rng *rand.Rand) engine.Frame {
	f := engine.Frame{Width: w, Height: h, Pix: make([]byte, w*h*3)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := 40 + 120*x/w
			if math.Hypot(float64(x)-cx, float64(y)-cy) < r {
				v = 200 - int(60*float64(y)/float64(h))
			}
			if noise > 0 {
				v += rng.IntN(2*noise+1) - noise
			}
			v = max(0, min(255, v))
			i := (y*w + x) * 3
			f.Pix[i], f.Pix[i+1], f.Pix[i+2] = byte(v), byte(v), byte(v)
		}
	}
	return f
}

// disc is the face box of a disc.
func disc(cx, cy, r float64) image.Rectangle {
	return image.Rect(int(cx-r), int(cy-r), int(cx+r), int(cy+r))
}

// observe builds the observation of f at time t with one face at box
// (none when box is empty).
func observe(f engine.Frame, t time.Time, box image.Rectangle) Observation {
	var an engine.Analysis
	if !box.Empty() {
		an.Faces = []engine.Face{{Box: box, Score: 1}}
		an.Main = &an.Faces[0]
	}
	f.Time = t
	return NewObservation(f, an)
}

// feed passes obs to c in order and returns its result.
func feed(c Cue, obs []Observation) CueResult {
	for _, o := range obs {
		c.Observe(o)
	}
	return c.Result()
}

// want is what a test expects of a result.
type want struct {
	measured bool
	lo, hi   float64 // score range (when measured)
}

// live and attack are the usual expectations.
var (
	live      = want{true, 0.99, 1}
	attack    = want{true, 0, 0.01}
	unsure    = want{false, 1, 1}
	halfScore = want{true, 0.49, 0.51}
)

func (w want) check(t *testing.T, r CueResult, reason string) {
	t.Helper()
	if r.Measured != w.measured || r.Score < w.lo || r.Score > w.hi {
		t.Errorf("%s: measured %v score %.3f, want measured %v score in [%.2f, %.2f]; detail %v",
			r.Name, r.Measured, r.Score, w.measured, w.lo, w.hi, r.Detail)
	}
	if r.Reason != reason {
		t.Errorf("%s: reason %q, want %q", r.Name, r.Reason, reason)
	}
}
