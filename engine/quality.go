package engine

import (
	"fmt"
	"image"
	"math"
)

// QualityIssue names one reason a face is not good enough. The values are
// stable reason codes: the API, the capture page and the logs use them.
type QualityIssue string

const (
	IssueTooSmall   QualityIssue = "too_small"
	IssueBlurry     QualityIssue = "blurry"
	IssueTooDark    QualityIssue = "too_dark"
	IssueTooBright  QualityIssue = "too_bright"
	IssuePose       QualityIssue = "pose"
	IssueOffFrame   QualityIssue = "off_frame"
	IssueNoLandmark QualityIssue = "no_landmarks"
)

// QualityConfig holds the quality gate's limits. Zero values take the
// defaults of DefaultQualityConfig.
type QualityConfig struct {
	// MinFacePx is the smallest acceptable face box height in pixels.
	MinFacePx int
	// MinSharpness is the smallest variance of the Laplacian of the face,
	// measured on a grey copy scaled to 96 px height.
	MinSharpness float64
	// MinBrightness and MaxBrightness bound the mean luma (0..255) of the face.
	MinBrightness, MaxBrightness float64
	// MaxClipped is the largest share of face pixels at luma <= 5 or >= 250.
	MaxClipped float64
	// MaxYaw, MaxPitch, MaxRoll bound the pose estimated from landmarks, degrees.
	MaxYaw, MaxPitch, MaxRoll float64
	// SecondFaceRatio: another face counts as a second person when its box is
	// at least this share of the main face's height (and at least 24 px).
	SecondFaceRatio float64
}

// DefaultQualityConfig returns the documented defaults.
func DefaultQualityConfig() QualityConfig {
	return QualityConfig{
		MinFacePx:       64,
		MinSharpness:    12,
		MinBrightness:   45,
		MaxBrightness:   215,
		MaxClipped:      0.30,
		MaxYaw:          30,
		MaxPitch:        25,
		MaxRoll:         25,
		SecondFaceRatio: 0.25,
	}
}

func (c QualityConfig) withDefaults() QualityConfig {
	d := DefaultQualityConfig()
	if c.MinFacePx == 0 {
		c.MinFacePx = d.MinFacePx
	}
	if c.MinSharpness == 0 {
		c.MinSharpness = d.MinSharpness
	}
	if c.MinBrightness == 0 {
		c.MinBrightness = d.MinBrightness
	}
	if c.MaxBrightness == 0 {
		c.MaxBrightness = d.MaxBrightness
	}
	if c.MaxClipped == 0 {
		c.MaxClipped = d.MaxClipped
	}
	if c.MaxYaw == 0 {
		c.MaxYaw = d.MaxYaw
	}
	if c.MaxPitch == 0 {
		c.MaxPitch = d.MaxPitch
	}
	if c.MaxRoll == 0 {
		c.MaxRoll = d.MaxRoll
	}
	if c.SecondFaceRatio == 0 {
		c.SecondFaceRatio = d.SecondFaceRatio
	}
	return c
}

// Pose is a head pose estimate in degrees: yaw > 0 means the face is turned
// to the image's right, pitch > 0 means the chin is up, roll > 0 means the
// head is tilted clockwise in the image.
type Pose struct{ Yaw, Pitch, Roll float64 }

// Quality is the measured quality of one face.
type Quality struct {
	FacePx       int     `json:"face_px"`
	FaceFraction float64 `json:"face_fraction"` // box height / frame height
	Sharpness    float64 `json:"sharpness"`
	Brightness   float64 `json:"brightness"`
	Clipped      float64 `json:"clipped"`
	Pose         Pose    `json:"pose"`
	// Issues lists what fails the gate, most important first; empty = OK.
	Issues []QualityIssue `json:"issues,omitempty"`
}

// OK reports whether the face passed every check.
func (q Quality) OK() bool { return len(q.Issues) == 0 }

// Has reports whether the issue is among q.Issues.
func (q Quality) Has(i QualityIssue) bool {
	for _, x := range q.Issues {
		if x == i {
			return true
		}
	}
	return false
}

// MeasureQuality measures one face of f against cfg. It never fails: a face
// without landmarks gets IssueNoLandmark instead of a pose.
func MeasureQuality(f Frame, face Face, cfg QualityConfig) Quality {
	cfg = cfg.withDefaults()
	box := face.Box.Intersect(f.Bounds())
	q := Quality{FacePx: face.Box.Dy()}
	if f.Height > 0 {
		q.FaceFraction = float64(face.Box.Dy()) / float64(f.Height)
	}
	// The inner part of the box: skin, eyes, mouth; less background.
	inner := shrink(box, 0.15)
	q.Brightness, q.Clipped = lumaStats(f, inner)
	q.Sharpness = sharpness(f, inner)
	if len(face.Landmarks) == 68 {
		q.Pose = PoseFromLandmarks(face.Landmarks)
	}

	if box.Dx() < face.Box.Dx()*8/10 || box.Dy() < face.Box.Dy()*8/10 {
		q.Issues = append(q.Issues, IssueOffFrame)
	}
	if q.FacePx < cfg.MinFacePx {
		q.Issues = append(q.Issues, IssueTooSmall)
	}
	switch {
	case q.Brightness < cfg.MinBrightness:
		q.Issues = append(q.Issues, IssueTooDark)
	case q.Brightness > cfg.MaxBrightness || q.Clipped > cfg.MaxClipped:
		q.Issues = append(q.Issues, IssueTooBright)
	}
	if q.Sharpness < cfg.MinSharpness {
		q.Issues = append(q.Issues, IssueBlurry)
	}
	if len(face.Landmarks) != 68 {
		q.Issues = append(q.Issues, IssueNoLandmark)
	} else if math.Abs(q.Pose.Yaw) > cfg.MaxYaw || math.Abs(q.Pose.Pitch) > cfg.MaxPitch || math.Abs(q.Pose.Roll) > cfg.MaxRoll {
		q.Issues = append(q.Issues, IssuePose)
	}
	return q
}

func shrink(r image.Rectangle, frac float64) image.Rectangle {
	dx, dy := int(float64(r.Dx())*frac), int(float64(r.Dy())*frac)
	out := image.Rect(r.Min.X+dx, r.Min.Y+dy, r.Max.X-dx, r.Max.Y-dy)
	if out.Empty() {
		return r
	}
	return out
}

func luma(f Frame, x, y int) float64 {
	b, g, r := f.At(x, y)
	return 0.114*float64(b) + 0.587*float64(g) + 0.299*float64(r)
}

func lumaStats(f Frame, r image.Rectangle) (mean, clipped float64) {
	if r.Empty() {
		return 0, 0
	}
	// Sample on a grid of at most ~64x64 points: exact enough, cheap.
	sx, sy := max(1, r.Dx()/64), max(1, r.Dy()/64)
	var sum float64
	var n, clip int
	for y := r.Min.Y; y < r.Max.Y; y += sy {
		for x := r.Min.X; x < r.Max.X; x += sx {
			l := luma(f, x, y)
			sum += l
			if l <= 5 || l >= 250 {
				clip++
			}
			n++
		}
	}
	return sum / float64(n), float64(clip) / float64(n)
}

// sharpness is the variance of the 4-neighbour Laplacian of the region,
// resampled (nearest) to a 96 px high grey image so the figure does not
// depend on the face's size in pixels.
func sharpness(f Frame, r image.Rectangle) float64 {
	if r.Dx() < 3 || r.Dy() < 3 {
		return 0
	}
	const h = 96
	w := max(3, r.Dx()*h/max(1, r.Dy()))
	g := make([]float64, w*h)
	for y := 0; y < h; y++ {
		sy := r.Min.Y + y*r.Dy()/h
		for x := 0; x < w; x++ {
			g[y*w+x] = luma(f, r.Min.X+x*r.Dx()/w, sy)
		}
	}
	var sum, sum2 float64
	n := 0
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			l := g[i-1] + g[i+1] + g[i-w] + g[i+w] - 4*g[i]
			sum += l
			sum2 += l * l
			n++
		}
	}
	m := sum / float64(n)
	return sum2/float64(n) - m*m
}

// PoseFromLandmarks estimates head pose from 68 iBUG points with simple
// geometry (no 3-D model): roll from the eye line, yaw from where the nose
// tip sits between the jaw's two ends, pitch from where it sits between the
// eye line and the chin. Good to a few degrees near frontal, which is what
// a quality gate needs; the challenge step uses a pose model.
func PoseFromLandmarks(p []Point) Pose {
	if len(p) != 68 {
		return Pose{}
	}
	le, re := mean(p[36:42]), mean(p[42:48])
	roll := math.Atan2(float64(re.Y-le.Y), float64(re.X-le.X)) * 180 / math.Pi
	nose := p[30]
	jl, jr := p[0], p[16]
	span := float64(jr.X - jl.X)
	var yaw float64
	if span != 0 {
		r := (float64(nose.X-jl.X)/span - 0.5) * 2 // -1 .. 1
		yaw = math.Asin(math.Max(-1, math.Min(1, r))) * 180 / math.Pi
	}
	eyeY := (le.Y + re.Y) / 2
	chin := p[8]
	var pitch float64
	if d := float64(chin.Y - eyeY); d != 0 {
		// With the 68-point models used here, frontal faces put the nose tip
		// about 0.31 of the way from the eye line to the chin (median over
		// 342 LFW faces; quartiles 0.26 and 0.35); a raised chin moves it up.
		r := float64(nose.Y-eyeY) / d
		pitch = (0.31 - r) * 150
	}
	return Pose{Yaw: yaw, Pitch: pitch, Roll: roll}
}

func mean(ps []Point) Point {
	var x, y float32
	for _, p := range ps {
		x += p.X
		y += p.Y
	}
	n := float32(len(ps))
	return Point{x / n, y / n}
}

// String is a one-line summary for logs and the CLI.
func (q Quality) String() string {
	s := "ok"
	if !q.OK() {
		s = fmt.Sprint(q.Issues)
	}
	return fmt.Sprintf("%s (face %dpx, sharpness %.0f, brightness %.0f, yaw %.0f° pitch %.0f° roll %.0f°)",
		s, q.FacePx, q.Sharpness, q.Brightness, q.Pose.Yaw, q.Pose.Pitch, q.Pose.Roll)
}
