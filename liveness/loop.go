package liveness

import (
	"sort"
	"time"
)

// LoopConfig configures the loop cue. Zero values take the defaults.
type LoopConfig struct {
	// Window is how long a sequence must repeat to count (default 2 s: a
	// looped file repeats for its whole length, a person who repeats a
	// movement does not repeat it frame for frame for that long).
	Window time.Duration
	// MinPeriod is the shortest loop looked for (default 1 s): a frame is
	// compared only with frames at least this much older.
	MinPeriod time.Duration
	// History is how far back loops are looked for (default 120 s).
	History time.Duration
	// Match is the largest thumbnail difference (Thumb.MAD, grey levels)
	// of two frames that count as the same picture (default 2): a
	// re-encoded copy of a frame differs by about 1.
	Match float64
	// Motion is the least difference between the newest frame and some
	// frame of the window (default 6): a still scene repeats its frames
	// legitimately, so only a window that changes can reveal a loop.
	Motion float64
	// Share is the share of the window's frames that must find their twin
	// one period earlier (default 0.8).
	Share float64
}

func (c LoopConfig) withDefaults() LoopConfig {
	c.Window = orDefault(c.Window, 2*time.Second)
	c.MinPeriod = orDefault(c.MinPeriod, time.Second)
	c.History = orDefault(c.History, 120*time.Second)
	c.Match = orDefault(c.Match, 2)
	c.Motion = orDefault(c.Motion, 6)
	c.Share = orDefault(c.Share, 0.8)
	return c
}

// Loop detects the same frames coming round again. Replay tools, and
// Chromium's fake camera given a file, play a recording in a loop; a live
// camera never shows the same moving sequence twice.
//
// Each frame's thumbnail is compared with older ones (at least MinPeriod
// back); for a close match one period P earlier, every frame of the last
// Window must find a twin P earlier. Single matches mean nothing (a still
// face on a still background repeats all the time), so a window must also
// change (Motion) before it can reveal a loop. Alignment is by arrival
// time, so dropped or unevenly paced frames do not hide a loop.
//
// It misses a recording longer than the attempt (it never loops), a loop
// whose frames are re-rendered each time (a live deepfake, a moving
// screen recaptured by a camera whose noise and framing differ), and
// loops of a still picture (the frozen cue's case). A person repeating a
// movement exactly, pixel for pixel, for a whole second would be flagged;
// real movements differ by more than Match.
//
// Cost: a coarse 4x4 pre-filter over the history, a full comparison only
// for the few frames that pass it.
type Loop struct {
	cfg    LoopConfig
	frames []loopFrame
	first  time.Time
	found  bool
	period time.Duration
	share  float64
}

type loopFrame struct {
	t      time.Time
	thumb  Thumb
	coarse [16]uint8
}

// NewLoop returns a loop cue.
func NewLoop(cfg LoopConfig) *Loop { return &Loop{cfg: cfg.withDefaults()} }

// Observe adds one frame.
func (l *Loop) Observe(o Observation) {
	if o.Width == 0 {
		return
	}
	if l.first.IsZero() {
		l.first = o.Arrival
	}
	f := loopFrame{t: o.Arrival, thumb: o.Thumb, coarse: coarse(&o.Thumb)}
	l.frames = append(l.frames, f)
	if old := sort.Search(len(l.frames), func(i int) bool { return o.Arrival.Sub(l.frames[i].t) <= l.cfg.History }); old > len(l.frames)/2 {
		l.frames = append(l.frames[:0], l.frames[old:]...)
	}
	if !l.found {
		l.check()
	}
}

// maxLoopTries bounds the candidate periods verified per frame.
const maxLoopTries = 8

// check looks for a loop ending at the newest frame.
func (l *Loop) check() {
	n := len(l.frames) - 1
	cur := &l.frames[n]
	start := sort.Search(len(l.frames), func(i int) bool { return cur.t.Sub(l.frames[i].t) < l.cfg.Window })
	if n-start < 4 || !l.moves(start, n) {
		return
	}
	tries := 0                           // full verifications: a few per frame bound the cost
	limit := int((l.cfg.Match + 1) * 16) // coarseSAD bound of a match
	for j := n - 1; j >= 0 && tries < maxLoopTries; j-- {
		c := &l.frames[j]
		period := cur.t.Sub(c.t)
		if period > l.cfg.History {
			break
		}
		if period < l.cfg.MinPeriod || coarseSAD(&cur.coarse, &c.coarse) > limit || cur.thumb.MAD(&c.thumb) > l.cfg.Match {
			continue
		}
		tries++
		if share := l.repeats(start, n, period); share >= l.cfg.Share {
			l.found, l.period, l.share = true, period, share
			return
		}
	}
}

// moves reports whether the window start..n changes by at least Motion.
func (l *Loop) moves(start, n int) bool {
	for i := start; i < n; i++ {
		if l.frames[n].thumb.MAD(&l.frames[i].thumb) >= l.cfg.Motion {
			return true
		}
	}
	return false
}

// repeats is the share of frames start..n with a twin one period earlier
// (the nearest frame in time on either side).
func (l *Loop) repeats(start, n int, period time.Duration) float64 {
	hit := 0
	for i := start; i <= n; i++ {
		t := l.frames[i].t.Add(-period)
		k := sort.Search(len(l.frames), func(j int) bool { return !l.frames[j].t.Before(t) })
		for _, j := range []int{k - 1, k} {
			if j >= 0 && j < start && l.frames[i].thumb.MAD(&l.frames[j].thumb) <= l.cfg.Match {
				hit++
				break
			}
		}
	}
	return float64(hit) / float64(n-start+1)
}

// coarse averages a thumbnail into 4x4 blocks.
func coarse(t *Thumb) [16]uint8 {
	var c [16]int
	for y := 0; y < ThumbSide; y++ {
		for x := 0; x < ThumbSide; x++ {
			c[(y/4)*4+x/4] += int(t[y*ThumbSide+x])
		}
	}
	var out [16]uint8
	for i, v := range c {
		out[i] = uint8(v / 16)
	}
	return out
}

// coarseSAD is the sum of absolute differences of two coarse thumbnails.
// Divided by 16, it never exceeds the MAD of the full thumbnails by more
// than 1 (the rounding of the block means), so a bound of (Match+1)*16
// rules out non-matches without missing a match.
func coarseSAD(a, b *[16]uint8) int {
	s := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		s += max(d, -d)
	}
	return s
}

// Result reports whether a loop was seen.
func (l *Loop) Result() CueResult {
	n := len(l.frames)
	d := map[string]float64{"frames": float64(n)}
	if l.found {
		d["period_s"], d["share"] = seconds(l.period), l.share
		return CueResult{Name: "loop", Score: 0, Measured: true, Reason: ReasonInjection, Detail: d}
	}
	if n == 0 || l.frames[n-1].t.Sub(l.first) < l.cfg.MinPeriod+l.cfg.Window {
		return unmeasured("loop", ReasonInjection, d)
	}
	return CueResult{Name: "loop", Score: 1, Measured: true, Reason: ReasonInjection, Detail: d}
}
