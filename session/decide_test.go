package session_test

import (
	"context"
	"errors"
	"testing"

	"vidid/policy"
	"vidid/session"
)

func TestDecideCaseReason(t *testing.T) {
	e := newEnv(t, session.Config{})
	ctx := context.Background()
	s, _ := e.open(testIIN(1))
	e.attempt(s.ID, session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteModerate, MatchScore: 0.67, Threshold: 0.7})
	for _, bad := range []session.Decision{
		{Approved: true, ModeratorID: "m", Reason: "not_live"},
		{ModeratorID: "m", Reason: "looked odd"},
	} {
		if _, err := e.store.DecideCase(ctx, s.ID, bad); !errors.Is(err, session.ErrInvalidRequest) {
			t.Errorf("DecideCase(%+v) = %v, want ErrInvalidRequest", bad, err)
		}
	}
	if n := e.count(`SELECT count(*) FROM sessions WHERE id = $1 AND status = 'moderation'`, s.ID); n != 1 {
		t.Fatal("a refused decision changed the session")
	}
	got, err := e.store.DecideCase(ctx, s.ID, session.Decision{ModeratorID: "m", Note: "a printed photo", Reason: "not_live"})
	if err != nil || got.State != session.StateRejected {
		t.Fatalf("reject: %v, %v", got.State, err)
	}
	if n := e.count(`SELECT count(*) FROM sessions WHERE id = $1 AND moderation_reason = 'not_live' AND moderation_note = 'a printed photo'`, s.ID); n != 1 {
		t.Error("the rejection code is not stored with the session")
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'moderation_decision' AND session_id = $1 AND data->>'reason' = 'not_live'`, s.ID); n != 1 {
		t.Error("the rejection code is not in the audit record")
	}
}
