package policy

import (
	"fmt"
	"math"
	"slices"

	"vidid/reason"
)

// Route is where a verdict sends the session.
type Route string

// Routes.
const (
	// RouteIssue: a match; the hand-over issues the identity assertion.
	RouteIssue Route = "issue"
	// RouteModerate: a person decides (near the threshold, register photo
	// unusable, or a match after repeated lockouts).
	RouteModerate Route = "moderate"
	// RouteCount: a failure that counts toward the lockout.
	RouteCount Route = "count"
	// RouteNone: a server-side error; nothing is counted.
	RouteNone Route = "none"
)

// Why a case goes to a moderator (the moderation queue's kinds).
const (
	WhyNearThreshold    = "near_threshold"
	WhyRegisterPhoto    = "register_photo"
	WhyRepeatedLockouts = "repeated_lockouts"
)

// Register is the state of the register photo for this attempt.
type Register string

// Register photo states.
const (
	RegisterOK       Register = ""
	RegisterMissing  Register = "missing"
	RegisterUnusable Register = "unusable"
)

// CueResult is one liveness cue's measurement over an attempt.
type CueResult struct {
	// Score in [0,1]; 1 looks live.
	Score float64 `json:"score"`
	// Measured: there was enough data to say anything. An unmeasured
	// cue's Score means nothing.
	Measured bool `json:"measured"`
	// Frames the score was aggregated over (0 when not per frame). A
	// per-frame cue over fewer than the policy's Frames.MinLiveness
	// counts as not measured.
	Frames int `json:"frames,omitempty"`
}

// Measurements are what one attempt measured: everything a verdict is
// made from, and what the attempt record keeps.
type Measurements struct {
	// Model is the embedder the match scores come from.
	Model string `json:"model"`
	// Completed: the capture ran to its end (oval, approach, prompts).
	// When false, CaptureOutcome and CaptureReason say how it ended
	// (timeout with the last guidance problem, aborted, a prompt not
	// answered, a server error) and nothing else is judged.
	Completed      bool           `json:"completed"`
	CaptureOutcome reason.Outcome `json:"capture_outcome,omitempty"`
	CaptureReason  reason.Code    `json:"capture_reason,omitempty"`
	// Register is the register photo's state.
	Register Register `json:"register,omitempty"`
	// MatchScores are the best frames' scores against the register photo.
	MatchScores []float64 `json:"match_scores,omitempty"`
	// SamePerson is the lowest score between the face seen during a
	// prompt and the matched frames; nil when not measured.
	SamePerson *float64 `json:"same_person,omitempty"`
	// Cues holds each liveness cue's result, by cue name.
	Cues map[string]CueResult `json:"cues,omitempty"`
	// Escalated: the session requires a person after repeated lockouts
	// of this IIN (session.RequiresModeration).
	Escalated bool `json:"escalated,omitempty"`
	// Handover: a fresh capture after a moderator's approval, before the
	// assertion is handed over. ApprovedScores are its best frames'
	// scores against the frames the moderator approved.
	Handover       bool      `json:"handover,omitempty"`
	ApprovedScores []float64 `json:"approved_scores,omitempty"`
}

// Verdict is the one decision about an attempt.
type Verdict struct {
	Outcome reason.Outcome `json:"outcome"`
	// Reason refines a failure; empty for a match and for an error.
	Reason reason.Code `json:"reason,omitempty"`
	Route  Route       `json:"route"`
	// Why names the moderation kind when Route is RouteModerate.
	Why string `json:"why,omitempty"`
	// DecidedBy names what decided: "capture", "cue:<name>",
	// "same_person", "register", "frames", "match", "band", "escalation".
	DecidedBy string `json:"decided_by"`
	// MatchScore is the median over MatchScores (-1 when not judged).
	MatchScore float64 `json:"match_score"`
	// Threshold is the match threshold of Model in this policy (0 when
	// the model is unknown).
	Threshold     float64 `json:"threshold"`
	Model         string  `json:"model,omitempty"`
	PolicyVersion string  `json:"policy_version"`
}

// Decide turns an attempt's measurements into its verdict. It is the only
// place an attempt's scores meet thresholds. The order: how the capture
// ended; enforced liveness cues (injection first, then presentation
// attacks, then required cues that could not be measured); the same-person
// bar; the register photo; enough matched frames; the match threshold,
// with escalation after repeated lockouts; the moderation band; else a
// counted no-match. Invalid measurements give an error verdict (never a
// silent pass).
func (p *Policy) Decide(m Measurements) Verdict {
	v := Verdict{PolicyVersion: p.Version, MatchScore: -1, Model: m.Model}
	mp, modelErr := p.Model(m.Model)
	if modelErr == nil {
		v.Threshold = mp.Match
	}
	fail := func(o reason.Outcome, r reason.Code, by string) Verdict {
		v.Outcome, v.Reason, v.DecidedBy = o, r, by
		v.Route = RouteCount
		if !o.CountsAsFailure() {
			v.Route = RouteNone
		}
		return v
	}
	if err := m.validate(); err != nil {
		return fail(reason.OutcomeError, "", "invalid: "+err.Error())
	}
	if !m.Completed {
		if m.CaptureOutcome == reason.OutcomeMatch {
			return fail(reason.OutcomeError, "", "invalid: an unfinished capture cannot match")
		}
		r := m.CaptureReason
		if r == "" && m.CaptureOutcome.CountsAsFailure() {
			r = reason.Code(m.CaptureOutcome)
		}
		return fail(m.CaptureOutcome, r, "capture")
	}
	if name, c, ok := p.failedCue(m, true); ok {
		return fail(reason.OutcomeLivenessFailed, c.Reason, "cue:"+name)
	}
	if name, c, ok := p.failedCue(m, false); ok {
		return fail(reason.OutcomeLivenessFailed, c.Reason, "cue:"+name)
	}
	if modelErr != nil {
		return fail(reason.OutcomeError, "", "model: "+modelErr.Error())
	}
	if mp.SamePerson > 0 && m.SamePerson != nil && *m.SamePerson < mp.SamePerson {
		return fail(reason.OutcomeLivenessFailed, reason.FaceChanged, "same_person")
	}
	if m.Handover {
		return p.decideHandover(m, mp, v)
	}
	switch m.Register {
	case RegisterMissing, RegisterUnusable:
		r := reason.RegisterPhotoMissing
		if m.Register == RegisterUnusable {
			r = reason.RegisterPhotoUnusable
		}
		v.Outcome, v.Reason, v.Route, v.Why, v.DecidedBy = reason.OutcomeNoMatch, r, RouteModerate, WhyRegisterPhoto, "register"
		return v
	}
	if len(m.MatchScores) < p.Frames.MinMatch {
		return fail(reason.OutcomeError, "", fmt.Sprintf("frames: %d matched, policy needs %d", len(m.MatchScores), p.Frames.MinMatch))
	}
	v.MatchScore = median(m.MatchScores)
	switch {
	case v.MatchScore >= mp.Match && m.Escalated:
		v.Outcome, v.Route, v.Why, v.DecidedBy = reason.OutcomeMatch, RouteModerate, WhyRepeatedLockouts, "escalation"
	case v.MatchScore >= mp.Match:
		v.Outcome, v.Route, v.DecidedBy = reason.OutcomeMatch, RouteIssue, "match"
	case mp.ModerationBand > 0 && v.MatchScore >= mp.Match-mp.ModerationBand:
		v.Outcome, v.Reason, v.Route, v.Why, v.DecidedBy = reason.OutcomeNoMatch, reason.NoMatch, RouteModerate, WhyNearThreshold, "band"
	default:
		return fail(reason.OutcomeNoMatch, reason.NoMatch, "match")
	}
	return v
}

// decideHandover judges the fresh capture that must follow a moderator's
// approval before the assertion is handed over: a live capture (checked
// above) of the person the moderator approved, that is, the median score
// against the approved frames reaches the match threshold; and, where the
// register photo is usable, a median score against it no lower than the
// band's floor (what the moderator saw). Anything else is a counted
// no-match: the link alone, or another person with it, gets nothing. No
// route leads to a moderator again.
func (p *Policy) decideHandover(m Measurements, mp Model, v Verdict) Verdict {
	v.Outcome, v.Reason, v.Route = reason.OutcomeNoMatch, reason.NoMatch, RouteCount
	if len(m.ApprovedScores) < p.Frames.MinMatch {
		v.Outcome, v.Reason, v.Route, v.DecidedBy = reason.OutcomeError, "", RouteNone,
			fmt.Sprintf("frames: %d compared with the approved frames, policy needs %d", len(m.ApprovedScores), p.Frames.MinMatch)
		return v
	}
	v.MatchScore = median(m.ApprovedScores)
	if v.MatchScore < mp.Match {
		v.DecidedBy = "handover:approved_frames"
		return v
	}
	if m.Register == RegisterOK {
		if len(m.MatchScores) < p.Frames.MinMatch || median(m.MatchScores) < mp.Match-mp.ModerationBand {
			v.DecidedBy = "handover:register"
			return v
		}
	}
	v.Outcome, v.Reason, v.Route, v.DecidedBy = reason.OutcomeMatch, "", RouteIssue, "handover"
	return v
}

// failedCue finds the first enforced cue (by name, so the choice is
// stable) that fails: injection cues when injection is true, the others
// otherwise. A required cue that was not measured fails too.
func (p *Policy) failedCue(m Measurements, injection bool) (string, Cue, bool) {
	for _, name := range p.CueNames() {
		c := p.Liveness[name]
		if c.Mode != Enforce || (c.Reason == reason.InjectionSuspected) != injection {
			continue
		}
		r, ok := m.Cues[name]
		if r.Frames > 0 && r.Frames < p.Frames.MinLiveness {
			r.Measured = false // too few frames to judge
		}
		switch {
		case ok && r.Measured && r.Score < c.Threshold:
			return name, c, true
		case c.Required && (!ok || !r.Measured):
			return name, c, true
		}
	}
	return "", Cue{}, false
}

// validate refuses measurements no engine produces: scores outside [0,1],
// NaN, unknown outcomes or reasons.
func (m Measurements) validate() error {
	unit := func(x float64) bool { return x >= 0 && x <= 1 && !math.IsNaN(x) }
	for _, s := range append(slices.Clone(m.MatchScores), m.ApprovedScores...) {
		if !unit(s) {
			return fmt.Errorf("match score %v", s)
		}
	}
	if m.SamePerson != nil && !unit(*m.SamePerson) {
		return fmt.Errorf("same-person score %v", *m.SamePerson)
	}
	for n, c := range m.Cues {
		if c.Measured && !unit(c.Score) {
			return fmt.Errorf("cue %s score %v", n, c.Score)
		}
	}
	if !m.Completed && !m.CaptureOutcome.Valid() {
		return fmt.Errorf("capture outcome %q", m.CaptureOutcome)
	}
	if m.CaptureReason != "" && !m.CaptureReason.Valid() {
		return fmt.Errorf("capture reason %q", m.CaptureReason)
	}
	if m.Register != RegisterOK && m.Register != RegisterMissing && m.Register != RegisterUnusable {
		return fmt.Errorf("register state %q", m.Register)
	}
	return nil
}

// MatchDecision is the policy's answer for one comparison.
type MatchDecision struct {
	Match         bool    `json:"match"`
	Score         float64 `json:"score"`
	Threshold     float64 `json:"threshold"`
	Model         string  `json:"model"`
	PolicyVersion string  `json:"policy_version"`
}

// Match decides one comparison (the verify API, the compare command): the
// same threshold as Decide, without the frames, cues and routes of an
// attempt.
func (p *Policy) Match(model string, score float64) (MatchDecision, error) {
	mp, err := p.Model(model)
	if err != nil {
		return MatchDecision{}, err
	}
	if !(score >= 0 && score <= 1) {
		return MatchDecision{}, fmt.Errorf("score %v outside [0,1]", score)
	}
	return MatchDecision{Match: score >= mp.Match, Score: score, Threshold: mp.Match, Model: model, PolicyVersion: p.Version}, nil
}

// median of xs. For an even count the lower middle value is taken, so that
// with two frames both must reach the threshold: one lucky frame is never
// enough.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}
