package moderation_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"vidid/moderation"
	"vidid/policy"
	"vidid/session"
)

// nearCase sends a near-threshold case of a new applicant to the queue.
func (e *env) nearCase(serial int) string {
	e.t.Helper()
	return e.toModeration(e.citizen(serial), session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteModerate,
		MatchScore: 0.68, Threshold: 0.7}, nil)
}

func (e *env) open(q *moderation.Queue, mod moderation.Moderator, id string) {
	e.t.Helper()
	if _, err := q.Open(e.ctx, mod, id); err != nil {
		e.t.Fatalf("%s opens %s: %v", mod.Name, id, err)
	}
}

// auditCount counts the audit records of one kind for a session.
func (e *env) auditCount(id, kind string) int {
	e.t.Helper()
	return e.count(`SELECT count(*) FROM audit_log WHERE session_id = $1 AND kind = $2`, id, kind)
}

// snapshot is everything a decision on session id could write: the
// session and guard rows, and how many audit records and callbacks exist.
func (e *env) snapshot(id string) string {
	e.t.Helper()
	var s string
	err := e.pool.QueryRow(e.ctx, `
		SELECT row_to_json(s)::text || row_to_json(g)::text ||
		       (SELECT count(*) FROM audit_log)::text || '/' || (SELECT count(*) FROM rp_callbacks)::text
		FROM sessions s JOIN subject_guards g ON g.iin = s.iin WHERE s.id = $1`, id).Scan(&s)
	if err != nil {
		e.t.Fatalf("snapshot: %v", err)
	}
	return s
}

// decision is one moderator's call of Queue.Decide.
type decision struct {
	by       int // index into the test's moderators
	approved bool
}

func (d decision) do(e *env, q *moderation.Queue, mods []moderation.Moderator, id string) (session.Session, error) {
	if d.approved {
		return q.Decide(e.ctx, mods[d.by], id, true, "", "same person")
	}
	return q.Decide(e.ctx, mods[d.by], id, false, "not_live", "a printed photo")
}

// TestDecideRace: moderators deciding one case at the same moment give
// exactly one decision (or one first approval), with one audit record and
// one callback; the others are refused with the API's 409 errors.
func TestDecideRace(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.moderator("Alice"), e.moderator("Bob")
	mods := []moderation.Moderator{alice, bob}
	plain := e.queue(moderation.Config{})
	fourEyes := e.queue(moderation.Config{FourEyes: []string{moderation.WhyNearThreshold}})
	both := []decision{{0, true}, {1, true}, {0, false}, {1, false}, {0, true}, {1, true}, {0, false}, {1, false}}
	for i, tc := range []struct {
		name  string
		q     *moderation.Queue
		setup func(id string) // leaves the case claimed by the winner
		calls []decision
		// winner is the moderator whose call may succeed; want the state
		// it leaves; kind the audit record written once.
		winner int
		want   session.State
		kind   string
	}{
		{name: "holder and another moderator", q: plain, setup: func(id string) { e.open(plain, alice, id) },
			calls: both, winner: 0, want: "", kind: "moderation_decision"},
		{name: "holder clicks twice, two ways", q: plain, setup: func(id string) { e.open(plain, bob, id) },
			calls: []decision{{1, true}, {1, false}, {1, true}, {1, false}}, winner: 1, want: "", kind: "moderation_decision"},
		{name: "first approval under four eyes", q: fourEyes, setup: func(id string) { e.open(fourEyes, alice, id) },
			calls: []decision{{0, true}, {0, true}, {1, true}, {0, true}}, winner: 0, want: session.StateModeration, kind: "case_first_approval"},
		{name: "second approval under four eyes", q: fourEyes, setup: func(id string) {
			e.open(fourEyes, alice, id)
			if _, err := fourEyes.Decide(e.ctx, alice, id, true, "", "first"); err != nil {
				t.Fatal(err)
			}
			e.open(fourEyes, bob, id)
		}, calls: both, winner: 1, want: "", kind: "moderation_decision"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := e.nearCase(40 + i)
			tc.setup(id)
			type result struct {
				d   decision
				s   session.Session
				err error
			}
			results := make(chan result, len(tc.calls))
			start := make(chan struct{})
			for _, d := range tc.calls {
				go func() {
					<-start
					s, err := d.do(e, tc.q, mods, id)
					results <- result{d, s, err}
				}()
			}
			close(start)
			won := 0
			for range tc.calls {
				r := <-results
				switch {
				case r.err == nil:
					won++
					want := tc.want
					if want == "" {
						want = map[bool]session.State{true: session.StateApproved, false: session.StateRejected}[r.d.approved]
					}
					if r.d.by != tc.winner || r.s.State != want {
						t.Errorf("%s's decision %+v won with state %s; want %s's, state %s", mods[r.d.by].Name, r.d, r.s.State, mods[tc.winner].Name, want)
					}
				case errors.Is(r.err, moderation.ErrNotInQueue), errors.Is(r.err, moderation.ErrNotClaimed):
				default:
					t.Errorf("%+v: %v", r.d, r.err)
				}
			}
			if won != 1 {
				t.Fatalf("%d decisions succeeded, want 1", won)
			}
			if n := e.auditCount(id, tc.kind); n != 1 {
				t.Errorf("%d %s audit records, want 1", n, tc.kind)
			}
			decided := 0
			if tc.want == "" {
				decided = 1
			}
			if n := e.count(`SELECT count(*) FROM rp_callbacks WHERE session_id = $1 AND convert_from(body, 'UTF8')::jsonb->'data'->>'previous_state' = 'moderation'`, id); n != decided {
				t.Errorf("%d callbacks for a decision, want %d", n, decided)
			}
			if n := e.count(`SELECT count(*) FROM sessions WHERE id = $1 AND claimed_by IS NULL AND claimed_until IS NULL`, id); n != 1 {
				t.Error("the claim is not released")
			}
		})
	}
}

// TestDecideExpiredClaim: a moderator whose claim ran out decides
// nothing, whatever the decision.
func TestDecideExpiredClaim(t *testing.T) {
	e := newEnv(t)
	alice := e.moderator("Alice")
	mods := []moderation.Moderator{alice}
	for i, tc := range []struct {
		name     string
		fourEyes []string
		d        decision
	}{
		{"approval", nil, decision{0, true}},
		{"rejection", nil, decision{0, false}},
		{"first approval under four eyes", []string{moderation.WhyNearThreshold}, decision{0, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := e.queue(moderation.Config{FourEyes: tc.fourEyes})
			id := e.nearCase(50 + i)
			e.open(q, alice, id)
			if _, err := e.pool.Exec(e.ctx, `UPDATE sessions SET claimed_until = now() - interval '1 second' WHERE id = $1`, id); err != nil {
				t.Fatal(err)
			}
			before := e.snapshot(id)
			if _, err := tc.d.do(e, q, mods, id); !errors.Is(err, moderation.ErrNotClaimed) {
				t.Fatalf("decide on an expired claim: %v, want ErrNotClaimed", err)
			}
			if after := e.snapshot(id); after != before {
				t.Errorf("a refused decision wrote:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// TestDecideRollback: a decision that fails after its first write (an
// audit record the database refuses) writes nothing: the case stays in
// the queue, claimed as before, and the same decision then goes through.
func TestDecideRollback(t *testing.T) {
	e := newEnv(t)
	alice := e.moderator("Alice")
	mods := []moderation.Moderator{alice}
	if _, err := e.pool.Exec(e.ctx, `
		CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'injected failure appending %', NEW.kind; END $$`); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name     string
		fourEyes []string
		d        decision
		refuse   string // the audit kind the database refuses
		want     session.State
	}{
		{"approval's decision record", nil, decision{0, true}, "moderation_decision", session.StateApproved},
		{"rejection's decision record", nil, decision{0, false}, "moderation_decision", session.StateRejected},
		{"state change record, after the callback", nil, decision{0, true}, "session_decided", session.StateApproved},
		{"first approval record", []string{moderation.WhyNearThreshold}, decision{0, true}, "case_first_approval", session.StateModeration},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := e.queue(moderation.Config{FourEyes: tc.fourEyes})
			id := e.nearCase(60 + i)
			e.open(q, alice, id)
			before, records := e.snapshot(id), e.auditCount(id, tc.refuse)
			if _, err := e.pool.Exec(e.ctx, fmt.Sprintf(`
				CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW
				WHEN (NEW.kind = '%s') EXECUTE FUNCTION test_refuse_audit()`, tc.refuse)); err != nil {
				t.Fatal(err)
			}
			_, err := tc.d.do(e, q, mods, id)
			if _, derr := e.pool.Exec(e.ctx, `DROP TRIGGER test_refuse_audit ON audit_log`); derr != nil {
				t.Fatal(derr)
			}
			if err == nil {
				t.Fatal("the decision succeeded although its audit record was refused")
			}
			if after := e.snapshot(id); after != before {
				t.Fatalf("a failed decision wrote:\nbefore %s\nafter  %s", before, after)
			}
			if list, err := q.List(e.ctx, 0); err != nil || len(list) == 0 || list[len(list)-1].SessionID != id || list[len(list)-1].ClaimedByID != alice.ID {
				t.Fatalf("queue after the failed decision: %+v, %v; want the case claimed by Alice", list, err)
			}
			s, err := tc.d.do(e, q, mods, id)
			if err != nil || s.State != tc.want {
				t.Fatalf("the decision again: %v, %v; want %s", s.State, err, tc.want)
			}
			if n := e.auditCount(id, tc.refuse); n != records+1 {
				t.Errorf("%d %s records, want %d", n, tc.refuse, records+1)
			}
		})
	}
}

// TestDecideClaimTakenWhileWaiting: the claim is checked under the lock
// that orders decisions, so a claim taken over by another moderator while
// a decision waits for the case (Alice's claim ran out, Bob opened it)
// refuses that decision, and Bob's claim stands.
func TestDecideClaimTakenWhileWaiting(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.moderator("Alice"), e.moderator("Bob")
	q := e.queue(moderation.Config{})
	id := e.nearCase(70)
	e.open(q, alice, id)
	tx, err := e.pool.Begin(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(e.ctx)
	if _, err := tx.Exec(e.ctx, `SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := q.Decide(e.ctx, alice, id, true, "", "same person")
		done <- err
	}()
	// Wait until the decision waits for the row lock.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if e.count(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the decision never waited for the case's lock")
		}
	}
	if _, err := tx.Exec(e.ctx, `UPDATE sessions SET claimed_by = $2, claimed_until = now() + interval '1 hour' WHERE id = $1`, id, bob.ID); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, moderation.ErrNotClaimed) {
		t.Fatalf("Alice decides a case Bob took over: %v, want ErrNotClaimed", err)
	}
	if n := e.count(`SELECT count(*) FROM sessions WHERE id = $1 AND status = 'moderation' AND claimed_by = $2 AND moderator_id IS NULL`, id, bob.ID); n != 1 {
		t.Error("the case is not in the queue with Bob's claim")
	}
	if _, err := q.Decide(e.ctx, bob, id, false, "not_live", "a printed photo"); err != nil {
		t.Fatalf("Bob decides: %v", err)
	}
}
