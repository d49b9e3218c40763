package session

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"vidid/policy"
	"vidid/reason"
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

// Outcome is how one capture run (attempt) ended (package reason owns
// the set).
type Outcome = reason.Outcome

// Attempt outcomes.
const (
	OutcomeMatch          = reason.OutcomeMatch
	OutcomeNoMatch        = reason.OutcomeNoMatch
	OutcomeLivenessFailed = reason.OutcomeLivenessFailed
	OutcomeTimeout        = reason.OutcomeTimeout
	OutcomeAborted        = reason.OutcomeAborted
	OutcomeError          = reason.OutcomeError
)

// Reason is the machine-readable reason for a failed attempt (package
// reason owns the set).
type Reason = reason.Code

// Reason codes.
const (
	ReasonNoFace                = reason.NoFace
	ReasonMultipleFaces         = reason.MultipleFaces
	ReasonPoorLight             = reason.PoorLight
	ReasonBlurry                = reason.Blurry
	ReasonTooFar                = reason.TooFar
	ReasonPose                  = reason.Pose
	ReasonLivenessFailed        = reason.LivenessFailed
	ReasonInjectionSuspected    = reason.InjectionSuspected
	ReasonNoMatch               = reason.NoMatch
	ReasonTimeout               = reason.Timeout
	ReasonAborted               = reason.Aborted
	ReasonRegisterPhotoMissing  = reason.RegisterPhotoMissing
	ReasonRegisterPhotoUnusable = reason.RegisterPhotoUnusable
	ReasonChallengeFailed       = reason.ChallengeFailed
	ReasonFaceChanged           = reason.FaceChanged
)

// Reasons lists every reason code.
var Reasons = reason.All

// Result is what the engine reports at the end of one attempt: the
// decision policy's verdict (policy.Decide) with the scores and the
// measurements it was made from. The session applies the verdict's route;
// it never compares scores itself.
type Result struct {
	Outcome Outcome
	// Route is where the verdict sends the session: issue (a match),
	// moderate (a person decides), count (a failure toward the lockout)
	// or none (a server error). It must agree with Outcome.
	Route policy.Route
	// PolicyVersion names the decision policy the verdict was made under;
	// Measurements are what it was made from (policy.Measurements as
	// JSON), both kept with the attempt.
	PolicyVersion string
	Measurements  json.RawMessage
	// DecidedBy names what decided the verdict (policy.Verdict.DecidedBy:
	// "match", "cue:camera" …), for the audit record; never shown to the
	// applicant or the relying party, who get the reason code.
	DecidedBy string
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
	// Threshold is the match threshold used (score units), for the record.
	Threshold        float64
	ThresholdVersion string
	Model            string
	// EvidenceRef points at the stored best frames (for moderators).
	EvidenceRef string
}

func (r *Result) normalise() error {
	if !r.Outcome.Valid() {
		return fmt.Errorf("%w: unknown outcome %q", ErrInvalidRequest, r.Outcome)
	}
	// Outcomes with one possible route may leave it out (late timeouts,
	// aborted captures); a match or a no-match must carry the verdict's.
	if r.Route == "" {
		switch {
		case r.Outcome == OutcomeError:
			r.Route = policy.RouteNone
		case r.Outcome != OutcomeMatch && r.Outcome != OutcomeNoMatch:
			r.Route = policy.RouteCount
		}
	}
	okRoute := map[policy.Route]bool{
		policy.RouteIssue:    r.Outcome == OutcomeMatch,
		policy.RouteModerate: r.Outcome == OutcomeMatch || r.Outcome == OutcomeNoMatch,
		policy.RouteCount:    r.Outcome.CountsAsFailure(),
		policy.RouteNone:     r.Outcome == OutcomeError,
	}[r.Route]
	if !okRoute {
		return fmt.Errorf("%w: route %q does not fit outcome %q", ErrInvalidRequest, r.Route, r.Outcome)
	}
	if len(r.PolicyVersion) > 200 || len(r.Measurements) > 64<<10 {
		return fmt.Errorf("%w: policy version or measurements too long", ErrInvalidRequest)
	}
	if len(r.Measurements) > 0 && !json.Valid(r.Measurements) {
		return fmt.Errorf("%w: measurements are not JSON", ErrInvalidRequest)
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
	DecidedAt time.Time
	// HandoverUntil is when an approved session's hand-over window ends
	// (zero unless approved); HandoverOpen says whether the applicant may
	// still take the fresh capture that hands the assertion over, and
	// HandedOverAt when it was handed over (zero until then).
	HandoverUntil   time.Time
	HandoverOpen    bool
	HandedOverAt    time.Time
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
