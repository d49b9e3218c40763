package liveness

import (
	"math"
	"sort"

	"vidid/engine"
)

// Landmark groups of the 68-point iBUG layout.
var (
	// facePlane are points near one plane of a real face, which a flat
	// picture shares: brows, eyes and mouth. The jaw is left out: on a
	// turned head it is a silhouette, not fixed points.
	facePlane = append(append(span(17, 26), span(36, 47)...), span(48, 59)...)
	// noseTip are the tip and base of the nose, in front of that plane.
	noseTip  = span(30, 35)
	leftEye  = span(36, 41)
	rightEye = span(42, 47)
	// inner points are the eyes, nose base and mouth corners; outer the
	// jaw contour.
	inner = append(append(append(span(36, 47), span(31, 35)...), 48), 54)
	outer = span(0, 16)
)

// DepthConfig configures the parallax cue. Zero values take the defaults.
type DepthConfig struct {
	// Frontal is the largest |yaw| of the reference frame (default 8°);
	// Turned the least |yaw| change a turned frame must show (default 12°);
	// MaxYaw the largest |yaw| used (default 40°: beyond it landmark models
	// guess the hidden side).
	Frontal, Turned, MaxYaw float64
	// Flat is the relative nose depth that scores 0 (default 0.06), Solid
	// the one that scores 1 (default 0.14). See Depth.
	Flat, Solid float64
}

func (c DepthConfig) withDefaults() DepthConfig {
	c.Frontal = orDefault(c.Frontal, 8)
	c.Turned = orDefault(c.Turned, 12)
	c.MaxYaw = orDefault(c.MaxYaw, 40)
	c.Flat = orDefault(c.Flat, 0.06)
	c.Solid = orDefault(c.Solid, 0.14)
	return c
}

// Depth is the parallax of a head turn. When a real head turns, the nose
// tip, well in front of the eyes and mouth, moves against them; a flat
// picture (a print, a phone or a screen held up and tilted) moves as a
// plane, and all its points are related by one homography. The cue keeps
// the most frontal frame and the most turned frame to each side (by
// Observation.Pose), fits the homography taking the frontal face-plane
// landmarks (brows, eyes, mouth) onto the turned ones, and measures how
// far the nose points land from where it sends them, in inter-ocular
// distances, divided by sin(yaw change): the nose's height over the face
// plane, as the homography leaves it. Measured: 0.21 for the s01
// recording's real head turns and 0.20 for a synthetic 3-D head; 0.03 for
// landmarks pressed flat and turned, and 0.04 (0.02 and 0.06 per side)
// for s01's frontal frame rendered as a photo turned ±30° and located by
// the real landmark model. The score ramps from Flat (0) to Solid (1); the
// reason is liveness_failed.
//
// What it misses: a replayed video of a real head (its landmarks carry the
// recorded parallax), a 3-D mask, a picture bent around a cylinder (some
// parallax). Landmark models trained on real faces "hallucinate" a little
// depth on flat turned faces, and the pose read from landmarks barely
// moves on a flat picture turned (s01's frame turned ±30° reads 1-6°):
// with the landmark yaw, a flat picture is usually not measured at all
// (nothing counts as turned), which is what the turn prompts already rely
// on; a pose model's yaw (liveness/ocv) lets this cue measure it.
//
// Cost: per frame, a comparison and at most a copy of 68 points; Result
// fits two 8-parameter least-squares homographies.
type Depth struct {
	cfg         DepthConfig
	front       pose68
	left, right pose68 // most turned to the image's left (yaw < 0) and right
}

// pose68 is one frame's landmarks and yaw.
type pose68 struct {
	yaw float64
	lm  []engine.Point
}

// NewDepth returns a parallax cue.
func NewDepth(cfg DepthConfig) *Depth { return &Depth{cfg: cfg.withDefaults()} }

// Observe adds one frame.
func (d *Depth) Observe(o Observation) {
	y := o.Pose.Yaw
	if len(o.Landmarks) != 68 || !o.HasPose || o.Faces > 1 || math.Abs(y) > d.cfg.MaxYaw {
		return
	}
	keep := func(p *pose68) {
		p.yaw = y
		p.lm = append(p.lm[:0], o.Landmarks...)
	}
	if math.Abs(y) <= d.cfg.Frontal && (d.front.lm == nil || math.Abs(y) < math.Abs(d.front.yaw)) {
		keep(&d.front)
	}
	if y < 0 && (d.left.lm == nil || y < d.left.yaw) {
		keep(&d.left)
	}
	if y > 0 && (d.right.lm == nil || y > d.right.yaw) {
		keep(&d.right)
	}
}

// Result scores the mean relative nose depth over the sides turned far
// enough.
func (d *Depth) Result() CueResult {
	det := map[string]float64{}
	if d.front.lm == nil {
		return unmeasured("depth", ReasonLivenessFailed, det)
	}
	var sum float64
	n := 0
	for _, side := range []struct {
		name string
		p    *pose68
	}{{"left", &d.left}, {"right", &d.right}} {
		turn := math.Abs(side.p.yaw - d.front.yaw)
		if side.p.lm == nil || turn < d.cfg.Turned {
			continue
		}
		depth, ok := noseDepth(d.front.lm, side.p.lm, turn)
		if !ok {
			continue
		}
		det[side.name+"_depth"], det[side.name+"_yaw"] = depth, side.p.yaw
		sum += depth
		n++
	}
	if n == 0 {
		return unmeasured("depth", ReasonLivenessFailed, det)
	}
	mean := sum / float64(n)
	det["depth"] = mean
	return CueResult{Name: "depth", Score: ramp(mean, d.cfg.Flat, d.cfg.Solid), Measured: true,
		Reason: ReasonLivenessFailed, Detail: det}
}

// noseDepth is the nose points' mean distance from where the face plane's
// homography (front → turned) sends them, in inter-ocular distances of
// the frontal face, divided by sin(turn degrees).
func noseDepth(front, turned []engine.Point, turn float64) (float64, bool) {
	h, err := fitHomography(front, turned, facePlane)
	if err != nil {
		return 0, false
	}
	iod := dist(centroid(front, leftEye), centroid(front, rightEye))
	if iod == 0 {
		return 0, false
	}
	var r float64
	for _, i := range noseTip {
		x, y := h.apply(float64(front[i].X), float64(front[i].Y))
		r += math.Hypot(x-float64(turned[i].X), y-float64(turned[i].Y))
	}
	r /= float64(len(noseTip))
	return r / iod / math.Sin(turn*math.Pi/180), true
}

// ApproachConfig configures the approach-perspective cue. Zero values
// take the defaults.
type ApproachConfig struct {
	// MinScale is the least growth of the face (inter-ocular distance,
	// largest quarter of frames over smallest) that is measured
	// (default 1.3).
	MinScale float64
	// Flat is the perspective gain that scores 0 (default 0.015), Solid
	// the one that scores 1 (default 0.05). See Approach.
	Flat, Solid float64
	// MaxYaw is the largest |yaw| of a frame used (default 10°): turning
	// changes the spreads more than distance does.
	MaxYaw float64
}

func (c ApproachConfig) withDefaults() ApproachConfig {
	c.MinScale = orDefault(c.MinScale, 1.3)
	c.Flat = orDefault(c.Flat, 0.015)
	c.Solid = orDefault(c.Solid, 0.05)
	c.MaxYaw = orDefault(c.MaxYaw, 10)
	return c
}

// Approach is the perspective of the approach (small oval → large oval).
// Coming closer to a camera magnifies near things more than far ones: the
// eyes, nose and mouth (inner) grow more than the jaw contour (outer),
// which lies several centimetres further back. A flat picture brought
// closer, or a digital zoom, scales everything alike. Per frontal frame the
// cue takes the ratio of the inner landmarks' spread to the outer ones';
// between the smallest and largest quarter of frames (by inter-ocular
// distance) the ratio of medians grows by g for a real face. The
// perspective gain is g / (scale - 1): about (jaw depth − eye depth) /
// distance, 0.05-0.1 at arm's length, 0 for a flat picture. The score
// ramps from Flat (0) to Solid (1); the reason is liveness_failed.
//
// It needs a real change of distance (MinScale), and reads a weak effect:
// landmark noise on the jaw contour is of the same order as the gain at a
// 1.3x approach, so it is measured as a median over frames. It misses a
// replayed video of a real approach (the recording has the perspective),
// and a curved print held close. Beards and hair over the jaw move the
// contour landmarks.
//
// Cost: per frame, two spreads of 17 points and an append; Result sorts.
type Approach struct {
	cfg    ApproachConfig
	frames []approachFrame
}

type approachFrame struct{ iod, ratio float64 }

// maxApproachFrames bounds the frames kept (an attempt is shorter).
const maxApproachFrames = 4096

// NewApproach returns an approach-perspective cue.
func NewApproach(cfg ApproachConfig) *Approach { return &Approach{cfg: cfg.withDefaults()} }

// Observe adds one frame.
func (a *Approach) Observe(o Observation) {
	if len(o.Landmarks) != 68 || !o.HasPose || math.Abs(o.Pose.Yaw) > a.cfg.MaxYaw || o.Faces > 1 || len(a.frames) >= maxApproachFrames {
		return
	}
	iod := dist(centroid(o.Landmarks, leftEye), centroid(o.Landmarks, rightEye))
	out := spread(o.Landmarks, outer)
	if iod == 0 || out == 0 {
		return
	}
	a.frames = append(a.frames, approachFrame{iod: iod, ratio: spread(o.Landmarks, inner) / out})
}

// spread is the mean distance of the points idx from their centroid.
func spread(p []engine.Point, idx []int) float64 {
	c := centroid(p, idx)
	var s float64
	for _, i := range idx {
		s += dist(p[i], c)
	}
	return s / float64(len(idx))
}

// Result compares the smallest and largest quarter of frames.
func (a *Approach) Result() CueResult {
	d := map[string]float64{"frames": float64(len(a.frames))}
	if len(a.frames) < 8 {
		return unmeasured("approach", ReasonLivenessFailed, d)
	}
	fs := append([]approachFrame(nil), a.frames...)
	sort.Slice(fs, func(i, j int) bool { return fs[i].iod < fs[j].iod })
	q := len(fs) / 4
	small, large := fs[:q], fs[len(fs)-q:]
	scale := medianOf(large, func(f approachFrame) float64 { return f.iod }) / medianOf(small, func(f approachFrame) float64 { return f.iod })
	d["scale"] = scale
	if scale < a.cfg.MinScale {
		return unmeasured("approach", ReasonLivenessFailed, d)
	}
	g := medianOf(large, func(f approachFrame) float64 { return f.ratio })/medianOf(small, func(f approachFrame) float64 { return f.ratio }) - 1
	gain := g / (scale - 1)
	d["ratio_change"], d["gain"] = g, gain
	return CueResult{Name: "approach", Score: ramp(gain, a.cfg.Flat, a.cfg.Solid), Measured: true,
		Reason: ReasonLivenessFailed, Detail: d}
}

// medianOf is the median of v over xs (not empty).
func medianOf[T any](xs []T, v func(T) float64) float64 {
	s := make([]float64, len(xs))
	for i, x := range xs {
		s[i] = v(x)
	}
	sort.Float64s(s)
	return s[len(s)/2]
}
