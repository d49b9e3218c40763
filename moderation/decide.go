package moderation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"vidid/session"
)

// maxNoteLen bounds a decision note (as session.PG.DecideCase does).
const maxNoteLen = 4000

// Decide approves or rejects a case mod has open. A rejection needs one
// of session.RejectReasons and a note; an approval has neither code nor
// required note. An approval makes the session approved: the applicant
// can go on to the CA after a fresh live capture in the same link (package
// handover), and the relying party is called back either way. The claim check, the four-eyes rule, the decision and
// the release of the claim are one transaction (session.PG.DecideCase); a
// first approval under the rule returns the session still in moderation.
func (q *Queue) Decide(ctx context.Context, mod Moderator, sessionID string, approved bool, reason, note string) (session.Session, error) {
	note = strings.TrimSpace(note)
	switch {
	case approved && reason != "":
		return session.Session{}, fmt.Errorf("%w: an approval has no rejection reason", ErrInvalidRequest)
	case !approved && !slices.Contains(session.RejectReasons, reason):
		return session.Session{}, ErrReasonRequired
	case !approved && note == "":
		return session.Session{}, ErrNoteRequired
	case len(note) > maxNoteLen:
		return session.Session{}, fmt.Errorf("%w: note longer than %d bytes", ErrInvalidRequest, maxNoteLen)
	}
	s, err := q.sessions.DecideCase(ctx, sessionID, session.Decision{Approved: approved, ModeratorID: mod.ID, Note: note, Reason: reason,
		Claimed: true, TwoApprovals: q.twoApprovals})
	if err != nil {
		return session.Session{}, caseError(err)
	}
	if s.State == session.StateModeration {
		q.m.decisions.WithLabelValues("first_approval").Inc()
		q.log.InfoContext(ctx, "case approved once; a second moderator must approve", "session_id", sessionID, "moderator_id", mod.ID)
		return s, nil
	}
	decision := "rejected"
	if approved {
		decision = "approved"
	}
	q.m.decisions.WithLabelValues(decision).Inc()
	q.log.InfoContext(ctx, "case decided", "session_id", sessionID, "moderator_id", mod.ID, "decision", decision)
	return s, nil
}

// twoApprovals is the four-eyes rule: an approval of a case of a kind in
// Config.FourEyes needs two moderators.
func (q *Queue) twoApprovals(lastReason session.Reason, flagged bool) bool {
	return slices.Contains(q.cfg.FourEyes, why(lastReason, flagged))
}

// sessionErrors maps package session's refusals of a case write to this
// package's sentinels, which the API maps to HTTP.
var sessionErrors = []struct{ from, to error }{
	{session.ErrNotFound, ErrNotFound},
	{session.ErrInvalidTransition, ErrNotInQueue},
	{session.ErrNotInModeration, ErrNotInQueue},
	{session.ErrNotClaimed, ErrNotClaimed},
	{session.ErrSecondApprover, ErrSecondApprover},
}

// caseError returns err as this package's sentinel where it has one.
func caseError(err error) error {
	for _, m := range sessionErrors {
		if errors.Is(err, m.from) {
			return fmt.Errorf("%w: %w", m.to, err)
		}
	}
	return err
}
