package policy

import (
	"strings"
	"testing"

	"vidid/reason"
)

const onnx = "faceplugin-fr_feature@87aacdfe"

// testPolicy is a small policy with round numbers: match 0.70, band 0.05,
// same person 0.60, an enforced required passive cue at 0.8, an enforced
// injection cue (loop) at 0.5, a recorded cue (depth) at 0.9.
func testPolicy(t *testing.T) *Policy {
	t.Helper()
	p, err := Parse([]byte(`{
	  "version": "test-1",
	  "models": [{"model": "` + onnx + `", "match": 0.70, "moderation_band": 0.05, "same_person": 0.60}],
	  "liveness": {
	    "passive": {"mode": "enforce", "threshold": 0.8, "required": true, "reason": "liveness_failed"},
	    "loop":    {"mode": "enforce", "threshold": 0.5, "reason": "injection_suspected"},
	    "depth":   {"mode": "record",  "threshold": 0.9, "reason": "liveness_failed"}
	  },
	  "frames": {"match": 3, "min_match": 2, "min_liveness": 3}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func f(x float64) *float64 { return &x }

// live is a clean, matching attempt; cases change one thing of it.
func live() Measurements {
	return Measurements{
		Model: onnx, Completed: true, MatchScores: []float64{0.81, 0.78, 0.84}, SamePerson: f(0.75),
		Cues: map[string]CueResult{
			"passive": {Score: 0.93, Measured: true, Frames: 20},
			"loop":    {Score: 1, Measured: true},
			"depth":   {Score: 0.2, Measured: true}, // recorded only: never decides
		},
	}
}

func TestDecide(t *testing.T) {
	p := testPolicy(t)
	type want struct {
		outcome reason.Outcome
		reason  reason.Code
		route   Route
		why     string
		by      string
	}
	cases := []struct {
		name string
		edit func(m *Measurements)
		want want
	}{
		{"match", func(m *Measurements) {}, want{reason.OutcomeMatch, "", RouteIssue, "", "match"}},
		{"match at the threshold exactly", func(m *Measurements) { m.MatchScores = []float64{0.70, 0.70, 0.9} },
			want{reason.OutcomeMatch, "", RouteIssue, "", "match"}},
		{"one lucky frame is not enough", func(m *Measurements) { m.MatchScores = []float64{0.95, 0.50, 0.52} },
			want{reason.OutcomeNoMatch, reason.NoMatch, RouteCount, "", "match"}},
		{"two frames: the lower decides", func(m *Measurements) { m.MatchScores = []float64{0.95, 0.69} },
			want{reason.OutcomeNoMatch, reason.NoMatch, RouteModerate, WhyNearThreshold, "band"}},
		{"inside the band", func(m *Measurements) { m.MatchScores = []float64{0.66, 0.68, 0.67} },
			want{reason.OutcomeNoMatch, reason.NoMatch, RouteModerate, WhyNearThreshold, "band"}},
		{"at the band's lower edge", func(m *Measurements) { m.MatchScores = []float64{0.65, 0.65, 0.65} },
			want{reason.OutcomeNoMatch, reason.NoMatch, RouteModerate, WhyNearThreshold, "band"}},
		{"below the band", func(m *Measurements) { m.MatchScores = []float64{0.60, 0.64, 0.62} },
			want{reason.OutcomeNoMatch, reason.NoMatch, RouteCount, "", "match"}},
		{"passive liveness failed", func(m *Measurements) { m.Cues["passive"] = CueResult{Score: 0.4, Measured: true} },
			want{reason.OutcomeLivenessFailed, reason.LivenessFailed, RouteCount, "", "cue:passive"}},
		{"required cue not measured", func(m *Measurements) { m.Cues["passive"] = CueResult{Score: 1, Measured: false} },
			want{reason.OutcomeLivenessFailed, reason.LivenessFailed, RouteCount, "", "cue:passive"}},
		{"required cue missing", func(m *Measurements) { delete(m.Cues, "passive") },
			want{reason.OutcomeLivenessFailed, reason.LivenessFailed, RouteCount, "", "cue:passive"}},
		{"injection before presentation", func(m *Measurements) {
			m.Cues["loop"] = CueResult{Score: 0.1, Measured: true}
			m.Cues["passive"] = CueResult{Score: 0.1, Measured: true}
		}, want{reason.OutcomeLivenessFailed, reason.InjectionSuspected, RouteCount, "", "cue:loop"}},
		{"passive over too few frames is not measured", func(m *Measurements) { m.Cues["passive"] = CueResult{Score: 0.99, Measured: true, Frames: 2} },
			want{reason.OutcomeLivenessFailed, reason.LivenessFailed, RouteCount, "", "cue:passive"}},
		{"unmeasured optional cue passes", func(m *Measurements) { m.Cues["loop"] = CueResult{Measured: false} },
			want{reason.OutcomeMatch, "", RouteIssue, "", "match"}},
		{"liveness fails even when the register photo is unusable", func(m *Measurements) {
			m.Register = RegisterUnusable
			m.Cues["passive"] = CueResult{Score: 0.2, Measured: true}
		}, want{reason.OutcomeLivenessFailed, reason.LivenessFailed, RouteCount, "", "cue:passive"}},
		{"face changed", func(m *Measurements) { m.SamePerson = f(0.55) },
			want{reason.OutcomeLivenessFailed, reason.FaceChanged, RouteCount, "", "same_person"}},
		{"same person not measured (no prompts)", func(m *Measurements) { m.SamePerson = nil },
			want{reason.OutcomeMatch, "", RouteIssue, "", "match"}},
		{"no face (capture timed out)", func(m *Measurements) {
			*m = Measurements{Model: onnx, CaptureOutcome: reason.OutcomeTimeout, CaptureReason: reason.NoFace}
		}, want{reason.OutcomeTimeout, reason.NoFace, RouteCount, "", "capture"}},
		{"aborted capture", func(m *Measurements) { *m = Measurements{Model: onnx, CaptureOutcome: reason.OutcomeAborted} },
			want{reason.OutcomeAborted, reason.Aborted, RouteCount, "", "capture"}},
		{"prompt not answered", func(m *Measurements) {
			*m = Measurements{Model: onnx, CaptureOutcome: reason.OutcomeLivenessFailed, CaptureReason: reason.ChallengeFailed}
		}, want{reason.OutcomeLivenessFailed, reason.ChallengeFailed, RouteCount, "", "capture"}},
		{"server error in capture is not counted", func(m *Measurements) { *m = Measurements{Model: onnx, CaptureOutcome: reason.OutcomeError} },
			want{reason.OutcomeError, "", RouteNone, "", "capture"}},
		{"register photo unusable", func(m *Measurements) { m.Register, m.MatchScores = RegisterUnusable, nil },
			want{reason.OutcomeNoMatch, reason.RegisterPhotoUnusable, RouteModerate, WhyRegisterPhoto, "register"}},
		{"register photo missing", func(m *Measurements) { m.Register, m.MatchScores = RegisterMissing, nil },
			want{reason.OutcomeNoMatch, reason.RegisterPhotoMissing, RouteModerate, WhyRegisterPhoto, "register"}},
		{"escalation after repeated lockouts", func(m *Measurements) { m.Escalated = true },
			want{reason.OutcomeMatch, "", RouteModerate, WhyRepeatedLockouts, "escalation"}},
		{"escalated no-match still counts", func(m *Measurements) { m.Escalated, m.MatchScores = true, []float64{0.3, 0.3, 0.3} },
			want{reason.OutcomeNoMatch, reason.NoMatch, RouteCount, "", "match"}},
		{"hand-over: the approved person, live", func(m *Measurements) { handover(m, 0.9, 0.67) },
			want{reason.OutcomeMatch, "", RouteIssue, "", "handover"}},
		{"hand-over: register photo unusable, approved frames decide", func(m *Measurements) {
			handover(m, 0.9, 0)
			m.Register, m.MatchScores = RegisterUnusable, nil
		}, want{reason.OutcomeMatch, "", RouteIssue, "", "handover"}},
		{"hand-over: another person with the link", func(m *Measurements) { handover(m, 0.55, 0.52) },
			want{reason.OutcomeNoMatch, reason.NoMatch, RouteCount, "", "handover:approved_frames"}},
		{"hand-over: like the approved frames but far from the register photo", func(m *Measurements) { handover(m, 0.9, 0.5) },
			want{reason.OutcomeNoMatch, reason.NoMatch, RouteCount, "", "handover:register"}},
		{"hand-over: a replay of the approved person is still refused", func(m *Measurements) {
			handover(m, 0.95, 0.8)
			m.Cues["passive"] = CueResult{Score: 0.1, Measured: true}
		}, want{reason.OutcomeLivenessFailed, reason.LivenessFailed, RouteCount, "", "cue:passive"}},
		{"hand-over: never back to a moderator", func(m *Measurements) { handover(m, 0.68, 0.68) },
			want{reason.OutcomeNoMatch, reason.NoMatch, RouteCount, "", "handover:approved_frames"}},
		{"too few matched frames", func(m *Measurements) { m.MatchScores = []float64{0.9} },
			want{reason.OutcomeError, "", RouteNone, "", "frames"}},
		{"unknown model", func(m *Measurements) { m.Model = "other@1" },
			want{reason.OutcomeError, "", RouteNone, "", "model"}},
		{"score out of range is refused", func(m *Measurements) { m.MatchScores = []float64{0.9, 1.5, 0.9} },
			want{reason.OutcomeError, "", RouteNone, "", "invalid"}},
		{"an unfinished capture cannot match", func(m *Measurements) { m.Completed, m.CaptureOutcome = false, reason.OutcomeMatch },
			want{reason.OutcomeError, "", RouteNone, "", "invalid"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := live()
			tc.edit(&m)
			v := p.Decide(m)
			got := want{v.Outcome, v.Reason, v.Route, v.Why, v.DecidedBy}
			// Errors carry their detail after the colon.
			for _, p := range []string{"invalid:", "model:", "frames:"} {
				if strings.HasPrefix(got.by, p) {
					got.by = strings.TrimSuffix(p, ":")
				}
			}
			if got != tc.want {
				t.Fatalf("verdict %+v, want %+v", got, tc.want)
			}
			if v.PolicyVersion != "test-1" {
				t.Errorf("policy version %q", v.PolicyVersion)
			}
		})
	}
}

// handover makes m the fresh capture after an approval, scoring approved
// against the approved frames and register against the register photo.
func handover(m *Measurements, approved, register float64) {
	m.Handover = true
	m.ApprovedScores = []float64{approved, approved, approved}
	m.MatchScores = []float64{register, register, register}
}

func TestDecideMedianAndThresholdReported(t *testing.T) {
	p := testPolicy(t)
	v := p.Decide(live())
	if v.MatchScore != 0.81 || v.Threshold != 0.70 || v.Model != onnx {
		t.Fatalf("verdict %+v: want median 0.81 of the three frames, threshold 0.70", v)
	}
}

func TestMatchUsesTheSameThreshold(t *testing.T) {
	p := testPolicy(t)
	for _, tc := range []struct {
		score float64
		match bool
	}{{0.70, true}, {0.6999, false}, {0.99, true}, {0, false}} {
		d, err := p.Match(onnx, tc.score)
		if err != nil || d.Match != tc.match || d.Threshold != 0.70 || d.PolicyVersion != "test-1" {
			t.Errorf("Match(%v) = %+v, %v; want match=%v", tc.score, d, err, tc.match)
		}
		// Decide agrees on the same score over frames.
		m := live()
		m.MatchScores = []float64{tc.score, tc.score, tc.score}
		p2, _ := p.Override(onnx, Override{"moderation_band", "0"})
		if got := p2.Decide(m).Outcome == reason.OutcomeMatch; got != tc.match {
			t.Errorf("Decide on %v: match=%v, Match says %v", tc.score, got, tc.match)
		}
	}
	if _, err := p.Match("other@1", 0.9); err == nil {
		t.Error("Match for an unknown model must fail")
	}
	if _, err := p.Match(onnx, 1.2); err == nil {
		t.Error("Match of an out-of-range score must fail")
	}
}
