package liveness

import (
	"math"
	"time"
)

// rtpClock is the RTP clock rate of video, per second.
const rtpClock = 90000

// TimingConfig configures the timing cue. Zero values take the defaults.
type TimingConfig struct {
	// MinSpan is how long the cue must watch to say anything (default 3 s).
	MinSpan time.Duration
	// Drift is the |RTP rate / arrival rate - 1| tolerated in full
	// (default 0.05); MaxDrift the one that scores 0 (default 0.15).
	Drift, MaxDrift float64
	// MinFPS and MaxFPS bound the frame rate by the RTP clock (defaults 3
	// and 65): the capture may analyse fewer frames than the camera sends,
	// so MinFPS is low.
	MinFPS, MaxFPS float64
	// MinJitter is the least spread (standard deviation) of arrivals about
	// the RTP clock a network path shows (default 0.2 ms); less halves the
	// score.
	MinJitter time.Duration
}

func (c TimingConfig) withDefaults() TimingConfig {
	c.MinSpan = orDefault(c.MinSpan, 3*time.Second)
	c.Drift = orDefault(c.Drift, 0.05)
	c.MaxDrift = orDefault(c.MaxDrift, 0.15)
	c.MinFPS = orDefault(c.MinFPS, 3)
	c.MaxFPS = orDefault(c.MaxFPS, 65)
	c.MinJitter = orDefault(c.MinJitter, 200*time.Microsecond)
	return c
}

// Timing compares frame arrival (the server's clock) with the sender's
// RTP timestamps. A browser stamps each frame with its capture time, so
// over seconds the RTP clock advances at the wall clock's rate and frames
// arrive with some network jitter. Tools that push a file or generated
// frames often get this wrong: timestamps from the file's own rate while
// sending faster or slower, timestamps that go backwards at a splice or a
// loop, a frame rate no camera has, or arrivals with no jitter at all.
//
// The rate is the least-squares slope of RTP time against arrival time, so
// a burst after a network stall does not move it much; long stalls still
// can (hence MinSpan). A tool that paces frames in real time with
// consistent timestamps passes: this cue only catches careless injection.
//
// Cost: a few additions per frame.
type Timing struct {
	cfg     TimingConfig
	n       int
	t0      time.Time
	rtp     int64 // unwrapped RTP time of the last frame
	last    uint32
	back    int // timestamps that went backwards
	sx, sy  float64
	sxx     float64
	sxy     float64
	syy     float64
	lastArr float64
	span    float64 // RTP seconds spanned
}

// NewTiming returns a timing cue.
func NewTiming(cfg TimingConfig) *Timing { return &Timing{cfg: cfg.withDefaults()} }

// Observe adds one frame; frames without an RTP timestamp are ignored.
func (m *Timing) Observe(o Observation) {
	if !o.HasRTP {
		return
	}
	if m.n == 0 {
		m.t0, m.last = o.Arrival, o.RTPTimestamp
	}
	d := int32(o.RTPTimestamp - m.last) // modular: survives the 32-bit wrap
	if d < 0 {
		m.back++
	}
	m.rtp += int64(d)
	m.last = o.RTPTimestamp
	x := seconds(o.Arrival.Sub(m.t0))
	y := float64(m.rtp) / rtpClock
	m.n++
	m.sx += x
	m.sy += y
	m.sxx += x * x
	m.sxy += x * y
	m.syy += y * y
	m.lastArr = x
	m.span = y
}

// Result scores the rate, the frame rate, monotony and jitter.
func (m *Timing) Result() CueResult {
	d := map[string]float64{"frames": float64(m.n), "backwards": float64(m.back)}
	if m.n < 3 || m.lastArr < seconds(m.cfg.MinSpan) {
		return unmeasured("timing", ReasonInjection, d)
	}
	n := float64(m.n)
	vx := m.sxx - m.sx*m.sx/n
	cxy := m.sxy - m.sx*m.sy/n
	vy := m.syy - m.sy*m.sy/n
	rate := cxy / vx
	// Residual spread of RTP time about the fit, as a time.
	res := math.Sqrt(math.Max(0, (vy-cxy*cxy/vx)/n))
	fps := (n - 1) / math.Max(m.span, 1e-9)
	d["rate"], d["jitter_ms"], d["fps"] = rate, res*1000, fps
	s := ramp(math.Abs(rate-1), m.cfg.MaxDrift, m.cfg.Drift)
	if m.back > 0 || fps > m.cfg.MaxFPS || fps < m.cfg.MinFPS {
		s = 0
	}
	if res < seconds(m.cfg.MinJitter) {
		s /= 2
	}
	return CueResult{Name: "timing", Score: s, Measured: true, Reason: ReasonInjection, Detail: d}
}
