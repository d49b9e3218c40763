package capture

import (
	"time"
)

// Config holds the capture's tunables. Zero values take DefaultConfig's.
type Config struct {
	// SmallMin, SmallMax bound the face height / frame height in the small oval.
	SmallMin, SmallMax float64
	// LargeMin is the face height / frame height the approach must reach,
	// and Growth the least ratio of the large to the small face size.
	LargeMin, Growth float64
	// Centre is the largest offset of the face centre from the frame centre,
	// as a share of the frame size.
	Centre float64
	// HoldFrames is how many consecutive good frames complete an oval.
	HoldFrames int
	// BestFrames is how many frames are kept as evidence and matched.
	BestFrames int
	// Challenges is the number of random active challenges (0 = none).
	Challenges int
	// ChallengeKinds are the prompts to draw from (empty = all: turn left,
	// turn right, blink).
	ChallengeKinds []ChallengeCode
	// ChallengeTimeout bounds each challenge.
	ChallengeTimeout time.Duration
	// TurnDegrees is the yaw a head turn must reach.
	TurnDegrees float64
	// MaxDuration bounds the whole attempt.
	MaxDuration time.Duration
	// PassiveCue names the passive liveness score in Result.Cues (the
	// decision policy's cue name for the scorer in use, e.g.
	// "fr_liveness"); default "passive".
	PassiveCue string
	// MeasureSamePerson: compare the face seen during each challenge with
	// the kept frames (Result.SamePerson). A low score means the person
	// doing the prompts is not the one being matched (a photo of the
	// victim held up for the ovals, then the attacker's own live face for
	// the prompts); the decision policy's same-person bar judges it. The
	// face compared is the most frontal one seen during the challenge, so
	// that it compares like with like (a turned head scores low even
	// against itself).
	MeasureSamePerson bool
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		SmallMin: 0.22, SmallMax: 0.50, LargeMin: 0.55, Growth: 1.25, Centre: 0.18,
		HoldFrames: 4, BestFrames: 3, Challenges: 2, ChallengeTimeout: 8 * time.Second,
		TurnDegrees: 15, MaxDuration: 90 * time.Second, PassiveCue: "passive",
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	set := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	set(&c.SmallMin, d.SmallMin)
	set(&c.SmallMax, d.SmallMax)
	set(&c.LargeMin, d.LargeMin)
	set(&c.Growth, d.Growth)
	set(&c.Centre, d.Centre)
	set(&c.TurnDegrees, d.TurnDegrees)
	if c.PassiveCue == "" {
		c.PassiveCue = d.PassiveCue
	}
	if c.HoldFrames == 0 {
		c.HoldFrames = d.HoldFrames
	}
	if c.BestFrames == 0 {
		c.BestFrames = d.BestFrames
	}
	if c.ChallengeTimeout == 0 {
		c.ChallengeTimeout = d.ChallengeTimeout
	}
	if c.MaxDuration == 0 {
		c.MaxDuration = d.MaxDuration
	}
	return c
}
