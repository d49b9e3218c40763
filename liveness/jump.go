package liveness

import (
	"image"
	"math"
	"time"
)

// JumpConfig configures the jump cue. Zero values take the defaults.
type JumpConfig struct {
	// Speed is the fastest a face may move, in face heights per second,
	// counting a change of size as a move (default 6: a quick head
	// movement reaches 2-3).
	Speed float64
	// MinJump is the least move between two frames, in face heights, that
	// can count as a jump (default 0.3): smaller ones are detector noise
	// whatever the interval.
	MinJump float64
	// MaxGap is the longest interval between two frames that are compared
	// (default 250 ms): after a gap anything can have happened.
	MaxGap time.Duration
	// MinPairs is how many compared frame pairs the cue needs to say
	// anything (default 10).
	MinPairs int
}

func (c JumpConfig) withDefaults() JumpConfig {
	c.Speed = orDefault(c.Speed, 6)
	c.MinJump = orDefault(c.MinJump, 0.3)
	c.MaxGap = orDefault(c.MaxGap, 250*time.Millisecond)
	c.MinPairs = orDefault(c.MinPairs, 10)
	return c
}

// Jump catches a face that jumps between consecutive frames further than
// a head moves in one frame interval: the seam of a spliced stream (an
// injection tool switching between a recording and a live feed, or
// between recordings), or a cut in an edited video. The move is the
// displacement of the face box's centre plus the change of its size (log
// ratio), in face heights, divided by the frame interval.
//
// Frames with more than one face, and pairs separated by a gap (no face,
// a dropped stretch) are skipped. It misses splices that line the faces up
// (a careful attacker, or a cut during a moment without a face), and a
// detector that jumps between two people gives a false alarm, which the
// one-face rule of the capture already prevents.
//
// Cost: a few arithmetic operations per frame.
type Jump struct {
	cfg      JumpConfig
	prev     image.Rectangle
	prevT    time.Time
	have     bool
	pairs    int
	jumps    int
	maxSpeed float64
}

// NewJump returns a jump cue.
func NewJump(cfg JumpConfig) *Jump { return &Jump{cfg: cfg.withDefaults()} }

// Observe adds one frame.
func (j *Jump) Observe(o Observation) {
	if o.Face.Empty() || o.Faces > 1 {
		j.have = false
		return
	}
	if j.have {
		dt := o.Arrival.Sub(j.prevT)
		if dt > 0 && dt <= j.cfg.MaxGap {
			move := faceMove(j.prev, o.Face)
			speed := move / dt.Seconds()
			j.pairs++
			j.maxSpeed = math.Max(j.maxSpeed, speed)
			if move >= j.cfg.MinJump && speed > j.cfg.Speed {
				j.jumps++
			}
		}
	}
	j.prev, j.prevT, j.have = o.Face, o.Arrival, true
}

// faceMove is how far face b is from face a, in face heights: the centre
// displacement plus |log| of the size ratio.
func faceMove(a, b image.Rectangle) float64 {
	h := float64(a.Dy()+b.Dy()) / 2
	dx := float64(b.Min.X+b.Max.X-a.Min.X-a.Max.X) / 2
	dy := float64(b.Min.Y+b.Max.Y-a.Min.Y-a.Max.Y) / 2
	return math.Hypot(dx, dy)/h + math.Abs(math.Log(float64(b.Dy())/float64(a.Dy())))
}

// Result scores the jumps: one halves the score, two make it 0.
func (j *Jump) Result() CueResult {
	d := map[string]float64{"pairs": float64(j.pairs), "jumps": float64(j.jumps), "max_speed": j.maxSpeed}
	if j.jumps == 0 && j.pairs < j.cfg.MinPairs {
		return unmeasured("jump", ReasonInjection, d)
	}
	s := math.Max(0, 1-float64(j.jumps)/2)
	return CueResult{Name: "jump", Score: s, Measured: true, Reason: ReasonInjection, Detail: d}
}
