package capture

import (
	"context"
	"errors"
	"image"
	"sync"
	"testing"
	"time"

	"vidid/engine"
)

// script is a fake pipeline: frame Seq n gets analyses[n].
type script struct {
	analyses []engine.Analysis
}

func (s *script) Analyze(ctx context.Context, f engine.Frame) (engine.Analysis, error) {
	return s.analyses[f.Seq], nil
}

func (s *script) Embed(ctx context.Context, f engine.Frame, face engine.Face) (engine.Embedding, error) {
	return engine.Embedding{Model: "fake", Metric: engine.Cosine, Vector: []float32{1}}, nil
}

type frames struct{ n, max int }

func (f *frames) Next(ctx context.Context) (engine.Frame, func(), error) {
	if f.n >= f.max {
		<-ctx.Done()
		return engine.Frame{}, nil, ctx.Err()
	}
	fr := engine.Frame{Width: 640, Height: 480, Pix: make([]byte, 640*480*3), Seq: uint64(f.n)}
	f.n++
	return fr, func() {}, nil
}

type sink struct {
	mu   sync.Mutex
	msgs []any
}

func (s *sink) Send(m any) error { s.mu.Lock(); s.msgs = append(s.msgs, m); s.mu.Unlock(); return nil }

func (s *sink) codes() []Code {
	var out []Code
	for _, m := range s.msgs {
		if g, ok := m.(GuidanceMsg); ok {
			out = append(out, g.Code)
		}
	}
	return out
}

// face returns an analysis with one centred, good face of the given height share.
func face(size float64, yaw float64) engine.Analysis {
	h := int(size * 480)
	b := image.Rect(320-h/2, 240-h/2, 320+h/2, 240+h/2)
	f := engine.Face{Box: b, Score: 0.99, Landmarks: make([]engine.Point, 68)}
	return engine.Analysis{Faces: []engine.Face{f}, Main: &f, Quality: engine.Quality{FacePx: h, FaceFraction: size, Sharpness: 50, Brightness: 120, Pose: engine.Pose{Yaw: yaw}}}
}

func repeat(a engine.Analysis, n int) []engine.Analysis {
	out := make([]engine.Analysis, n)
	for i := range out {
		out[i] = a
	}
	return out
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { c.t = c.t.Add(100 * time.Millisecond); return c.t }

func run(t *testing.T, cfg Config, as []engine.Analysis, live Liveness, pick int) (Result, *sink) {
	t.Helper()
	r := NewRunner(cfg, &script{as}, live)
	clk := &fakeClock{t: time.Unix(0, 0)}
	r.now = clk.now
	r.rand = func(n int) int { return pick % n }
	out := &sink{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return r.Run(ctx, &frames{max: len(as)}, out), out
}

func TestCaptureHappyPath(t *testing.T) {
	var as []engine.Analysis
	as = append(as, engine.Analysis{})          // no face first
	as = append(as, repeat(face(0.1, 0), 2)...) // too far
	as = append(as, repeat(face(0.35, 0), 4)...)
	as = append(as, face(0.45, 0))
	as = append(as, repeat(face(0.6, 0), 4)...)
	as = append(as, face(0.6, 20)) // turn_left done
	res, out := run(t, Config{Challenges: 1, MaxDuration: time.Minute}, as, nil, 0)
	if res.Outcome != OutcomeCaptured {
		t.Fatalf("outcome %s (%s), messages %v", res.Outcome, res.Reason, out.msgs)
	}
	if len(res.Best) != 3 || len(res.Embeddings) != 3 {
		t.Fatalf("kept %d frames, %d embeddings", len(res.Best), len(res.Embeddings))
	}
	// The fake clock advances 100 ms per reading: several clip frames, half size.
	if len(res.Clip) < 3 || len(res.Clip) > ClipFrames || res.Clip[0].Width != 320 || res.Clip[0].Validate() != nil {
		t.Fatalf("clip: %d frames, first %dx%d", len(res.Clip), res.Clip[0].Width, res.Clip[0].Height)
	}
	if res.SizeSmall != 0.35 || res.SizeLarge != 0.6 {
		t.Fatalf("sizes %v → %v", res.SizeSmall, res.SizeLarge)
	}
	codes := out.codes()
	for _, want := range []Code{CodeFaceNotFound, CodeMoveCloser, CodeHoldStill} {
		found := false
		for _, c := range codes {
			found = found || c == want
		}
		if !found {
			t.Errorf("guidance %v never sent: %v", want, codes)
		}
	}
	if len(res.Challenges) != 1 || res.Challenges[0] != ChallengeTurnLeft {
		t.Fatalf("challenges %v", res.Challenges)
	}
}

func TestCaptureFailures(t *testing.T) {
	two := face(0.35, 0)
	second := engine.Face{Box: image.Rect(0, 0, 100, 100)}
	two.Faces = append(two.Faces, second)
	two.Others = 1
	dark := face(0.35, 0)
	dark.Quality.Issues = []engine.QualityIssue{engine.IssueTooDark}
	approachThenWrongTurn := append(append(repeat(face(0.35, 0), 4), repeat(face(0.6, 0), 4)...), repeat(face(0.6, -25), 100)...)
	tests := []struct {
		name     string
		as       []engine.Analysis
		pick     int
		live     Liveness
		outcome  Outcome
		reason   string
		guidance Code
	}{
		{"no face until timeout", repeat(engine.Analysis{}, 5), 0, nil, OutcomeTimeout, "no_face", CodeFaceNotFound},
		{"two faces", repeat(two, 5), 0, nil, OutcomeTimeout, "multiple_faces", CodeOneFaceOnly},
		{"dark", repeat(dark, 5), 0, nil, OutcomeTimeout, "poor_light", CodeTooDark},
		{"never closer", repeat(face(0.35, 0), 20), 0, nil, OutcomeTimeout, "too_far", CodeMoveCloser},
		{"wrong challenge", approachThenWrongTurn, 0, nil, OutcomeLivenessFailed, "challenge_failed", ""},
		{"passive liveness fails", append(repeat(face(0.35, 0), 4), repeat(face(0.6, 0), 4)...), 0, constLive(0.05), OutcomeLivenessFailed, "liveness_failed", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Challenges: 1, MaxDuration: 300 * time.Millisecond, ChallengeTimeout: 2 * time.Second}
			if tc.name == "passive liveness fails" {
				cfg.Challenges = 0
			}
			res, out := run(t, cfg, tc.as, tc.live, tc.pick)
			if res.Outcome != tc.outcome || res.Reason != tc.reason {
				t.Fatalf("got %s/%s, want %s/%s (guidance %v)", res.Outcome, res.Reason, tc.outcome, tc.reason, out.codes())
			}
			if tc.guidance != "" {
				found := false
				for _, c := range out.codes() {
					found = found || c == tc.guidance
				}
				if !found {
					t.Fatalf("guidance %v not sent: %v", tc.guidance, out.codes())
				}
			}
		})
	}
}

type constLive float64

func (c constLive) Score(ctx context.Context, f engine.Frame, face engine.Face) (float64, error) {
	return float64(c), nil
}

type failingSource struct{}

func (failingSource) Next(ctx context.Context) (engine.Frame, func(), error) {
	return engine.Frame{}, nil, errors.New("peer disconnected")
}

func TestCaptureAbortedWhenPeerGoes(t *testing.T) {
	r := NewRunner(Config{}, &script{}, nil)
	res := r.Run(context.Background(), failingSource{}, &sink{})
	if res.Outcome != OutcomeAborted {
		t.Fatalf("outcome %s", res.Outcome)
	}
}

func TestEyeAspectRatio(t *testing.T) {
	p := make([]engine.Point, 68)
	eye := func(off int, x0, open float32) {
		p[off] = engine.Point{X: x0, Y: 100}
		p[off+3] = engine.Point{X: x0 + 30, Y: 100}
		p[off+1] = engine.Point{X: x0 + 10, Y: 100 - open}
		p[off+2] = engine.Point{X: x0 + 20, Y: 100 - open}
		p[off+5] = engine.Point{X: x0 + 10, Y: 100 + open}
		p[off+4] = engine.Point{X: x0 + 20, Y: 100 + open}
	}
	eye(36, 0, 5)
	eye(42, 60, 5)
	if e := EyeAspectRatio(p); e < 0.3 || e > 0.36 {
		t.Fatalf("open EAR %v", e)
	}
	eye(36, 0, 1)
	eye(42, 60, 1)
	if e := EyeAspectRatio(p); e > 0.1 {
		t.Fatalf("closed EAR %v", e)
	}
}
