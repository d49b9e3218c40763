package capture

import (
	"context"
	"errors"
	"image"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"vidid/engine"
	"vidid/reason"
)

// script is a fake pipeline: frame Seq n gets analyses[n]; its embedding
// is vecs[n] when set (else [1]), and embedFails[n] makes Embed fail.
type script struct {
	analyses   []engine.Analysis
	vecs       map[uint64][]float32
	embedFails map[uint64]bool
}

func (s *script) Analyze(ctx context.Context, f engine.Frame) (engine.Analysis, error) {
	return s.analyses[f.Seq], nil
}

func (s *script) Embed(ctx context.Context, f engine.Frame, face engine.Face) (engine.Embedding, error) {
	if s.embedFails[f.Seq] {
		return engine.Embedding{}, errors.New("cannot align")
	}
	v, ok := s.vecs[f.Seq]
	if !ok {
		v = []float32{1, 0}
	}
	return engine.Embedding{Model: "fake", Metric: engine.Cosine, Vector: v}, nil
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
	r := NewRunner(cfg, &script{analyses: as}, live)
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
	as = append(as, face(0.6, 0))  // the prompt appears; the head is straight
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
		reason   reason.Code
		guidance Code
	}{
		{"no face until timeout", repeat(engine.Analysis{}, 5), 0, nil, OutcomeTimeout, "no_face", CodeFaceNotFound},
		{"two faces", repeat(two, 5), 0, nil, OutcomeTimeout, "multiple_faces", CodeOneFaceOnly},
		{"two faces, then none", append(repeat(two, 2), repeat(engine.Analysis{}, 3)...), 0, nil, OutcomeTimeout, "multiple_faces", CodeFaceNotFound},
		{"two faces once, then none", append(repeat(two, 1), repeat(engine.Analysis{}, 4)...), 0, nil, OutcomeTimeout, "no_face", CodeFaceNotFound},
		{"dark", repeat(dark, 5), 0, nil, OutcomeTimeout, "poor_light", CodeTooDark},
		{"never closer", repeat(face(0.35, 0), 20), 0, nil, OutcomeTimeout, "too_far", CodeMoveCloser},
		{"wrong challenge", approachThenWrongTurn, 0, nil, OutcomeLivenessFailed, "challenge_failed", ""},
		// The capture measures passive liveness; the decision policy judges it.
		{"passive liveness measured", append(repeat(face(0.35, 0), 4), repeat(face(0.6, 0), 4)...), 0, constLive(0.05), OutcomeCaptured, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Challenges: 1, MaxDuration: 300 * time.Millisecond, ChallengeTimeout: 2 * time.Second}
			if tc.live != nil {
				cfg.Challenges = 0
			}
			res, out := run(t, cfg, tc.as, tc.live, tc.pick)
			if res.Outcome != tc.outcome || res.Reason != tc.reason {
				t.Fatalf("got %s/%s, want %s/%s (guidance %v)", res.Outcome, res.Reason, tc.outcome, tc.reason, out.codes())
			}
			if tc.live != nil {
				if c := res.Cues["passive"]; !c.Measured || math.Abs(c.Score-0.05) > 1e-9 || c.Frames != 4 {
					t.Fatalf("passive cue %+v, want 0.05 measured over the 4 large-oval frames", c)
				}
			} else if _, ok := res.Cues["passive"]; ok {
				t.Fatal("no scorer: no passive cue")
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

// The person doing the prompts must be the one in the kept frames: the
// capture measures how alike they are (the policy's same-person bar
// judges it). The face compared is the most frontal one seen during each
// prompt.
func TestCaptureSamePerson(t *testing.T) {
	var as []engine.Analysis
	as = append(as, repeat(face(0.35, 0), 4)...)
	as = append(as, repeat(face(0.6, 0), 4)...) // frames 4–7 kept
	as = append(as, face(0.6, 5))               // frame 8: the prompt starts, nearly frontal
	as = append(as, face(0.6, 20))              // frame 9: turn_left done
	as = append(as, face(0.6, 20))              // frame 10: the same, if 9 could not complete it
	victim := []float32{1, 0}                   // the kept frames
	other := []float32{0, 1}                    // cosine 0 with the kept frames: score 0.5
	tests := []struct {
		name       string
		samePerson float64
		vecs       map[uint64][]float32
		fails      map[uint64]bool
		outcome    Outcome
		reason     reason.Code
		score      float64
	}{
		{"same person", 0.62, nil, nil, OutcomeCaptured, "", 1},
		{"another face during the prompt", 0.62, map[uint64][]float32{8: other, 9: other}, nil, OutcomeCaptured, "", 0.5},
		{"a similar face passes", 0.62, map[uint64][]float32{8: {0.8, 0.6}}, nil, OutcomeCaptured, "", 0.9},
		// Only the frontal face counts: a turned face scores low even for
		// the same person, so it is not compared.
		{"turned face not compared", 0.62, map[uint64][]float32{9: other}, nil, OutcomeCaptured, "", 1},
		{"check off", 0, map[uint64][]float32{8: other, 9: other}, nil, OutcomeCaptured, "", -1},
		{"unalignable frontal frame: the next frames decide", 0.62, map[uint64][]float32{8: victim, 10: other}, map[uint64]bool{8: true}, OutcomeCaptured, "", 0.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRunner(Config{Challenges: 1, MaxDuration: time.Minute, MeasureSamePerson: tc.samePerson > 0}, &script{as, tc.vecs, tc.fails}, nil)
			clk := &fakeClock{t: time.Unix(0, 0)}
			r.now = clk.now
			r.rand = func(n int) int { return 0 } // turn_left
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			res := r.Run(ctx, &frames{max: len(as)}, &sink{})
			if res.Outcome != tc.outcome || res.Reason != tc.reason {
				t.Fatalf("outcome %s (%s), want %s (%s)", res.Outcome, res.Reason, tc.outcome, tc.reason)
			}
			if math.Abs(res.SamePerson-tc.score) > 1e-6 {
				t.Errorf("SamePerson = %v, want %v", res.SamePerson, tc.score)
			}
		})
	}
}

func TestParseChallenges(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []ChallengeCode
		ok   bool
	}{
		{"turn_left,turn_right", []ChallengeCode{ChallengeTurnLeft, ChallengeTurnRight}, true},
		{" blink ", []ChallengeCode{ChallengeBlink}, true},
		{"", nil, true},
		{"turn_left,nod", nil, false},
		{"blink,blink", nil, false},
	} {
		got, err := ParseChallenges(tc.in)
		if (err == nil) != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("ParseChallenges(%q) = %v, %v", tc.in, got, err)
		}
	}
	// Only the listed kinds are drawn.
	as := append(repeat(face(0.35, 0), 4), repeat(face(0.6, 0), 4)...)
	for range 3 { // straight, then turn_right done, each time
		as = append(as, face(0.6, 0), face(0.6, -20))
	}
	for pick := 0; pick < 3; pick++ {
		res, _ := run(t, Config{Challenges: 3, ChallengeKinds: []ChallengeCode{ChallengeTurnRight}, MaxDuration: time.Minute}, as, nil, pick)
		if res.Outcome != OutcomeCaptured || !slices.Equal(res.Challenges, []ChallengeCode{ChallengeTurnRight, ChallengeTurnRight, ChallengeTurnRight}) {
			t.Fatalf("pick %d: %s (%s), challenges %v", pick, res.Outcome, res.Reason, res.Challenges)
		}
	}
}

// A turn prompt needs a movement: a head already turned when the prompt
// appears (held from the previous prompt, or a photo of a turned head)
// does not pass it until it has been straight.
func TestCaptureTurnNeedsMovement(t *testing.T) {
	base := append(repeat(face(0.35, 0), 4), repeat(face(0.6, 0), 4)...)
	held := append(append([]engine.Analysis(nil), base...), repeat(face(0.6, 25), 6)...)
	res, _ := run(t, Config{Challenges: 1, MaxDuration: time.Minute, ChallengeTimeout: 300 * time.Millisecond}, held, nil, 0)
	if res.Outcome == OutcomeCaptured || len(res.Challenges) != 0 {
		t.Fatalf("a held turn passed: %s, challenges %v", res.Outcome, res.Challenges)
	}
	moved := append(append([]engine.Analysis(nil), base...), face(0.6, 25), face(0.6, 3), face(0.6, 25))
	res, _ = run(t, Config{Challenges: 1, MaxDuration: time.Minute}, moved, nil, 0)
	if res.Outcome != OutcomeCaptured || len(res.Challenges) != 1 {
		t.Fatalf("turned, straight, turned again: %s (%s), challenges %v", res.Outcome, res.Reason, res.Challenges)
	}
}
