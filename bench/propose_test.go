package bench

import (
	"errors"
	"testing"

	"vidid/policy"
)

func TestProposePolicy(t *testing.T) {
	r, err := LoadReport("testdata/report.json")
	if err != nil {
		t.Fatal(err)
	}
	base, err := policy.Parse([]byte(`{"version": "base-1",
	  "models": [{"model": "fake-embedder@1", "match": 0.7, "fmr_target": 0.01, "moderation_band": 0.05, "same_person": 0.5}],
	  "liveness": {"passive": {"mode": "enforce", "threshold": 0.8, "required": true, "reason": "liveness_failed"}},
	  "frames": {"match": 3, "min_match": 2, "min_liveness": 3}}`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ProposePolicy(r, base, ProposeOptions{TargetFMR: 0.25, Report: "testdata/report.json"})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := p.Model("fake-embedder@1")
	// The golden report's faces part: threshold 0.67329 [0.527278, 0.754164] at FMR 0.25.
	if m.Match != 0.6733 || m.FMRTarget != 0.25 || m.ModerationBand != 0.05 || m.SamePerson != 0.5 {
		t.Fatalf("proposed model %+v", m)
	}
	ev := p.Evidence
	if ev == nil || ev.DatasetSHA256 != r.Dataset.Hash || ev.Genuine != 14 || ev.Impostor != 28 || ev.CI95 != [2]float64{0.527278, 0.754164} || ev.TargetFMR != 0.25 {
		t.Fatalf("evidence %+v", ev)
	}
	if p.Parent != "base-1" || p.Version == "base-1" || p.Cue("passive").Threshold != 0.8 {
		t.Fatalf("version %q parent %q", p.Version, p.Parent)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	// FMR 0.01 is not measurable on 28 impostor comparisons.
	if _, err := ProposePolicy(r, base, ProposeOptions{TargetFMR: 0.01}); !errors.Is(err, ErrNotMeasurable) {
		t.Fatalf("unmeasurable target: %v", err)
	}
	other, _ := base.Override("fake-embedder@1", policy.Override{Field: "match", Value: "0.7"}) // a copy
	other.Models[0].Model = "another@2"
	if _, err := ProposePolicy(r, other, ProposeOptions{TargetFMR: 0.25}); !errors.Is(err, ErrNotMeasurable) {
		t.Fatalf("a policy without the report's model: %v", err)
	}
	if _, err := ProposePolicy(r, base, ProposeOptions{TargetFMR: 2}); !errors.Is(err, policy.ErrInvalid) {
		t.Fatalf("target 2: %v", err)
	}
}
