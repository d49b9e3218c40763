// Package reason is the one typed set of reason codes for why an attempt
// failed or a session went where it went. capture, policy, session and api
// all speak these codes, so a typo is a compile error, not a run-time
// surprise. It imports nothing of the project (a leaf).
package reason

import "slices"

// Code is a machine-readable reason. The zero value means "none".
type Code string

// Reason codes.
const (
	NoFace                Code = "no_face"
	MultipleFaces         Code = "multiple_faces"
	PoorLight             Code = "poor_light"
	Blurry                Code = "blurry"
	TooFar                Code = "too_far"
	Pose                  Code = "pose"
	LivenessFailed        Code = "liveness_failed"
	InjectionSuspected    Code = "injection_suspected"
	NoMatch               Code = "no_match"
	Timeout               Code = "timeout"
	Aborted               Code = "aborted"
	RegisterPhotoMissing  Code = "register_photo_missing"
	RegisterPhotoUnusable Code = "register_photo_unusable"
	ChallengeFailed       Code = "challenge_failed"
	// FaceChanged: the face that did the prompts is not the face in the
	// frames being matched.
	FaceChanged Code = "face_changed"
)

// All lists every reason code.
var All = []Code{
	NoFace, MultipleFaces, PoorLight, Blurry, TooFar, Pose,
	LivenessFailed, InjectionSuspected, NoMatch, Timeout, Aborted,
	RegisterPhotoMissing, RegisterPhotoUnusable, ChallengeFailed, FaceChanged,
}

// Valid reports whether c is one of All.
func (c Code) Valid() bool { return slices.Contains(All, c) }

// RegisterProblem reports whether the register photo, not the applicant,
// is the problem: retrying cannot help, so the session goes to a person
// and the attempt does not count toward the lockout.
func (c Code) RegisterProblem() bool { return c == RegisterPhotoMissing || c == RegisterPhotoUnusable }

// Public is the code as shown to the applicant (the capture page, its
// status endpoint): injection_suspected and face_changed read as
// liveness_failed, so an attacker learns nothing about which check caught
// them. Relying parties, authenticated by API key, see the full code.
func (c Code) Public() Code {
	if c == InjectionSuspected || c == FaceChanged {
		return LivenessFailed
	}
	return c
}

// Outcome is how one capture run (attempt) ended.
type Outcome string

// Attempt outcomes.
const (
	OutcomeMatch          Outcome = "match"
	OutcomeNoMatch        Outcome = "no_match"
	OutcomeLivenessFailed Outcome = "liveness_failed"
	OutcomeTimeout        Outcome = "timeout"
	OutcomeAborted        Outcome = "aborted"
	// OutcomeError is a server fault (model crashed, register unreachable).
	// It does not count toward the lockout: the applicant did nothing wrong,
	// and counting it would let an outage lock people out.
	OutcomeError Outcome = "error"
)

// CountsAsFailure reports whether the outcome counts toward the lockout:
// no_match, liveness_failed, timeout and aborted do; match and error do not.
func (o Outcome) CountsAsFailure() bool {
	switch o {
	case OutcomeNoMatch, OutcomeLivenessFailed, OutcomeTimeout, OutcomeAborted:
		return true
	}
	return false
}

// Valid reports whether o is a known outcome.
func (o Outcome) Valid() bool { return o == OutcomeMatch || o == OutcomeError || o.CountsAsFailure() }
