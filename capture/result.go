package capture

import (
	"time"

	"vidid/engine"
	"vidid/policy"
	"vidid/reason"
)

// Outcome mirrors session outcomes without importing session.
type Outcome string

// Outcomes of the capture itself. The capture measures; the decision
// policy (package policy) judges the measurements and decides the match.
const (
	// OutcomeCaptured: frames are ready for matching.
	OutcomeCaptured Outcome = "captured"
	// OutcomeLivenessFailed: a prompt was not answered in time.
	OutcomeLivenessFailed Outcome = "liveness_failed"
	OutcomeTimeout        Outcome = "timeout"
	OutcomeAborted        Outcome = "aborted"
	OutcomeError          Outcome = "error"
)

// Frame is one kept frame with its face.
type Frame struct {
	Frame   engine.Frame
	Face    engine.Face
	Quality engine.Quality
	// Liveness is the passive p(live) (-1 when not scored).
	Liveness float64
}

// Result is what one capture run produced.
type Result struct {
	Outcome Outcome
	// Reason refines a failure (no_face, timeout, challenge_failed …).
	Reason reason.Code
	// Best holds the kept frames, best first, with their embeddings.
	Best       []Frame
	Embeddings []engine.Embedding
	// Liveness is the passive attempt score (liveness.AttemptScore over
	// every scored frame; -1 when none was scored), kept for the record;
	// Cues holds what the policy judges.
	Liveness float64
	// Cues holds each liveness cue measured over the attempt, by the
	// policy's cue name: the passive cue (Config.PassiveCue, Frames = the
	// frames scored) and, for a liveness.MultiScorer, each model's
	// (<cue>_v2, <cue>_v1se); the cues of liveness.Set (loop, frozen,
	// timing, reaction, camera, jump, depth, approach).
	Cues map[string]policy.CueResult
	// Challenges lists the prompts that were passed.
	Challenges []ChallengeCode
	// SamePerson is the lowest score between a challenge's face and the
	// kept frames (-1 when not compared; see Config.MeasureSamePerson).
	SamePerson float64
	// Frames counts analysed frames; FirstGuidance is the delay from the
	// first frame to the first guidance message.
	Frames        int
	FirstGuidance time.Duration
	// SizeSmall and SizeLarge are the median face heights (share of the
	// frame) in the two ovals: the approach's depth cue.
	SizeSmall, SizeLarge float64
	// Clip is a short evidence clip: up to ClipFrames half-size frames,
	// the most recent ones, at most ClipFPS per second of capture.
	Clip []engine.Frame
}
