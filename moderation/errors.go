package moderation

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors callers branch on.
var (
	// ErrUnauthorized: the access token is malformed, unknown, wrong or
	// belongs to a disabled moderator. One error for all four.
	ErrUnauthorized = errors.New("moderator not authorised")
	// ErrNotFound: no such case (or moderator).
	ErrNotFound = errors.New("case not found")
	// ErrNotInQueue: the session exists but is not waiting for a
	// moderator (already decided, or never sent to moderation).
	ErrNotInQueue = errors.New("session is not in the moderation queue")
	// ErrClaimed: another moderator is reviewing the case; see ClaimError.
	ErrClaimed = errors.New("case is being reviewed by another moderator")
	// ErrNotClaimed: the moderator does not hold the case's claim (never
	// opened it, or the claim ran out): open the case again.
	ErrNotClaimed = errors.New("case not opened by this moderator, or the review time ran out")
	// ErrNoteRequired: a rejection must say why.
	ErrNoteRequired = errors.New("a rejection needs a note saying why")
	// ErrSecondApprover: under the four-eyes rule the second approval
	// must come from another moderator than the first.
	ErrSecondApprover = errors.New("a second, different moderator must approve this case")
	// ErrReasonRequired: a rejection must give one of
	// session.RejectReasons.
	ErrReasonRequired = errors.New("a rejection needs a reason code")
	// ErrInvalidRequest: bad input (name, note, frame number …).
	ErrInvalidRequest = errors.New("invalid moderation request")
	// ErrNoEvidence: the frames asked for are not stored (none were kept,
	// or the retention job deleted them).
	ErrNoEvidence = errors.New("no stored frames")
)

// ClaimError says who holds a case and until when. It wraps ErrClaimed.
type ClaimError struct {
	By    string // the other moderator's name
	Until time.Time
}

func (e *ClaimError) Error() string {
	return fmt.Sprintf("%v (%s, until %s)", ErrClaimed, e.By, e.Until.UTC().Format(time.RFC3339))
}

func (e *ClaimError) Unwrap() error { return ErrClaimed }
