package capture

import (
	"context"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"vidid/engine"
	"vidid/liveness"
)

// seqScorer scores frame Seq n as scores[n] (0.9 when unset) and records
// which frames it scored.
type seqScorer struct {
	mu     sync.Mutex
	scores map[uint64]float64
	scored []uint64
}

func (s *seqScorer) Score(ctx context.Context, f engine.Frame, face engine.Face) (float64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scored = append(s.scored, f.Seq)
	if v, ok := s.scores[f.Seq]; ok {
		return v, nil
	}
	return 0.9, nil
}

// multiScorer is a seqScorer that reports two models: V2 is the score,
// V1SE its square, Fused their mean.
type multiScorer struct{ seqScorer }

func (m *multiScorer) ScoreAll(ctx context.Context, f engine.Frame, face engine.Face) (liveness.Scores, error) {
	s, err := m.Score(ctx, f, face)
	return liveness.Scores{V2: s, V1SE: s * s, Fused: (s + s*s) / 2}, err
}

var _ liveness.MultiScorer = (*multiScorer)(nil)

// inboxSink is a sink whose page reports a camera label as soon as the
// capture listens.
type inboxSink struct {
	sink
	label string
}

func (s *inboxSink) OnMessage(f func([]byte)) {
	if f != nil && s.label != "" {
		f([]byte(`{"type":"camera","label":"` + s.label + `"}`))
	}
}

func TestCaptureLivenessWiring(t *testing.T) {
	small := repeat(face(0.35, 0), 4) // frames 0–3
	large := repeat(face(0.6, 0), 4)  // frames 4–7
	noFace := engine.Analysis{}       // never scored
	blurry := face(0.6, 0)            // in the large oval, not kept, still scored
	blurry.Quality.Issues = []engine.QualityIssue{engine.IssueBlurry}
	withPrompt := append(append(slices.Clone(small), large...), face(0.6, 0), face(0.6, 20)) // 8: prompt, 9: turn_left done
	oval := func(extra ...engine.Analysis) []engine.Analysis {
		return append(append(slices.Clone(small), extra...), large...)
	}
	tests := []struct {
		name       string
		as         []engine.Analysis
		challenges int
		multi      bool
		scores     map[uint64]float64
		label      string
		wantScored []uint64
		wantPrompt bool // the reaction cue saw a prompt sent, then answered
		wantCamera float64
	}{
		{name: "large oval only", as: oval(), wantScored: []uint64{4, 5, 6, 7}},
		{name: "frames the oval does not keep are scored", as: oval(blurry, noFace), scores: map[uint64]float64{4: 0.1},
			wantScored: []uint64{4, 6, 7, 8, 9}},
		{name: "prompt frames are scored", as: withPrompt, challenges: 1, scores: map[uint64]float64{8: 0.2, 9: 0.3},
			wantScored: []uint64{4, 5, 6, 7, 8, 9}, wantPrompt: true},
		{name: "per-model cues", as: withPrompt, challenges: 1, multi: true, scores: map[uint64]float64{5: 0.5},
			wantScored: []uint64{4, 5, 6, 7, 8, 9}, wantPrompt: true},
		{name: "virtual camera label", as: oval(), label: "fake_device_0", wantScored: []uint64{4, 5, 6, 7}, wantCamera: 0},
		{name: "real camera label", as: oval(), label: "Integrated Webcam", wantScored: []uint64{4, 5, 6, 7}, wantCamera: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := &multiScorer{seqScorer{scores: tc.scores}}
			var live Liveness = &base.seqScorer
			if tc.multi {
				live = base
			}
			r := NewRunner(Config{Challenges: tc.challenges, MaxDuration: time.Minute, PassiveCue: "minifasnet"}, &script{analyses: tc.as}, live)
			clk := &fakeClock{t: time.Unix(0, 0)}
			r.now = clk.now
			r.rand = func(n int) int { return 0 } // turn_left
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			res := r.Run(ctx, &frames{max: len(tc.as)}, &inboxSink{label: tc.label})
			if res.Outcome != OutcomeCaptured {
				t.Fatalf("outcome %s (%s)", res.Outcome, res.Reason)
			}
			if !slices.Equal(base.scored, tc.wantScored) {
				t.Fatalf("scored frames %v, want %v", base.scored, tc.wantScored)
			}
			var fused, v2, v1se []float64
			for _, seq := range tc.wantScored {
				s, ok := tc.scores[seq]
				if !ok {
					s = 0.9
				}
				v2, v1se, fused = append(v2, s), append(v1se, s*s), append(fused, s)
				if tc.multi {
					fused[len(fused)-1] = (s + s*s) / 2
				}
			}
			want := map[string][]float64{"minifasnet": fused}
			if tc.multi {
				want["minifasnet_v2"], want["minifasnet_v1se"] = v2, v1se
			}
			for name, scores := range want {
				agg, err := liveness.AttemptScore(scores)
				if err != nil {
					t.Fatal(err)
				}
				if c := res.Cues[name]; !c.Measured || c.Frames != len(scores) || math.Abs(c.Score-agg) > 1e-9 {
					t.Errorf("cue %s = %+v, want AttemptScore %v over %d frames", name, c, agg, len(scores))
				}
			}
			if _, ok := res.Cues["minifasnet_v2"]; ok != tc.multi {
				t.Errorf("per-model cue recorded: %v, want %v", ok, tc.multi)
			}
			if math.Abs(res.Liveness-res.Cues["minifasnet"].Score) > 1e-9 {
				t.Errorf("Result.Liveness %v, want the passive cue's score", res.Liveness)
			}
			for _, name := range []string{"loop", "frozen", "timing", "reaction", "camera", "jump", "depth", "approach"} {
				if _, ok := res.Cues[name]; !ok {
					t.Errorf("cue %s missing from %v", name, res.Cues)
				} else if res.Cues[name].Frames != 0 {
					t.Errorf("cue %s Frames = %d, want 0", name, res.Cues[name].Frames)
				}
			}
			if c := res.Cues["reaction"]; c.Measured != tc.wantPrompt || c.Measured && c.Score != 1 {
				t.Errorf("reaction cue %+v: want measured %v with score 1 (a prompt sent, then answered)", c, tc.wantPrompt)
			}
			if c := res.Cues["camera"]; c.Measured != (tc.label != "") || c.Measured && c.Score != tc.wantCamera {
				t.Errorf("camera cue %+v for label %q, want score %v", c, tc.label, tc.wantCamera)
			}
		})
	}
}

// An attempt that ends early still reports its cues; without a scorer
// there is no passive cue.
func TestCaptureCuesWithoutCompletion(t *testing.T) {
	res, _ := run(t, Config{MaxDuration: 300 * time.Millisecond}, repeat(engine.Analysis{}, 3), nil, 0)
	if res.Outcome != OutcomeTimeout || res.Liveness != -1 {
		t.Fatalf("outcome %s, liveness %v", res.Outcome, res.Liveness)
	}
	if _, ok := res.Cues["passive"]; ok {
		t.Error("a passive cue without a scorer")
	}
	if _, ok := res.Cues["loop"]; !ok {
		t.Errorf("cues %v: want the set's cues", res.Cues)
	}
}

func TestParseCameraMsg(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	for _, tc := range []struct {
		name, in, label string
		ok              bool
	}{
		{"camera", `{"type":"camera","label":" OBS Virtual Camera "}`, "OBS Virtual Camera", true},
		{"no label", `{"type":"camera"}`, "", true},
		{"other message", `{"type":"settings","label":"x"}`, "", false},
		{"not json", `camera`, "", false},
		{"long label cut", `{"type":"camera","label":"` + string(long) + `"}`, string(long[:maxLabel]), true},
		{"cut on a rune boundary", `{"type":"camera","label":"` + string(long[:maxLabel-1]) + `é"}`, string(long[:maxLabel-1]), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			label, ok := ParseCameraMsg([]byte(tc.in))
			if label != tc.label || ok != tc.ok {
				t.Fatalf("ParseCameraMsg = %q, %v; want %q, %v", label, ok, tc.label, tc.ok)
			}
		})
	}
}
