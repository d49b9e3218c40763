package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"vidid/engine"
	"vidid/engine/assemble"
	"vidid/policy"
)

// passiveCue is the decision policy's name for the passive liveness score
// of the default scorer (serve's --liveness-model names the one it runs).
const passiveCue = livenessMiniFASNet

// engineFlags are the flags every command that loads the face models takes.
type engineFlags struct {
	models   string
	embedder string
	threads  int
}

func (f *engineFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.models, "models", envOr("VIDID_MODELS", "var/models"), "model root `dir` (env VIDID_MODELS); 'make models' fills it")
	fs.StringVar(&f.embedder, "embedder", envOr("VIDID_EMBEDDER", assemble.EmbedderONNX), "face embedder: onnx (default; better at low false-match rates) or dlib (env VIDID_EMBEDDER)")
	fs.IntVar(&f.threads, "threads", 0, "OpenCV threads (0 = OpenCV default)")
}

// referenceQuality is the gate for register photos: they are stills taken
// under controlled conditions, often small and tightly cropped, so size and
// pose limits are laxer than for the live probe.
func referenceQuality() engine.QualityConfig {
	q := engine.DefaultQualityConfig()
	q.MinFacePx = 48
	q.MaxYaw, q.MaxPitch, q.MaxRoll = 45, 35, 35
	q.MinSharpness = 4
	return q
}

func (f *engineFlags) open(reg prometheus.Registerer) (*assemble.Engine, error) {
	return assemble.Open(assemble.Config{
		ModelRoot: f.models, Embedder: f.embedder, Threads: f.threads,
		ReferenceQuality: referenceQuality(),
	}, reg)
}

// policyFlags choose the decision policy of a command and override named
// fields of it. The offline commands (compare, verify, bench) read a
// policy file or the built-in policy; serve reads the active policy from
// the database and applies the same overrides (a derived version).
type policyFlags struct {
	file      string
	threshold float64
	band      float64
	passive   float64
	fields    []policy.Override
}

func (f *policyFlags) add(fs *flag.FlagSet, withFile bool) {
	if withFile {
		fs.StringVar(&f.file, "policy", envOr("VIDID_POLICY", ""), "decision policy `file` (JSON, as 'vidid policy show --json' prints it); default: the built-in policy")
	}
	fs.Float64Var(&f.threshold, "threshold", 0, "override the policy's match threshold for the embedder in use, in score units (0..1); the moderation band and same-person bar stay (a derived policy version)")
	fs.Float64Var(&f.band, "moderation-band", -1, "override the policy's moderation band for the embedder in use: a no_match within this many score units under the threshold goes to a moderator (0 = none; default: the policy's)")
	fs.Func("policy-override", "override one field of the decision policy, `FIELD=VALUE` (repeatable): match, moderation_band, same_person, liveness.CUE.threshold, liveness.CUE.mode (enforce, record, off), frames.match, frames.min_match, frames.min_liveness", func(v string) error {
		field, value, ok := strings.Cut(v, "=")
		if !ok || field == "" {
			return fmt.Errorf("want FIELD=VALUE, got %q", v)
		}
		f.fields = append(f.fields, policy.Override{Field: strings.TrimSpace(field), Value: strings.TrimSpace(value)})
		return nil
	})
	fs.Float64Var(&f.passive, "passive-liveness-threshold", -1, "override the threshold of the policy's passive liveness cue, p(live) aggregated over the attempt (default: the policy's; see docs/liveness.md)")
}

// overrides lists the fields the flags set; passiveCue names the policy's
// passive cue.
func (f *policyFlags) overrides(passiveCue string) []policy.Override {
	var o []policy.Override
	num := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	if f.threshold != 0 {
		o = append(o, policy.Override{Field: "match", Value: num(f.threshold)})
	}
	if f.band >= 0 {
		o = append(o, policy.Override{Field: "moderation_band", Value: num(f.band)})
	}
	if f.passive >= 0 {
		o = append(o, policy.Override{Field: "liveness." + passiveCue + ".threshold", Value: num(f.passive)})
	}
	return append(o, f.fields...)
}

// offline is the policy of a command without a database: --policy FILE or
// the built-in one, with the overrides for model.
func (f *policyFlags) offline(model string) (*policy.Policy, error) {
	p := policy.Builtin()
	if f.file != "" {
		b, err := os.ReadFile(f.file)
		if err != nil {
			return nil, fmt.Errorf("read policy: %w", err)
		}
		if p, err = policy.Parse(b); err != nil {
			return nil, fmt.Errorf("%s: %w", f.file, err)
		}
	}
	return p.Override(model, f.overrides(passiveCue)...)
}
