package liveness

import (
	"math"
	"time"
)

// ReactionConfig configures the reaction cue. Zero values take the
// defaults.
type ReactionConfig struct {
	// Fast is the reaction (prompt sent → response seen) that scores 0
	// (default 100 ms); Human the one that scores 1 (default 200 ms).
	Fast, Human time.Duration
	// Onset is the yaw change from the pose at the prompt that marks the
	// start of a head turn (default 5 degrees).
	Onset float64
}

func (c ReactionConfig) withDefaults() ReactionConfig {
	c.Fast = orDefault(c.Fast, 100*time.Millisecond)
	c.Human = orDefault(c.Human, 200*time.Millisecond)
	c.Onset = orDefault(c.Onset, 5)
	return c
}

// Reaction catches answers that come too soon. A person needs at least
// 150-200 ms to see a prompt and start moving, and the delay the server
// measures also holds the network's two ways; a pre-recorded stream that
// happens to be turning when the prompt goes out, or a tool that answers
// from the data channel message itself, responds at once, or even before
// the prompt was sent.
//
// The response to a head-turn prompt starts at the first of two frames in a
// row whose yaw has moved Onset degrees from the pose seen when the prompt
// was sent (one frame may be landmark noise); for
// other prompts (blink) it is the answer itself. The score is that of the
// fastest response; an answer before its prompt scores 0.
//
// It misses a replay whose head is still when prompted (the challenge's
// own check, and the loop cue, catch those that never answer), and a
// real-time puppet driven by a person (it reacts like one). Arrival
// times include network delay, which only lengthens reactions: the cue
// errs towards live.
//
// Cost: a few comparisons per frame.
type Reaction struct {
	cfg     ReactionConfig
	pose    float64 // yaw of the last frame with a pose
	hasPose bool
	open    map[int]*prompt
	fastest time.Duration
	n       int
	early   int // answers before their prompt
}

type prompt struct {
	code    string
	sent    time.Time
	yaw     float64
	hasYaw  bool
	moved   time.Time // first frame of the current run beyond Onset
	onset   time.Time
	settled bool // a reaction was recorded
}

// NewReaction returns a reaction cue.
func NewReaction(cfg ReactionConfig) *Reaction {
	return &Reaction{cfg: cfg.withDefaults(), open: map[int]*prompt{}, fastest: -1}
}

// Observe adds one frame and its prompt events.
func (r *Reaction) Observe(o Observation) {
	for _, e := range o.Prompts {
		switch e.Kind {
		case PromptSent:
			r.open[e.Index] = &prompt{code: e.Code, sent: e.At, yaw: r.pose, hasYaw: r.hasPose}
		case PromptAnswered:
			p := r.open[e.Index]
			switch {
			case p == nil || e.At.Before(p.sent):
				r.early++
			case !p.settled:
				at := e.At
				if !p.onset.IsZero() {
					at = p.onset
				}
				r.record(p, at.Sub(p.sent))
			}
		}
	}
	if !o.HasPose {
		return
	}
	for _, p := range r.open {
		if p.settled || !p.onset.IsZero() || !turn(p.code) || o.Arrival.Before(p.sent) {
			continue
		}
		if !p.hasYaw {
			p.yaw, p.hasYaw = o.Pose.Yaw, true // the first pose after the prompt
			continue
		}
		switch {
		case math.Abs(o.Pose.Yaw-p.yaw) < r.cfg.Onset:
			p.moved = time.Time{}
		case p.moved.IsZero():
			p.moved = o.Arrival
		default: // two frames in a row: a movement, not landmark noise
			p.onset = p.moved
		}
	}
	r.pose, r.hasPose = o.Pose.Yaw, true
}

// turn reports whether a prompt code asks for a head turn.
func turn(code string) bool { return code == "turn_left" || code == "turn_right" }

func (r *Reaction) record(p *prompt, rt time.Duration) {
	p.settled = true
	r.n++
	if r.fastest < 0 || rt < r.fastest {
		r.fastest = rt
	}
}

// Result scores the fastest reaction.
func (r *Reaction) Result() CueResult {
	d := map[string]float64{"answered": float64(r.n), "early": float64(r.early)}
	if r.early > 0 {
		return CueResult{Name: "reaction", Score: 0, Measured: true, Reason: ReasonInjection, Detail: d}
	}
	if r.n == 0 {
		return unmeasured("reaction", ReasonInjection, d)
	}
	d["fastest_s"] = seconds(r.fastest)
	s := ramp(seconds(r.fastest), seconds(r.cfg.Fast), seconds(r.cfg.Human))
	return CueResult{Name: "reaction", Score: s, Measured: true, Reason: ReasonInjection, Detail: d}
}
