package liveness

import (
	"hash/maphash"
	"image"
	"time"

	"vidid/engine"
)

// Thumbnail and grain sizes (see Observation).
const (
	ThumbSide = 16
	GrainW    = 32
	GrainH    = 24
)

// Thumb is a ThumbSide x ThumbSide grey thumbnail, row-major: each byte is
// the mean luma of one block (estimated from a 4x4 grid of pixels in it).
type Thumb [ThumbSide * ThumbSide]uint8

// MAD is the mean absolute difference between two thumbnails, in grey
// levels (0 = equal, 255 = black against white).
func (t *Thumb) MAD(u *Thumb) float64 {
	var s int
	for i := range t {
		d := int(t[i]) - int(u[i])
		if d < 0 {
			d = -d
		}
		s += d
	}
	return float64(s) / float64(len(t))
}

// RGB is a mean colour, each channel 0..255.
type RGB struct{ R, G, B float64 }

// PromptKind says what happened to a prompt.
type PromptKind int

// Prompt event kinds.
const (
	// PromptSent: the server sent the prompt to the page.
	PromptSent PromptKind = iota + 1
	// PromptAnswered: the capture saw the prompt done.
	PromptAnswered
)

// PromptEvent is one event of an active prompt, on the server's clock.
type PromptEvent struct {
	// Index numbers the prompts of an attempt (1, 2, …): it ties an
	// answer to its prompt.
	Index int
	// Code is the prompt ("turn_left", "turn_right", "blink").
	Code string
	Kind PromptKind
	At   time.Time
}

// Observation is what the cues need of one analysed frame. The capture path
// fills it from the frame and its analysis (NewObservation) and adds what
// only it knows (prompt events, the camera label). Every field is cheap:
// the pixels themselves are not kept.
type Observation struct {
	// Arrival is when the server received (decoded) the frame, on the
	// server's clock: engine.Frame.Time.
	Arrival time.Time
	// RTPTimestamp is the sender's RTP timestamp of the frame (90 kHz),
	// valid when HasRTP: engine.Frame.RTPTimestamp.
	RTPTimestamp uint32
	HasRTP       bool
	// Width, Height are the frame's size in pixels.
	Width, Height int
	// PixHash is a hash of every fourth row of the frame: two equal hashes
	// mean (all but certainly) byte-identical frames, since a camera's
	// noise reaches every row. It is seeded per process, so hashes compare
	// only within one process.
	PixHash uint64
	// Thumb is the whole frame as a grey thumbnail, FaceThumb the main
	// face's box (zero when there is no face). Block means: robust to
	// noise and to re-encoding, for matching frames and faces.
	Thumb, FaceThumb Thumb
	// Grain holds luma point samples (no averaging) on a fixed GrainW x
	// GrainH grid over the frame, row-major: sensor noise survives in
	// them, so a frame whose samples all equal the previous frame's is a
	// frozen or synthetic picture, not a camera's.
	Grain [GrainW * GrainH]uint8
	// Face is the main face's box (empty: no face); Faces counts all
	// detected faces.
	Face  image.Rectangle
	Faces int
	// Landmarks are the main face's 68 iBUG points, or nil.
	Landmarks []engine.Point
	// Pose is the main face's pose (engine.Quality.Pose), valid when
	// HasPose.
	Pose    engine.Pose
	HasPose bool
	// FaceColour is the mean colour of the inner part of the main face's
	// box (zero without a face).
	FaceColour RGB
	// Prompts are the prompt events since the previous observation.
	Prompts []PromptEvent
	// CameraLabel is the camera label the page reported (MediaStreamTrack
	// label), set on any observation once it is known; "" = not known.
	CameraLabel string
}

// seed is this process's PixHash seed.
var seed = maphash.MakeSeed()

// NewObservation fills an Observation from a frame and its analysis: time,
// RTP timestamp, size, hashes, thumbnails, grain, the main face's box,
// landmarks, pose and colour. The caller adds Prompts and CameraLabel. It
// reads about 6,000 pixels and hashes a quarter of the frame's rows (see
// BenchmarkNewObservation).
func NewObservation(f engine.Frame, an engine.Analysis) Observation {
	o := Observation{Arrival: f.Time, RTPTimestamp: f.RTPTimestamp, HasRTP: f.HasRTP,
		Width: f.Width, Height: f.Height, Faces: len(an.Faces)}
	if f.Validate() != nil {
		return o
	}
	o.PixHash = rowHash(f)
	thumb(f, f.Bounds(), &o.Thumb)
	for gy := 0; gy < GrainH; gy++ {
		y := (2*gy + 1) * f.Height / (2 * GrainH)
		for gx := 0; gx < GrainW; gx++ {
			o.Grain[gy*GrainW+gx] = luma(f, (2*gx+1)*f.Width/(2*GrainW), y)
		}
	}
	if an.Main == nil {
		return o
	}
	box := an.Main.Box.Intersect(f.Bounds())
	if box.Empty() {
		return o
	}
	o.Face = box
	thumb(f, box, &o.FaceThumb)
	o.FaceColour = meanColour(f, inset(box, 0.2))
	if len(an.Main.Landmarks) == 68 {
		o.Landmarks = append([]engine.Point(nil), an.Main.Landmarks...)
		o.Pose, o.HasPose = an.Quality.Pose, true
	}
	return o
}

// rowHash hashes every fourth row of f.
func rowHash(f engine.Frame) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	row := f.Width * 3
	for y := 0; y < f.Height; y += 4 {
		_, _ = h.Write(f.Pix[y*row : (y+1)*row])
	}
	return h.Sum64()
}

// luma is the BT.601 luma of pixel (x, y).
func luma(f engine.Frame, x, y int) uint8 {
	b, g, r := f.At(x, y)
	return uint8((29*int(b) + 150*int(g) + 77*int(r)) >> 8)
}

// thumb fills t with the block means of r (inside f), each estimated from
// a 4x4 grid of pixels.
func thumb(f engine.Frame, r image.Rectangle, t *Thumb) {
	w, h := r.Dx(), r.Dy()
	for by := 0; by < ThumbSide; by++ {
		for bx := 0; bx < ThumbSide; bx++ {
			s := 0
			for sy := 0; sy < 4; sy++ {
				y := r.Min.Y + (by*4+sy)*h/(4*ThumbSide) + h/(8*ThumbSide)
				for sx := 0; sx < 4; sx++ {
					x := r.Min.X + (bx*4+sx)*w/(4*ThumbSide) + w/(8*ThumbSide)
					s += int(luma(f, x, y))
				}
			}
			t[by*ThumbSide+bx] = uint8(s / 16)
		}
	}
}

// inset shrinks r by share of its size on every side.
func inset(r image.Rectangle, share float64) image.Rectangle {
	dx, dy := int(float64(r.Dx())*share), int(float64(r.Dy())*share)
	return image.Rect(r.Min.X+dx, r.Min.Y+dy, r.Max.X-dx, r.Max.Y-dy)
}

// meanColour is the mean colour of r over a grid of at most 32x32 pixels.
func meanColour(f engine.Frame, r image.Rectangle) RGB {
	if r.Empty() {
		return RGB{}
	}
	sx, sy := max(1, r.Dx()/32), max(1, r.Dy()/32)
	var c RGB
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y += sy {
		for x := r.Min.X; x < r.Max.X; x += sx {
			b, g, rr := f.At(x, y)
			c.R += float64(rr)
			c.G += float64(g)
			c.B += float64(b)
			n++
		}
	}
	return RGB{c.R / float64(n), c.G / float64(n), c.B / float64(n)}
}
