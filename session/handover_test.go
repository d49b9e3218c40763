package session_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"vidid/audit"
	"vidid/policy"
	"vidid/session"
)

func TestHandover(t *testing.T) {
	e := newEnv(t, session.Config{})
	ctx := context.Background()
	approved := func(n int) (string, string) {
		t.Helper()
		s, tok := e.open(testIIN(n))
		if got := e.attempt(s.ID, session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteModerate, MatchScore: 0.67, Threshold: 0.7,
			LivenessScore: 0.8, Model: "m", ThresholdVersion: "v"}); got.State != session.StateModeration {
			t.Fatalf("state %s", got.State)
		}
		if _, err := e.store.Decide(ctx, s.ID, true, "0123456789abcdef", "ok"); err != nil {
			t.Fatal(err)
		}
		return s.ID, tok
	}
	id, tok := approved(1)
	var got session.Handover
	issue := func(ctx context.Context, tx pgx.Tx, h session.Handover) error {
		got = h
		_, err := e.audit.Append(ctx, tx, audit.Entry{Kind: audit.KindAssertionIssued, SessionID: h.Session.ID, Data: map[string]any{"jti": "x"}})
		return err
	}
	// A failed issue marks nothing: the applicant can try again.
	boom := errors.New("signing key unavailable")
	if _, err := e.store.Handover(ctx, tok, func(context.Context, pgx.Tx, session.Handover) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("failing issue: %v", err)
	}
	if _, err := e.store.Handover(ctx, tok, issue); err != nil {
		t.Fatalf("hand-over after a failed try: %v", err)
	}
	if got.Session.ID != id || got.ModeratorID != "0123456789abcdef" || got.MatchScore != 0.67 || got.LivenessScore != 0.8 ||
		got.Model != "m" || got.ThresholdVersion != "v" || got.AttemptID == "" || got.DecidedAt.IsZero() || got.Session.IIN != testIIN(1) {
		t.Errorf("hand-over = %+v", got)
	}
	if _, err := e.store.Handover(ctx, tok, issue); !errors.Is(err, session.ErrHandedOver) {
		t.Fatalf("second hand-over: %v, want ErrHandedOver", err)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'assertion_issued' AND session_id = $1`, id); n != 1 {
		t.Errorf("%d assertion_issued records, want 1", n)
	}

	s, openTok := e.open(testIIN(2))
	if _, err := e.store.Handover(ctx, openTok, issue); !errors.Is(err, session.ErrNotApproved) {
		t.Errorf("open session: %v, want ErrNotApproved", err)
	}
	e.attempt(s.ID, session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteModerate, MatchScore: 0.66, Threshold: 0.7})
	if _, err := e.store.Decide(ctx, s.ID, false, "0123456789abcdef", "another person"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Handover(ctx, openTok, issue); !errors.Is(err, session.ErrNotApproved) {
		t.Errorf("rejected session: %v, want ErrNotApproved", err)
	}
	for _, bad := range []string{"", "nope", tok + "x"} {
		if _, err := e.store.Handover(ctx, bad, issue); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Handover(%q): %v, want ErrNotFound", bad, err)
		}
	}
}
