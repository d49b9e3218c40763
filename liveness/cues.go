package liveness

import (
	"math"
	"time"
)

// Reasons a cue gives when it scores an attempt as an attack.
const (
	// ReasonLivenessFailed: a presentation attack (a print, a screen, a
	// mask) in front of a real camera.
	ReasonLivenessFailed = "liveness_failed"
	// ReasonInjection: the stream itself looks made up (a virtual camera,
	// a looped or spliced file, forged timing).
	ReasonInjection = "injection_suspected"
)

// CueResult is one cue's verdict on the frames it has observed.
type CueResult struct {
	Name string
	// Score is 1 when the stream looks live and real, 0 when it looks
	// like an attack; in between, the cue is unsure.
	Score float64
	// Measured is false when the cue saw too little to say anything;
	// Score is then 1 and means nothing.
	Measured bool
	// Reason is the reason code a low score stands for.
	Reason string
	// Detail holds the cue's measurements, for logs and calibration.
	Detail map[string]float64
}

// Cue is an incremental replay, injection or depth check: it takes the
// observations of one attempt in order and says at any time what they show.
// Cues are not safe for concurrent use.
type Cue interface {
	Observe(o Observation)
	Result() CueResult
}

// Config configures every cue of a Set. Zero values take each cue's
// defaults.
type Config struct {
	Loop     LoopConfig
	Frozen   FrozenConfig
	Timing   TimingConfig
	Reaction ReactionConfig
	Jump     JumpConfig
	Depth    DepthConfig
	Approach ApproachConfig
	Colour   ColourConfig
}

// Set runs all cues over one attempt.
type Set struct {
	cues []Cue
}

// NewSet returns the cues of one attempt: loop, frozen, timing, reaction,
// camera, jump, depth, approach, and, when colours is not empty (the
// sequence the page displayed), colour.
func NewSet(cfg Config, colours []ColourStep) *Set {
	s := &Set{cues: []Cue{
		NewLoop(cfg.Loop), NewFrozen(cfg.Frozen), NewTiming(cfg.Timing), NewReaction(cfg.Reaction),
		NewCamera(), NewJump(cfg.Jump), NewDepth(cfg.Depth), NewApproach(cfg.Approach),
	}}
	if len(colours) > 0 {
		s.cues = append(s.cues, NewColour(cfg.Colour, colours))
	}
	return s
}

var _ Cue = (*Set)(nil)

// Observe passes o to every cue.
func (s *Set) Observe(o Observation) {
	for _, c := range s.cues {
		c.Observe(o)
	}
}

// Result is the lowest-scoring measured result ("set"; unmeasured when
// no cue measured anything), for a quick look; policies should read
// Results.
func (s *Set) Result() CueResult {
	worst := unmeasured("set", "", nil)
	for _, r := range s.Results() {
		if r.Measured && (!worst.Measured || r.Score < worst.Score) {
			worst = r
		}
	}
	return worst
}

// Results returns every cue's result, in NewSet's order.
func (s *Set) Results() []CueResult {
	out := make([]CueResult, len(s.cues))
	for i, c := range s.cues {
		out[i] = c.Result()
	}
	return out
}

// unmeasured is the result of a cue that cannot say anything yet.
func unmeasured(name, reason string, detail map[string]float64) CueResult {
	return CueResult{Name: name, Score: 1, Reason: reason, Detail: detail}
}

// ramp maps x linearly from bad (score 0) to good (score 1), clamped;
// bad may be above good.
func ramp(x, bad, good float64) float64 {
	if bad == good {
		return 0
	}
	return math.Max(0, math.Min(1, (x-bad)/(good-bad)))
}

// seconds is d in seconds.
func seconds(d time.Duration) float64 { return d.Seconds() }

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
