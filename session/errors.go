package session

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors callers branch on (errors.Is).
var (
	// ErrNotFound: no session (or attempt, or token) with that id.
	ErrNotFound = errors.New("session not found")
	// ErrExpired: the session's time ran out before a decision.
	ErrExpired = errors.New("session expired")
	// ErrSessionClosed: the session has a final state (matched, locked,
	// moderation, cancelled …) and accepts no more attempts or consent; a
	// new session is needed.
	ErrSessionClosed = errors.New("session closed")
	// ErrLockedOut: the applicant (by IIN) is locked out after too many
	// failed attempts. The error is a *LockedError carrying the time.
	ErrLockedOut = errors.New("locked out after too many failed attempts")
	// ErrAttemptInProgress: the session, or another session of the same
	// IIN, already has a running attempt.
	ErrAttemptInProgress = errors.New("an attempt is already in progress")
	// ErrAttemptFinished: FinishAttempt on an attempt that already has a
	// result (for instance one closed as timed out).
	ErrAttemptFinished = errors.New("attempt already finished")
	// ErrInvalidTransition: the requested state change is not allowed from
	// the session's current state (e.g. Decide on a session not in
	// moderation).
	ErrInvalidTransition = errors.New("invalid session state transition")
	// ErrConsentRequired: capture needs the applicant's recorded consent.
	ErrConsentRequired = errors.New("consent required before capture")
	// ErrNotApproved: Handover on a session a moderator has not approved.
	ErrNotApproved = errors.New("session not approved by a moderator")
	// ErrHandedOver: the assertion of an approved session was already
	// handed to the applicant (an approval yields one assertion).
	ErrHandedOver = errors.New("the approved session's assertion was already handed over")
	// ErrHandoverExpired: the approved session's hand-over window
	// (Config.HandoverWindow after the approval) has passed; the decision
	// stands for the relying party, but no assertion is issued any more.
	ErrHandoverExpired = errors.New("the time to receive the approved session's assertion has passed")
	// ErrInvalidRequest: bad input (IIN, URL, TTL, language, result
	// fields); nothing was written.
	ErrInvalidRequest = errors.New("invalid session request")
)

// Sentinel errors of moderation cases (case.go).
var (
	// ErrNotInModeration: the session is not a case waiting for a
	// moderator (already decided, or never sent to moderation).
	ErrNotInModeration = errors.New("session is not in moderation")
	// ErrClaimed: another moderator holds the case; see ClaimedError.
	ErrClaimed = errors.New("case claimed by another moderator")
	// ErrNotClaimed: the deciding moderator holds no unexpired claim on
	// the case.
	ErrNotClaimed = errors.New("case not claimed by this moderator, or the claim ran out")
	// ErrSecondApprover: under the four-eyes rule the second approval
	// came from the moderator who gave the first.
	ErrSecondApprover = errors.New("the second approval must come from another moderator")
)

// LockedError is returned (wrapped) while an applicant is locked out.
// errors.Is(err, ErrLockedOut) holds for it.
type LockedError struct {
	// Until is when the lockout ends, by the database clock.
	Until time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%v until %s", ErrLockedOut, e.Until.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrLockedOut) true.
func (e *LockedError) Is(target error) bool { return target == ErrLockedOut }

// RetryAfter is how long after now the lockout ends (never negative). now
// should come from the same clock as Until; the decision itself was made by
// the database, this is for Retry-After headers and messages.
func (e *LockedError) RetryAfter(now time.Time) time.Duration {
	return max(e.Until.Sub(now), 0)
}
