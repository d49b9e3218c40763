package main

import (
	"errors"
	"testing"

	"vidid/policy"
)

// --liveness-model names a known scorer, and running fr_liveness makes its
// cue the enforced one in the built-in policy.
func TestLivenessModel(t *testing.T) {
	for _, tc := range []struct {
		model   string
		ok      bool
		enforce string
	}{
		{livenessMiniFASNet, true, livenessMiniFASNet},
		{livenessFrLiveness, true, livenessFrLiveness},
		{"nope", false, ""},
	} {
		t.Run(tc.model, func(t *testing.T) {
			err := checkLivenessModel(tc.model)
			if !tc.ok {
				if !errors.Is(err, errUsage) {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p, err := policy.Builtin().Override("faceplugin-fr_feature@87aacdfe", passiveOverrides(tc.model)...)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{livenessMiniFASNet, livenessFrLiveness} {
				if got := p.Cue(name).Mode == policy.Enforce; got != (name == tc.enforce) {
					t.Errorf("cue %s enforced: %v, want %v", name, got, name == tc.enforce)
				}
			}
		})
	}
}
