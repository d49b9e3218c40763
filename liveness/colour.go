package liveness

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"time"
)

// ColourStep is one colour the page painted, from Start to End on the
// server's clock (the page reports its display times; the capture maps
// them to server time).
type ColourStep struct {
	R, G, B    uint8
	Start, End time.Time
}

// Palette is the default set of screen colours: saturated, so that their
// reflections differ in chroma, not only in brightness.
var Palette = [][3]uint8{
	{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 0}, {0, 255, 255}, {255, 0, 255},
}

// ColourPlan configures RandomColours.
type ColourPlan struct {
	// Steps is the number of colours (default 8).
	Steps int
	// MinDwell and MaxDwell bound how long each colour shows (defaults
	// 400 ms and 900 ms). At least 334 ms keeps changes under three a
	// second, the photosensitivity limit (WCAG 2.3.1).
	MinDwell, MaxDwell time.Duration
	// Palette to draw from (default Palette); two consecutive colours
	// always differ.
	Palette [][3]uint8
}

// ErrColourPlan: the plan cannot be drawn.
var ErrColourPlan = errors.New("invalid colour plan")

// RandomColours draws a colour sequence starting at start, with colours
// and dwell times from crypto/rand, so that a recording cannot anticipate
// it. The server sends it to the page, which paints it and reports when
// each colour actually showed.
func RandomColours(start time.Time, plan ColourPlan) ([]ColourStep, error) {
	plan.Steps = orDefault(plan.Steps, 8)
	plan.MinDwell = orDefault(plan.MinDwell, 400*time.Millisecond)
	plan.MaxDwell = orDefault(plan.MaxDwell, 900*time.Millisecond)
	if plan.Palette == nil {
		plan.Palette = Palette
	}
	if len(plan.Palette) < 2 || plan.Steps < 1 || plan.MinDwell < time.Second/3 || plan.MaxDwell < plan.MinDwell {
		return nil, fmt.Errorf("%w: %d colours, %d steps, dwell %v-%v (at least %v)",
			ErrColourPlan, len(plan.Palette), plan.Steps, plan.MinDwell, plan.MaxDwell, time.Second/3)
	}
	pick := func(n int64) (int64, error) {
		v, err := rand.Int(rand.Reader, big.NewInt(n))
		if err != nil {
			return 0, fmt.Errorf("draw colour: %w", err)
		}
		return v.Int64(), nil
	}
	out := make([]ColourStep, 0, plan.Steps)
	last := -1
	t := start
	for range plan.Steps {
		n := len(plan.Palette)
		if last >= 0 {
			n-- // any colour but the previous one
		}
		c, err := pick(int64(n))
		if err != nil {
			return nil, err
		}
		i := int(c)
		if last >= 0 && i >= last {
			i++
		}
		last = i
		dw, err := pick(int64(plan.MaxDwell-plan.MinDwell) + 1)
		if err != nil {
			return nil, err
		}
		end := t.Add(plan.MinDwell + time.Duration(dw))
		p := plan.Palette[i]
		out = append(out, ColourStep{R: p[0], G: p[1], B: p[2], Start: t, End: end})
		t = end
	}
	return out, nil
}

// ColourConfig configures the colour cue. Zero values take the defaults.
type ColourConfig struct {
	// MaxLag is the longest delay looked at between a colour showing and
	// the face reflecting it (default 300 ms), in steps of LagStep
	// (default 33 ms).
	MaxLag, LagStep time.Duration
	// Weak is the correlation that scores 0 (default 0.1), Strong the one
	// that scores 1 (default 0.5).
	Weak, Strong float64
	// MinChanges is how many colour changes must fall within the observed
	// frames to say anything (default 3).
	MinChanges int
}

func (c ColourConfig) withDefaults() ColourConfig {
	c.MaxLag = orDefault(c.MaxLag, 300*time.Millisecond)
	c.LagStep = orDefault(c.LagStep, 33*time.Millisecond)
	c.Weak = orDefault(c.Weak, 0.1)
	c.Strong = orDefault(c.Strong, 0.5)
	c.MinChanges = orDefault(c.MinChanges, 3)
	return c
}

// Colour checks that the face reflects the colours the screen shows. The
// page paints a random sequence (RandomColours); light from the screen
// tints a real face in front of it, so the face's chroma follows the
// displayed chroma after the camera's delay. A replayed recording or an
// injected stream shows no such tint, or one that does not follow this
// sequence.
//
// For each lag in 0..MaxLag it correlates the displayed colour's chroma
// (r, g over r+g+b, minus its mean) at t − lag with the face's chroma
// (minus its mean) at t, over all frames in the sequence; the best lag's
// correlation is scored from Weak (0) to Strong (1). Reason
// liveness_failed.
//
// Calibration pending: built and tested on synthetic sequences only; keep
// it off in policy until measured on real captures. Known failure modes:
// bright ambient light or a dim screen drown the reflection (false
// alarms), camera auto-white-balance partly cancels it, and a print held
// in front of the screen reflects it too (it is a depth cue's job).
//
// Cost: per frame, one append; Result is lags × frames.
type Colour struct {
	cfg    ColourConfig
	seq    []ColourStep
	chroma [][2]float64 // of each step
	ok     []bool       // the step has a chroma (not black)
	times  []time.Time
	face   [][2]float64
	xs, ys [][2]float64 // correlate's buffers
}

// NewColour returns a colour cue for the displayed sequence seq.
func NewColour(cfg ColourConfig, seq []ColourStep) *Colour {
	s := append([]ColourStep(nil), seq...)
	sort.Slice(s, func(i, j int) bool { return s[i].Start.Before(s[j].Start) })
	c := &Colour{cfg: cfg.withDefaults(), seq: s, chroma: make([][2]float64, len(s)), ok: make([]bool, len(s))}
	for i, st := range s {
		c.chroma[i], c.ok[i] = chroma(float64(st.R), float64(st.G), float64(st.B))
	}
	return c
}

// chroma is (r, g) / (r + g + b); false for black.
func chroma(r, g, b float64) ([2]float64, bool) {
	s := r + g + b
	if s <= 0 {
		return [2]float64{}, false
	}
	return [2]float64{r / s, g / s}, true
}

// step is the index of the colour displayed at t (-1: none).
func (c *Colour) step(t time.Time) int {
	i := sort.Search(len(c.seq), func(i int) bool { return c.seq[i].Start.After(t) }) - 1
	if i < 0 || !t.Before(c.seq[i].End) {
		return -1
	}
	return i
}

// Observe adds one frame's face colour.
func (c *Colour) Observe(o Observation) {
	if o.Face.Empty() || len(c.seq) == 0 || o.Arrival.Before(c.seq[0].Start) || !o.Arrival.Before(c.seq[len(c.seq)-1].End.Add(c.cfg.MaxLag)) {
		return
	}
	ch, ok := chroma(o.FaceColour.R, o.FaceColour.G, o.FaceColour.B)
	if !ok {
		return
	}
	c.times = append(c.times, o.Arrival)
	c.face = append(c.face, ch)
}

// Result scores the best-lag correlation.
func (c *Colour) Result() CueResult {
	d := map[string]float64{"frames": float64(len(c.times))}
	best, bestLag := math.Inf(-1), time.Duration(0)
	changes := 0
	for lag := time.Duration(0); lag <= c.cfg.MaxLag; lag += c.cfg.LagStep {
		r, k := c.correlate(lag)
		if lag == 0 {
			changes = k
		}
		if r > best {
			best, bestLag = r, lag
		}
	}
	d["changes"] = float64(changes)
	if changes < c.cfg.MinChanges || math.IsInf(best, -1) {
		return unmeasured("colour", ReasonLivenessFailed, d)
	}
	d["correlation"], d["lag_s"] = best, seconds(bestLag)
	return CueResult{Name: "colour", Score: ramp(best, c.cfg.Weak, c.cfg.Strong), Measured: true,
		Reason: ReasonLivenessFailed, Detail: d}
}

// correlate is the correlation of displayed and face chroma at lag, and
// how many colour changes the frames span.
func (c *Colour) correlate(lag time.Duration) (float64, int) {
	xs, ys := c.xs[:0], c.ys[:0]
	changes, prev := 0, -1
	for i, t := range c.times {
		k := c.step(t.Add(-lag))
		if k < 0 || !c.ok[k] {
			continue
		}
		if k != prev {
			if prev >= 0 {
				changes++
			}
			prev = k
		}
		xs, ys = append(xs, c.chroma[k]), append(ys, c.face[i])
	}
	c.xs, c.ys = xs, ys
	if len(xs) < 3 {
		return math.Inf(-1), changes
	}
	mx, my := mean2(xs), mean2(ys)
	var sxy, sxx, syy float64
	for i := range xs {
		for a := 0; a < 2; a++ {
			dx, dy := xs[i][a]-mx[a], ys[i][a]-my[a]
			sxy += dx * dy
			sxx += dx * dx
			syy += dy * dy
		}
	}
	if sxx == 0 || syy == 0 {
		return 0, changes
	}
	return sxy / math.Sqrt(sxx*syy), changes
}

func mean2(v [][2]float64) [2]float64 {
	var m [2]float64
	for _, x := range v {
		m[0] += x[0]
		m[1] += x[1]
	}
	m[0] /= float64(len(v))
	m[1] /= float64(len(v))
	return m
}
