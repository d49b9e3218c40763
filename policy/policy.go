// Package policy is vidid's one decision policy: every threshold that turns
// an attempt's measurements into a verdict (match threshold, moderation
// band and same-person bar per embedder model; each liveness cue's
// threshold and whether it is enforced; how many frames a verdict needs),
// versioned, validated in one place and read-only for everyone else.
//
// Decide is the only place where "a score reaches a threshold" is decided
// for an attempt; Match is the same rule for a single comparison (the
// verify API and the compare command). Policies live in Postgres (Store):
// the built-in file seeds the first version, analysts propose new ones
// from benchmark reports, and an operator activates one (audited).
package policy

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"

	"vidid/reason"
)

//go:embed builtin.json
var builtinJSON []byte

// Policy is one immutable version of the decision policy. Treat a loaded
// Policy as read-only: Override returns a derived copy.
type Policy struct {
	// Version names this policy; attempts record it. A version made by
	// Override is "<parent>+<hash of the overrides>".
	Version string `json:"version"`
	// Parent is the version this one was derived from (flags) or
	// proposed against (reports); empty for a seed.
	Parent string `json:"parent,omitempty"`
	// Comment says where the numbers come from.
	Comment string `json:"comment,omitempty"`
	// Models holds the per-embedder thresholds.
	Models []Model `json:"models"`
	// Liveness holds every liveness cue's rule, by cue name.
	Liveness map[string]Cue `json:"liveness"`
	// Frames says how many frames a verdict needs.
	Frames Frames `json:"frames"`
	// Evidence is what a proposal was computed from (a benchmark report).
	Evidence *Evidence `json:"evidence,omitempty"`
}

// Model is the policy for one embedder model.
type Model struct {
	// Model is the embedder's id (engine.Embedder.Model()).
	Model string `json:"model"`
	// Match is the match threshold in score units (engine.Score): the
	// median score over the matched frames must reach it.
	Match float64 `json:"match"`
	// FMRTarget is the false-match rate Match was chosen at (documentation).
	FMRTarget float64 `json:"fmr_target,omitempty"`
	// ModerationBand sends a no-match within this many score units under
	// Match to a moderator instead of counting it; 0 = no band.
	ModerationBand float64 `json:"moderation_band"`
	// SamePerson is the bar the face seen during each prompt must reach
	// against the matched frames (else face_changed); 0 = check off.
	SamePerson float64 `json:"same_person"`
}

// Mode says what a cue's result does to the verdict.
type Mode string

// Cue modes.
const (
	// Enforce: a measured score under the threshold fails the attempt.
	Enforce Mode = "enforce"
	// Record: the score is measured and stored, never decides.
	Record Mode = "record"
	// Off: the cue is not run.
	Off Mode = "off"
)

// Cue is the rule for one liveness cue.
type Cue struct {
	Mode Mode `json:"mode"`
	// Threshold: a score (1 = looks live) below it fails when enforced.
	Threshold float64 `json:"threshold"`
	// Required: an enforced cue that could not be measured fails the
	// attempt (never a silent pass). Cues that need a prompt the attempt
	// did not have (depth during a head turn) are usually not required.
	Required bool `json:"required,omitempty"`
	// Reason is the failure's reason code: liveness_failed,
	// injection_suspected or challenge_failed.
	Reason reason.Code `json:"reason"`
}

// Frames bounds how much evidence a verdict needs.
type Frames struct {
	// Match is how many best frames are matched against the register
	// photo; the verdict takes their median.
	Match int `json:"match"`
	// MinMatch is the fewest matched frames a verdict accepts; fewer
	// is a server-side error (not counted against the applicant).
	MinMatch int `json:"min_match"`
	// MinLiveness is the fewest frames a passive liveness score must be
	// aggregated over to count as measured.
	MinLiveness int `json:"min_liveness"`
}

// Evidence records what a proposed policy was computed from.
type Evidence struct {
	Report        string  `json:"report,omitempty"`
	DatasetSHA256 string  `json:"dataset_sha256,omitempty"`
	TargetFMR     float64 `json:"target_fmr,omitempty"`
	Genuine       int     `json:"genuine,omitempty"`
	Impostor      int     `json:"impostor,omitempty"`
	FNMR          float64 `json:"fnmr,omitempty"`
	// CI95 is the 95% interval of the threshold (or rate) it names.
	CI95 [2]float64 `json:"ci95,omitempty"`
}

var versionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$`)

// Validate checks every field; a policy that fails it is never used.
func (p *Policy) Validate() error {
	if !versionRE.MatchString(p.Version) {
		return fmt.Errorf("%w: version %q (letters, digits, . _ : + -; at most 128)", ErrInvalid, p.Version)
	}
	if len(p.Models) == 0 {
		return fmt.Errorf("%w %s: no models", ErrInvalid, p.Version)
	}
	seen := map[string]bool{}
	for _, m := range p.Models {
		switch {
		case m.Model == "":
			return fmt.Errorf("%w %s: a model without a name", ErrInvalid, p.Version)
		case seen[m.Model]:
			return fmt.Errorf("%w %s: model %s twice", ErrInvalid, p.Version, m.Model)
		case !(m.Match > 0 && m.Match < 1):
			return fmt.Errorf("%w %s: %s match threshold %v outside (0,1)", ErrInvalid, p.Version, m.Model, m.Match)
		case !(m.ModerationBand >= 0 && m.ModerationBand < m.Match):
			return fmt.Errorf("%w %s: %s moderation_band %v outside [0, match)", ErrInvalid, p.Version, m.Model, m.ModerationBand)
		case !(m.SamePerson >= 0 && m.SamePerson < 1):
			return fmt.Errorf("%w %s: %s same_person %v outside [0,1)", ErrInvalid, p.Version, m.Model, m.SamePerson)
		case m.FMRTarget < 0 || m.FMRTarget > 1 || math.IsNaN(m.FMRTarget):
			return fmt.Errorf("%w %s: %s fmr_target %v outside [0,1]", ErrInvalid, p.Version, m.Model, m.FMRTarget)
		}
		seen[m.Model] = true
	}
	for name, c := range p.Liveness {
		if name == "" || strings.ContainsAny(name, " \t\n") {
			return fmt.Errorf("%w %s: cue name %q", ErrInvalid, p.Version, name)
		}
		if !slices.Contains([]Mode{Enforce, Record, Off}, c.Mode) {
			return fmt.Errorf("%w %s: cue %s mode %q (enforce, record or off)", ErrInvalid, p.Version, name, c.Mode)
		}
		if !(c.Threshold >= 0 && c.Threshold <= 1) {
			return fmt.Errorf("%w %s: cue %s threshold %v outside [0,1]", ErrInvalid, p.Version, name, c.Threshold)
		}
		if c.Reason != reason.LivenessFailed && c.Reason != reason.InjectionSuspected && c.Reason != reason.ChallengeFailed {
			return fmt.Errorf("%w %s: cue %s reason %q (liveness_failed, injection_suspected or challenge_failed)", ErrInvalid, p.Version, name, c.Reason)
		}
	}
	f := p.Frames
	if f.Match < 1 || f.Match > 20 || f.MinMatch < 1 || f.MinMatch > f.Match || f.MinLiveness < 1 || f.MinLiveness > 1000 {
		return fmt.Errorf("%w %s: frames %+v (need 1 ≤ min_match ≤ match ≤ 20, 1 ≤ min_liveness ≤ 1000)", ErrInvalid, p.Version, f)
	}
	return nil
}

// Model returns the rules for an embedder model.
func (p *Policy) Model(model string) (Model, error) {
	for _, m := range p.Models {
		if m.Model == model {
			return m, nil
		}
	}
	return Model{}, fmt.Errorf("%w: model %s in policy %s (run a benchmark and propose a policy for it)", ErrNoModel, model, p.Version)
}

// Cue returns a cue's rule; a cue the policy does not name is off.
func (p *Policy) Cue(name string) Cue {
	if c, ok := p.Liveness[name]; ok {
		return c
	}
	return Cue{Mode: Off, Reason: reason.LivenessFailed}
}

// Runs reports whether a cue is to be measured (enforced or recorded).
func (p *Policy) Runs(name string) bool { return p.Cue(name).Mode != Off }

// Parse reads a policy from JSON and validates it. Unknown fields are
// refused, so a misspelt threshold is not silently ignored.
func Parse(b []byte) (*Policy, error) {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var p Policy
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: parse: %v", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the policy", ErrInvalid)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Builtin is the policy compiled into the binary, the seed of a new
// database and the policy of the offline commands.
func Builtin() *Policy {
	p, err := Parse(builtinJSON)
	if err != nil {
		panic(fmt.Sprintf("built-in policy: %v", err)) // caught by TestBuiltinValid
	}
	return p
}

// JSON is the policy's canonical encoding (sorted keys, no spaces).
func (p *Policy) JSON() []byte {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err) // only plain values
	}
	return b
}

// Digest is the sha256 of the canonical encoding, hex.
func (p *Policy) Digest() string {
	s := sha256.Sum256(p.JSON())
	return hex.EncodeToString(s[:])
}

// clone deep-copies p.
func (p *Policy) clone() *Policy {
	q := *p
	q.Models = slices.Clone(p.Models)
	q.Liveness = make(map[string]Cue, len(p.Liveness))
	for k, v := range p.Liveness {
		q.Liveness[k] = v
	}
	if p.Evidence != nil {
		e := *p.Evidence
		q.Evidence = &e
	}
	return &q
}

// CueNames lists the policy's cues, sorted.
func (p *Policy) CueNames() []string {
	var ns []string
	for n := range p.Liveness {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}
