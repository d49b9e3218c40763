package main

import (
	"flag"
	"io"
	"testing"

	"vidid/policy"
)

// serve --threshold X overrides the match threshold and nothing else: the
// moderation band and the same-person bar of the policy stay (they used to
// be dropped with the old threshold override).
func TestPolicyFlagsOverrideOneField(t *testing.T) {
	const model = "faceplugin-fr_feature@87aacdfe"
	base, err := policy.Builtin().Model(model)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args       []string
		match      float64
		band, same float64
		cueMode    policy.Mode
	}{
		{[]string{"--threshold", "0.72"}, 0.72, base.ModerationBand, base.SamePerson, policy.Enforce},
		{[]string{"--moderation-band", "0"}, base.Match, 0, base.SamePerson, policy.Enforce},
		{[]string{"--policy-override", "same_person=0.6", "--policy-override", "liveness." + passiveCue + ".mode=record"}, base.Match, base.ModerationBand, 0.6, policy.Record},
	} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var pf policyFlags
		pf.add(fs, false)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		p, err := policy.Builtin().Override(model, pf.overrides(passiveCue)...)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		m, _ := p.Model(model)
		if m.Match != tc.match || m.ModerationBand != tc.band || m.SamePerson != tc.same || p.Cue(passiveCue).Mode != tc.cueMode {
			t.Errorf("%v: %+v, cue %s", tc.args, m, p.Cue(passiveCue).Mode)
		}
		if p.Version == policy.Builtin().Version || p.Parent != policy.Builtin().Version {
			t.Errorf("%v: version %q parent %q, want a derived version", tc.args, p.Version, p.Parent)
		}
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var pf policyFlags
	pf.add(fs, false)
	if err := fs.Parse([]string{"--policy-override", "match"}); err == nil {
		t.Error("--policy-override without =VALUE accepted")
	}
	if len(pf.overrides(passiveCue)) != 0 {
		t.Error("no flags must give no overrides")
	}
}
