package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"vidid/audit"
	"vidid/policy"
	"vidid/session"
)

// After a moderator's approval the assertion is handed over only through
// a fresh capture, within the window, once; failures of that capture
// count toward the lockout.
func TestHandover(t *testing.T) {
	e := newEnv(t, session.Config{MaxFailedAttempts: 3})
	ctx := context.Background()
	approved := func(n int) (string, string) {
		t.Helper()
		s, tok := e.open(testIIN(n))
		if got := e.attempt(s.ID, session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteModerate, MatchScore: 0.67, Threshold: 0.7,
			LivenessScore: 0.8, Model: "m", ThresholdVersion: "v", EvidenceRef: "ev/1"}); got.State != session.StateModeration {
			t.Fatalf("state %s", got.State)
		}
		if _, err := e.store.Decide(ctx, s.ID, true, "0123456789abcdef", "ok"); err != nil {
			t.Fatal(err)
		}
		return s.ID, tok
	}
	mark := func(id string) (session.Handover, error) {
		var h session.Handover
		err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
			var err error
			if h, err = e.store.MarkHandedOver(ctx, tx, id); err != nil {
				return err
			}
			_, err = e.audit.Append(ctx, tx, audit.Entry{Kind: audit.KindAssertionIssued, SessionID: id, Data: map[string]any{"jti": "x"}})
			return err
		})
		return h, err
	}

	id, tok := approved(1)
	view, err := e.store.ByToken(ctx, tok)
	if err != nil || view.State != session.StateApproved || !view.HandoverOpen || view.HandoverUntil.Sub(view.DecidedAt) != 24*time.Hour {
		t.Fatalf("approved view %+v, %v", view, err)
	}
	if a, err := e.store.ApprovedAttempt(ctx, id); err != nil || a == "" {
		t.Fatalf("approved attempt %q, %v", a, err)
	}

	// The fresh capture: a failure counts and the session stays approved.
	got := e.attempt(id, session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteCount, MatchScore: 0.3, Threshold: 0.7})
	if got.State != session.StateApproved || got.FailedAttempts != 1 || got.AttemptsLeft != 2 {
		t.Fatalf("after a failed hand-over capture: state %s, %d failures, %d left", got.State, got.FailedAttempts, got.AttemptsLeft)
	}
	// A matching capture: the hand-over marks it, once.
	e.attempt(id, session.Result{Outcome: session.OutcomeMatch, Route: policy.RouteIssue, MatchScore: 0.9, Threshold: 0.7})
	h, err := mark(id)
	if err != nil || h.ModeratorID != "0123456789abcdef" || h.Session.ID != id || h.DecidedAt.IsZero() {
		t.Fatalf("hand-over %+v, %v", h, err)
	}
	if _, err := mark(id); !errors.Is(err, session.ErrHandedOver) {
		t.Fatalf("second hand-over: %v, want ErrHandedOver", err)
	}
	if _, err := e.store.StartAttempt(ctx, id); !errors.Is(err, session.ErrHandedOver) {
		t.Fatalf("a capture after the hand-over: %v, want ErrHandedOver", err)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'assertion_issued' AND session_id = $1`, id); n != 1 {
		t.Errorf("%d assertion_issued records, want 1", n)
	}

	// A failed issue marks nothing: the applicant can try again.
	id2, _ := approved(2)
	boom := errors.New("signing key unavailable")
	if err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		if _, err := e.store.MarkHandedOver(ctx, tx, id2); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if v, _ := e.store.Get(ctx, id2); !v.HandedOverAt.IsZero() || !v.HandoverOpen {
		t.Fatalf("a rolled-back hand-over left %+v", v)
	}

	// After the window: neither a capture nor a hand-over; the decision stands.
	e.exec(`UPDATE sessions SET decided_at = decided_at - interval '25 hours' WHERE id = $1`, id2)
	if _, err := e.store.StartAttempt(ctx, id2); !errors.Is(err, session.ErrHandoverExpired) {
		t.Fatalf("capture after the window: %v, want ErrHandoverExpired", err)
	}
	if _, err := mark(id2); !errors.Is(err, session.ErrHandoverExpired) {
		t.Fatalf("hand-over after the window: %v, want ErrHandoverExpired", err)
	}
	if v, _ := e.store.Get(ctx, id2); v.State != session.StateApproved || v.HandoverOpen {
		t.Fatalf("after the window: %+v", v)
	}

	// Someone else with the link: failures lock the applicant out; the
	// session stays approved.
	id3, _ := approved(3)
	for range 3 {
		got = e.attempt(id3, session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteCount, MatchScore: 0.3, Threshold: 0.7})
	}
	if got.State != session.StateApproved || got.LockedUntil.IsZero() {
		t.Fatalf("after 3 failed hand-over captures: state %s, locked until %v", got.State, got.LockedUntil)
	}
	var locked *session.LockedError
	if _, err := e.store.StartAttempt(ctx, id3); !errors.As(err, &locked) {
		t.Fatalf("capture while locked out: %v", err)
	}

	// Not approved: no hand-over.
	s, _ := e.open(testIIN(4))
	if _, err := mark(s.ID); !errors.Is(err, session.ErrNotApproved) {
		t.Errorf("open session: %v, want ErrNotApproved", err)
	}
	e.attempt(s.ID, session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteModerate, MatchScore: 0.66, Threshold: 0.7})
	if _, err := e.store.Decide(ctx, s.ID, false, "0123456789abcdef", "another person"); err != nil {
		t.Fatal(err)
	}
	if _, err := mark(s.ID); !errors.Is(err, session.ErrNotApproved) {
		t.Errorf("rejected session: %v, want ErrNotApproved", err)
	}
	if _, err := e.store.StartAttempt(ctx, s.ID); !errors.Is(err, session.ErrSessionClosed) {
		t.Errorf("capture in a rejected session: %v, want ErrSessionClosed", err)
	}
}
