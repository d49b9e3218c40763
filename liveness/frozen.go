package liveness

import "time"

// FrozenConfig configures the frozen-frame cue. Zero values take the
// defaults.
type FrozenConfig struct {
	// Grace is the longest frozen run that costs nothing (default 0.5 s);
	// MaxRun the run at which the score reaches 0 (default 1.5 s).
	Grace, MaxRun time.Duration
	// Still is the largest face thumbnail difference (Thumb.MAD) of a
	// frozen frame from the previous one (default 0.3 grey levels).
	Still float64
	// Identical is the least share of grain samples byte-identical to the
	// previous frame's for a frame to be frozen (default 0.98).
	Identical float64
	// MinSpan is how long the cue must watch to say anything (default 2 s).
	MinSpan time.Duration
}

func (c FrozenConfig) withDefaults() FrozenConfig {
	c.Grace = orDefault(c.Grace, 500*time.Millisecond)
	c.MaxRun = orDefault(c.MaxRun, 1500*time.Millisecond)
	c.Still = orDefault(c.Still, 0.3)
	c.Identical = orDefault(c.Identical, 0.98)
	c.MinSpan = orDefault(c.MinSpan, 2*time.Second)
	return c
}

// Frozen catches a stream that stops moving: runs of byte-identical
// frames (PixHash), or of frames whose grain samples (point samples, in
// which a camera's sensor noise survives) are all but identical while the
// face does not move. A live camera never delivers the same pixels twice
// for long: noise alone changes them. A picture pushed through a virtual
// camera, or a stalled injection tool, does.
//
// Its failure modes: a video encoder that skips unchanged blocks copies
// them bit for bit, so a live but perfectly still scene at a very low
// bitrate can look frozen for a moment (hence the grace period and the
// face condition); an attacker who adds synthetic noise to a still picture
// passes (the loop, jump and depth cues, and the challenges, remain). The
// share of background grain that never changes is reported (static_share)
// for calibration but not scored: encoders make it high in live streams.
//
// Cost: one comparison of 768 samples and 256 thumbnail bytes per frame.
type Frozen struct {
	cfg      FrozenConfig
	prev     Observation
	have     bool
	first    time.Time
	last     time.Time
	runStart time.Time // start of the current frozen run (zero: none)
	longest  time.Duration
	frames   int
	frozen   int
	dups     int
	static   float64 // sum of per-frame identical grain shares outside the face
	staticN  int
}

// NewFrozen returns a frozen-frame cue.
func NewFrozen(cfg FrozenConfig) *Frozen { return &Frozen{cfg: cfg.withDefaults()} }

// Observe adds one frame.
func (z *Frozen) Observe(o Observation) {
	if o.Width == 0 {
		return
	}
	z.frames++
	if !z.have {
		z.prev, z.have, z.first, z.last = o, true, o.Arrival, o.Arrival
		return
	}
	same, outside := z.identical(&o)
	frozen := o.PixHash == z.prev.PixHash
	if frozen {
		z.dups++
	} else if same >= z.cfg.Identical {
		frozen = o.Face.Empty() == z.prev.Face.Empty() && (o.Face.Empty() || o.FaceThumb.MAD(&z.prev.FaceThumb) <= z.cfg.Still)
	}
	if outside >= 0 {
		z.static += outside
		z.staticN++
	}
	if frozen {
		z.frozen++
		if z.runStart.IsZero() {
			z.runStart = z.prev.Arrival
		}
		z.longest = max(z.longest, o.Arrival.Sub(z.runStart))
	} else {
		z.runStart = time.Time{}
	}
	z.prev, z.last = o, o.Arrival
}

// identical returns the share of grain samples equal to the previous
// frame's, and the share among those outside the face (-1: none).
func (z *Frozen) identical(o *Observation) (all, outside float64) {
	same, out, outSame := 0, 0, 0
	for gy := 0; gy < GrainH; gy++ {
		y := (2*gy + 1) * o.Height / (2 * GrainH)
		for gx := 0; gx < GrainW; gx++ {
			i := gy*GrainW + gx
			eq := o.Grain[i] == z.prev.Grain[i]
			if eq {
				same++
			}
			x := (2*gx + 1) * o.Width / (2 * GrainW)
			if !o.Face.Empty() && (x < o.Face.Min.X || x >= o.Face.Max.X || y < o.Face.Min.Y || y >= o.Face.Max.Y) {
				out++
				if eq {
					outSame++
				}
			}
		}
	}
	outside = -1
	if out > 0 {
		outside = float64(outSame) / float64(out)
	}
	return float64(same) / float64(len(o.Grain)), outside
}

// Result scores the longest frozen run.
func (z *Frozen) Result() CueResult {
	d := map[string]float64{"frames": float64(z.frames), "frozen": float64(z.frozen),
		"duplicates": float64(z.dups), "longest_s": seconds(z.longest)}
	if z.staticN > 0 {
		d["static_share"] = z.static / float64(z.staticN)
	}
	if z.frames < 3 || z.last.Sub(z.first) < z.cfg.MinSpan && z.longest < z.cfg.MaxRun {
		return unmeasured("frozen", ReasonInjection, d)
	}
	s := ramp(seconds(z.longest), seconds(z.cfg.MaxRun), seconds(z.cfg.Grace))
	return CueResult{Name: "frozen", Score: s, Measured: true, Reason: ReasonInjection, Detail: d}
}
