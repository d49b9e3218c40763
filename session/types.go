package session

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// State is a session's lifecycle state.
//
//	open ──▶ matched | locked | moderation | expired | cancelled
//	moderation ──▶ approved | rejected
type State string

// Session states.
const (
	StateOpen       State = "open"
	StateMatched    State = "matched"
	StateLocked     State = "locked"
	StateModeration State = "moderation"
	StateExpired    State = "expired"
	StateCancelled  State = "cancelled"
	StateApproved   State = "approved"
	StateRejected   State = "rejected"
)

var transitions = map[State][]State{
	StateOpen:       {StateMatched, StateLocked, StateModeration, StateExpired, StateCancelled},
	StateModeration: {StateApproved, StateRejected},
}

// CanTransition reports whether a session may move from one state to another.
func CanTransition(from, to State) bool { return slices.Contains(transitions[from], to) }

// Final reports whether no further transition is possible.
func (s State) Final() bool { return len(transitions[s]) == 0 }

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

func (o Outcome) valid() bool { return o == OutcomeMatch || o == OutcomeError || o.CountsAsFailure() }

// Reason is the machine-readable reason for a failed attempt.
type Reason string

// Reason codes.
const (
	ReasonNoFace                Reason = "no_face"
	ReasonMultipleFaces         Reason = "multiple_faces"
	ReasonPoorLight             Reason = "poor_light"
	ReasonBlurry                Reason = "blurry"
	ReasonTooFar                Reason = "too_far"
	ReasonPose                  Reason = "pose"
	ReasonLivenessFailed        Reason = "liveness_failed"
	ReasonInjectionSuspected    Reason = "injection_suspected"
	ReasonNoMatch               Reason = "no_match"
	ReasonTimeout               Reason = "timeout"
	ReasonAborted               Reason = "aborted"
	ReasonRegisterPhotoMissing  Reason = "register_photo_missing"
	ReasonRegisterPhotoUnusable Reason = "register_photo_unusable"
	ReasonChallengeFailed       Reason = "challenge_failed"
	// ReasonFaceChanged: the face that did the prompts is not the face in
	// the frames being matched (capture.Config.SamePersonScore).
	ReasonFaceChanged Reason = "face_changed"
)

// Reasons lists every reason code.
var Reasons = []Reason{
	ReasonNoFace, ReasonMultipleFaces, ReasonPoorLight, ReasonBlurry, ReasonTooFar, ReasonPose,
	ReasonLivenessFailed, ReasonInjectionSuspected, ReasonNoMatch, ReasonTimeout, ReasonAborted,
	ReasonRegisterPhotoMissing, ReasonRegisterPhotoUnusable, ReasonChallengeFailed, ReasonFaceChanged,
}

// Valid reports whether r is one of Reasons.
func (r Reason) Valid() bool { return slices.Contains(Reasons, r) }

// registerProblem: the register photo, not the applicant, is the problem;
// retrying cannot help, so the session goes to a moderator and the attempt
// does not count toward the lockout.
func (r Reason) registerProblem() bool {
	return r == ReasonRegisterPhotoMissing || r == ReasonRegisterPhotoUnusable
}

// Public is the reason as shown to the applicant: injection_suspected and
// face_changed are reported as liveness_failed so an attacker learns
// nothing about which check caught them.
func (r Reason) Public() Reason {
	if r == ReasonInjectionSuspected || r == ReasonFaceChanged {
		return ReasonLivenessFailed
	}
	return r
}

// Result is what the engine reports at the end of one attempt.
type Result struct {
	Outcome Outcome
	// Reason refines a failure; empty means the outcome's own code
	// (no_match → no_match …). Must be empty for match.
	Reason Reason
	// LivenessScore and MatchScore are the engine's scores (MatchScore in
	// [0,1], see engine.Score); 0 when not measured. They are kept in the
	// attempt record and the audit log only, never shown to the applicant
	// or the relying party.
	LivenessScore float64
	MatchScore    float64
	// SamePersonScore is the lowest score between the face seen during a
	// prompt and the matched frames, in [0,1]; -1 or 0 when not measured
	// (stored as NULL).
	SamePersonScore float64
	// Threshold is the match threshold used (score units); needed for the
	// moderation band.
	Threshold        float64
	ThresholdVersion string
	Model            string
	// EvidenceRef points at the stored best frames (for moderators).
	EvidenceRef string
}

func (r *Result) normalise() error {
	if !r.Outcome.valid() {
		return fmt.Errorf("%w: unknown outcome %q", ErrInvalidRequest, r.Outcome)
	}
	switch {
	case r.Reason == "":
		if r.Outcome != OutcomeMatch && r.Outcome != OutcomeError {
			r.Reason = Reason(r.Outcome)
		}
	case r.Outcome == OutcomeMatch:
		return fmt.Errorf("%w: a match has no failure reason (got %q)", ErrInvalidRequest, r.Reason)
	case !r.Reason.Valid():
		return fmt.Errorf("%w: unknown reason %q", ErrInvalidRequest, r.Reason)
	}
	for _, f := range []struct {
		name string
		v    float64
		unit bool
	}{{"liveness score", r.LivenessScore, false}, {"match score", r.MatchScore, true}, {"threshold", r.Threshold, true}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || (f.unit && (f.v < 0 || f.v > 1)) {
			return fmt.Errorf("%w: %s %v out of range", ErrInvalidRequest, f.name, f.v)
		}
	}
	if math.IsNaN(r.SamePersonScore) || r.SamePersonScore > 1 || r.SamePersonScore < -1 {
		return fmt.Errorf("%w: same-person score %v out of range", ErrInvalidRequest, r.SamePersonScore)
	}
	if len(r.ThresholdVersion) > 200 || len(r.Model) > 200 || len(r.EvidenceRef) > 1000 {
		return fmt.Errorf("%w: threshold version, model or evidence ref too long", ErrInvalidRequest)
	}
	return nil
}

// Session is the internal view of a verification session. It holds the
// raw IIN (the engine needs it for the register lookup): log it through
// LogValue, which masks it.
type Session struct {
	ID                 string
	ClientID           string
	IIN                string
	State              State
	RequiresModeration bool
	CallbackURL        string
	ReturnURL          string
	CreatedAt          time.Time
	ExpiresAt          time.Time
	// DecidedAt is when the session left open; zero while open.
	DecidedAt       time.Time
	AttemptsStarted int
	// FailedAttempts counts this session's attempts that counted toward
	// the lockout.
	FailedAttempts int
	// AttemptsLeft is how many failures the applicant may still have
	// before the lockout (0 unless open). The budget belongs to the IIN,
	// not the session; see the package doc.
	AttemptsLeft int
	// LockedUntil is when the applicant's lockout ends; zero if not locked.
	LockedUntil     time.Time
	ConsentAccepted bool
	ConsentLang     string
	// AttemptRunning is true while an attempt has no result.
	AttemptRunning bool
	// LastOutcome and LastReason describe the newest finished attempt.
	LastOutcome Outcome
	LastReason  Reason
}

// Attempt is one started capture run.
type Attempt struct {
	ID        string
	SessionID string
	// N is the attempt's number within the session, from 1.
	N         int
	StartedAt time.Time
	// Deadline is when the attempt counts as timed out (database clock).
	Deadline time.Time
}

// Phase is where the applicant is in the flow.
type Phase string

// Applicant phases.
const (
	PhaseConsent   Phase = "consent"   // consent not yet given
	PhaseReady     Phase = "ready"     // may start an attempt
	PhaseCapturing Phase = "capturing" // an attempt is running
	PhaseFinished  Phase = "finished"  // see Status.Outcome
)

// Applicant-facing outcomes of a finished session.
const (
	ApplicantVerified    = "verified"
	ApplicantUnderReview = "under_review"
	ApplicantNotVerified = "not_verified"
	ApplicantLocked      = "locked"
	ApplicantExpired     = "expired"
	ApplicantCancelled   = "cancelled"
)

// Status is the applicant's view: no scores, no IIN, no internal reasons.
type Status struct {
	Phase        Phase      `json:"phase"`
	AttemptsLeft int        `json:"attempts_left"`
	LockedUntil  *time.Time `json:"locked_until,omitempty"`
	// Outcome is set once Phase is finished: verified, under_review,
	// not_verified, locked, expired, cancelled.
	Outcome string `json:"outcome,omitempty"`
	// LastReason is the reason of the last failed attempt, for feedback
	// ("too dark"); injection_suspected and face_changed are shown as
	// liveness_failed.
	LastReason Reason    `json:"last_reason,omitempty"`
	ExpiresAt  time.Time `json:"expires_at"`
	// ReturnURL is where to send the applicant once finished.
	ReturnURL string `json:"return_url,omitempty"`
}

// Status returns the applicant's view of s.
func (s Session) Status() Status {
	st := Status{AttemptsLeft: s.AttemptsLeft, ExpiresAt: s.ExpiresAt, LastReason: s.LastReason.Public()}
	if !s.LockedUntil.IsZero() {
		t := s.LockedUntil
		st.LockedUntil = &t
	}
	switch s.State {
	case StateOpen:
		switch {
		case s.AttemptRunning:
			st.Phase = PhaseCapturing
		case !s.ConsentAccepted:
			st.Phase = PhaseConsent
		default:
			st.Phase = PhaseReady
		}
		return st
	case StateMatched, StateApproved:
		st.Outcome = ApplicantVerified
	case StateModeration:
		st.Outcome = ApplicantUnderReview
	case StateRejected:
		st.Outcome = ApplicantNotVerified
	case StateLocked:
		st.Outcome = ApplicantLocked
	case StateExpired:
		st.Outcome = ApplicantExpired
	case StateCancelled:
		st.Outcome = ApplicantCancelled
	}
	st.Phase, st.AttemptsLeft, st.ReturnURL = PhaseFinished, 0, s.ReturnURL
	return st
}

// Detail is the relying party's view of a session: state and per-attempt
// outcomes with reason codes, but no scores (those stay in the attempt
// record and the audit log) and only a masked IIN.
type Detail struct {
	ID                 string           `json:"id"`
	ClientID           string           `json:"client_id"`
	IINMasked          string           `json:"iin_masked"`
	State              State            `json:"state"`
	RequiresModeration bool             `json:"requires_moderation"`
	CreatedAt          time.Time        `json:"created_at"`
	ExpiresAt          time.Time        `json:"expires_at"`
	DecidedAt          *time.Time       `json:"decided_at,omitempty"`
	AttemptsStarted    int              `json:"attempts_started"`
	FailedAttempts     int              `json:"failed_attempts"`
	AttemptsLeft       int              `json:"attempts_left"`
	LockedUntil        *time.Time       `json:"locked_until,omitempty"`
	ConsentAccepted    bool             `json:"consent_accepted"`
	Attempts           []AttemptSummary `json:"attempts"`
}

// AttemptSummary is one attempt in a Detail.
type AttemptSummary struct {
	N          int        `json:"n"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Outcome    Outcome    `json:"outcome,omitempty"`
	Reason     Reason     `json:"reason,omitempty"`
	Counted    bool       `json:"counted"`
}
