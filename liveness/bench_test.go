package liveness

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"vidid/engine"
	"vidid/internal/testenv"
)

// benchStream is 240 s at 30 fps of moving, turning, approaching frames
// with random thumbnails: longer than the loop cue's history, so cycling
// through it never shows a loop, and every frame is new to the cues.
func benchStream() []Observation {
	rng := rand.New(rand.NewPCG(15, 16))
	head := face3D()
	out := make([]Observation, 240*30)
	for i := range out {
		o := Observation{Arrival: at(i, 30), RTPTimestamp: uint32(i * 3000), HasRTP: true, Width: 640, Height: 480, Faces: 1}
		for k := range o.Thumb {
			o.Thumb[k], o.FaceThumb[k] = byte(rng.IntN(256)), byte(rng.IntN(256))
		}
		for k := range o.Grain {
			o.Grain[k] = byte(rng.IntN(256))
		}
		o.PixHash = rng.Uint64()
		yaw := 25 * math.Sin(float64(i)/40)
		o.Landmarks = project(head, yaw, 60-float64(i%90)/3, 0.5, rng)
		o.Pose.Yaw, o.HasPose = yaw, true
		o.Face = image.Rect(220+i%20, 140, 420+i%20, 340)
		o.FaceColour = RGB{180 + 10*rng.Float64(), 130, 110}
		out[i] = o
	}
	return out
}

// benchCue times c.Observe per frame in steady state: half the stream
// first fills the cue's history, then frames keep coming.
func benchCue(b *testing.B, c Cue) {
	obs := benchStream()
	n := len(obs)
	for _, o := range obs[:n/2] {
		c.Observe(o)
	}
	i := n / 2
	testenv.ReportCPU(b, func() {
		o := &obs[i%n]
		o.Arrival, o.RTPTimestamp = at(i, 30), uint32(i*3000)
		c.Observe(*o)
		i++
	})
}

func BenchmarkLoop(b *testing.B)     { benchCue(b, NewLoop(LoopConfig{})) }
func BenchmarkFrozen(b *testing.B)   { benchCue(b, NewFrozen(FrozenConfig{})) }
func BenchmarkTiming(b *testing.B)   { benchCue(b, NewTiming(TimingConfig{})) }
func BenchmarkReaction(b *testing.B) { benchCue(b, NewReaction(ReactionConfig{})) }
func BenchmarkCamera(b *testing.B)   { benchCue(b, NewCamera()) }
func BenchmarkJump(b *testing.B)     { benchCue(b, NewJump(JumpConfig{})) }
func BenchmarkDepth(b *testing.B)    { benchCue(b, NewDepth(DepthConfig{})) }
func BenchmarkApproach(b *testing.B) { benchCue(b, NewApproach(ApproachConfig{})) }

func BenchmarkColour(b *testing.B) {
	seq, err := RandomColours(t0, ColourPlan{Steps: 1000})
	if err != nil {
		b.Fatal(err)
	}
	benchCue(b, NewColour(ColourConfig{}, seq))
}

// BenchmarkSet is every cue on one frame.
func BenchmarkSet(b *testing.B) {
	seq, err := RandomColours(t0, ColourPlan{Steps: 1000})
	if err != nil {
		b.Fatal(err)
	}
	benchCue(b, NewSet(Config{}, seq))
}

// BenchmarkResult is the cost of asking for each cue's result after 60 s
// of frames (once per attempt, or at each decision point).
func BenchmarkResult(b *testing.B) {
	seq, err := RandomColours(t0, ColourPlan{Steps: 120})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []Cue{NewLoop(LoopConfig{}), NewDepth(DepthConfig{}), NewApproach(ApproachConfig{}), NewColour(ColourConfig{}, seq)} {
		for _, o := range benchStream()[:1800] {
			c.Observe(o)
		}
		b.Run(c.Result().Name, func(b *testing.B) {
			testenv.ReportCPU(b, func() { c.Result() })
		})
	}
}

// BenchmarkNewObservation fills an observation from a 640x480 frame.
func BenchmarkNewObservation(b *testing.B) {
	rng := rand.New(rand.NewPCG(17, 18))
	f := engine.Frame{Width: 640, Height: 480, Pix: make([]byte, 640*480*3)}
	for i := range f.Pix {
		f.Pix[i] = byte(rng.IntN(256))
	}
	an := engine.Analysis{Faces: []engine.Face{{Box: image.Rect(220, 140, 420, 340), Landmarks: project(face3D(), 0, 60, 0, rng)}}}
	an.Main = &an.Faces[0]
	testenv.ReportCPU(b, func() { NewObservation(f, an) })
}
