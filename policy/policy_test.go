package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestBuiltinValid(t *testing.T) {
	p := Builtin()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Model(onnx); err != nil {
		t.Fatalf("the built-in policy must cover the default embedder: %v", err)
	}
	if len(p.Digest()) != 64 {
		t.Fatal("digest")
	}
}

func TestParseRefuses(t *testing.T) {
	base := `"models": [{"model": "m", "match": 0.7, "moderation_band": 0.05, "same_person": 0.6}], "frames": {"match": 3, "min_match": 2, "min_liveness": 3}`
	for _, tc := range []struct{ name, json, want string }{
		{"unknown field (a misspelt threshold)", `{"version": "v", ` + base + `, "tresholds": 1}`, "unknown field"},
		{"no version", `{"version": "", ` + base + `}`, "version"},
		{"bad version characters", `{"version": "v 1", ` + base + `}`, "version"},
		{"no models", `{"version": "v", "models": [], "frames": {"match": 3, "min_match": 2, "min_liveness": 3}}`, "no models"},
		{"match out of range", `{"version": "v", "models": [{"model": "m", "match": 1.2}], "frames": {"match": 3, "min_match": 2, "min_liveness": 3}}`, "match threshold"},
		{"band above the threshold", `{"version": "v", "models": [{"model": "m", "match": 0.5, "moderation_band": 0.6}], "frames": {"match": 3, "min_match": 2, "min_liveness": 3}}`, "moderation_band"},
		{"duplicate model", `{"version": "v", "models": [{"model": "m", "match": 0.5}, {"model": "m", "match": 0.6}], "frames": {"match": 3, "min_match": 2, "min_liveness": 3}}`, "twice"},
		{"bad cue mode", `{"version": "v", ` + base + `, "liveness": {"x": {"mode": "maybe", "threshold": 0.5, "reason": "liveness_failed"}}}`, "mode"},
		{"bad cue reason", `{"version": "v", ` + base + `, "liveness": {"x": {"mode": "enforce", "threshold": 0.5, "reason": "no_match"}}}`, "reason"},
		{"cue threshold out of range", `{"version": "v", ` + base + `, "liveness": {"x": {"mode": "enforce", "threshold": 2, "reason": "liveness_failed"}}}`, "threshold"},
		{"min_match above match", `{"version": "v", "models": [{"model": "m", "match": 0.5}], "frames": {"match": 2, "min_match": 3, "min_liveness": 3}}`, "frames"},
		{"trailing data", `{"version": "v", ` + base + `} {}`, "trailing"},
		{"not json", `version: v`, "parse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.json))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
}

func TestOverrideKeepsOtherFields(t *testing.T) {
	p := testPolicy(t)
	q, err := p.Override(onnx, Override{"match", "0.72"})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := q.Model(onnx)
	if m.Match != 0.72 || m.ModerationBand != 0.05 || m.SamePerson != 0.60 {
		t.Fatalf("override of match changed other fields: %+v", m)
	}
	if q.Parent != "test-1" || !strings.HasPrefix(q.Version, "test-1+") || q.Version == p.Version {
		t.Fatalf("derived version %q parent %q", q.Version, q.Parent)
	}
	if orig, _ := p.Model(onnx); orig.Match != 0.70 {
		t.Fatal("Override changed its receiver")
	}
	// Same overrides in another order: same version (replicas agree).
	a, _ := p.Override(onnx, Override{"match", "0.72"}, Override{"liveness.passive.threshold", "0.9"})
	b, _ := p.Override(onnx, Override{"liveness.passive.threshold", "0.9"}, Override{"match", "0.72"})
	if a.Version != b.Version || a.Liveness["passive"].Threshold != 0.9 || a.Liveness["passive"].Mode != Enforce {
		t.Fatalf("versions %q %q, cue %+v", a.Version, b.Version, a.Liveness["passive"])
	}
	if same, _ := p.Override(onnx); same != p {
		t.Fatal("no overrides must return the policy itself")
	}
	for _, bad := range []Override{{"match", "1.5"}, {"match", "x"}, {"moderation_band", "0.9"}, {"liveness.passive.mode", "sometimes"},
		{"liveness.passive.colour", "1"}, {"nonsense", "1"}, {"frames.min_match", "9"}} {
		if _, err := p.Override(onnx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("override %+v: err %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := p.Override("other@1", Override{"match", "0.7"}); !errors.Is(err, ErrNoModel) {
		t.Errorf("override for an unknown model: %v", err)
	}
}
