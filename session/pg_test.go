package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"vidid/audit"
	"vidid/internal/pgtest"
	"vidid/policy"
	"vidid/rp"
	"vidid/session"
)

func TestCreate(t *testing.T) {
	e := newEnv(t, session.Config{})
	ctx := context.Background()
	good := session.CreateRequest{ClientID: e.clientID, IIN: testIIN(1), CallbackURL: e.cb, ReturnURL: e.ret}
	bad := []struct {
		name string
		edit func(*session.CreateRequest)
	}{
		{"IIN too short", func(r *session.CreateRequest) { r.IIN = "12345" }},
		{"IIN not digits", func(r *session.CreateRequest) { r.IIN = "8501013abcde" }},
		{"IIN wrong check digit", func(r *session.CreateRequest) {
			last := (int(r.IIN[11]-'0') + 1) % 10
			r.IIN = r.IIN[:11] + string(rune('0'+last))
		}},
		{"unknown client", func(r *session.CreateRequest) { r.ClientID = "0000000000000000" }},
		{"callback host not allowed", func(r *session.CreateRequest) { r.CallbackURL = "https://evil.example.com/cb" }},
		{"callback over http", func(r *session.CreateRequest) { r.CallbackURL = "http://portal.example.kz/cb" }},
		{"return url not allowed", func(r *session.CreateRequest) { r.ReturnURL = "https://evil.example.com/" }},
		{"ttl too long", func(r *session.CreateRequest) { r.TTL = 48 * time.Hour }},
		{"ttl too short", func(r *session.CreateRequest) { r.TTL = time.Second }},
		{"ttl negative", func(r *session.CreateRequest) { r.TTL = -time.Minute }},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := good
			tc.edit(&r)
			if _, _, err := e.store.Create(ctx, r); !errors.Is(err, session.ErrInvalidRequest) {
				t.Fatalf("Create = %v, want ErrInvalidRequest", err)
			}
		})
	}
	if n := e.count(`SELECT count(*) FROM sessions`) + e.count(`SELECT count(*) FROM audit_log`); n != 0 {
		t.Fatalf("refused requests left %d rows", n)
	}

	s, tok, err := e.store.Create(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != session.StateOpen || s.IIN != good.IIN || s.ClientID != e.clientID || s.AttemptsLeft != 10 ||
		s.ExpiresAt.Sub(s.CreatedAt) != 30*time.Minute || s.RequiresModeration {
		t.Fatalf("session = %+v", s)
	}
	if len(tok) < 43 || strings.Contains(tok, s.ID) {
		t.Fatalf("token %q is not an independent random value", tok)
	}
	if n := e.count(`SELECT count(*) FROM sessions WHERE position(convert_to($1, 'UTF8') in token_hash) > 0 OR position($1 in return_url) > 0`, tok); n != 0 {
		t.Fatal("raw token stored")
	}
	byTok, err := e.store.ByToken(ctx, tok)
	if err != nil || byTok.ID != s.ID {
		t.Fatalf("ByToken = %+v, %v", byTok, err)
	}
	// A different last character (it carries only 2 bits of a 32-byte
	// token, so a fixed replacement would equal it a quarter of the time).
	other := "A"
	if strings.HasSuffix(tok, "A") {
		other = "Q"
	}
	for _, bad := range []string{"", tok[:len(tok)-1] + other, strings.Repeat("x", 43), "../../etc"} {
		if _, err := e.store.ByToken(ctx, bad); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("ByToken(%q) = %v, want ErrNotFound", bad, err)
		}
	}
	got, err := e.store.Get(ctx, s.ID)
	if err != nil || got != s {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, s)
	}
	if st := got.Status(); st.Phase != session.PhaseConsent || st.AttemptsLeft != 10 {
		t.Fatalf("status = %+v", st)
	}
	s2, _, err := e.store.Create(ctx, session.CreateRequest{ClientID: e.clientID, IIN: testIIN(2), CallbackURL: "http://127.0.0.1:9/cb", ReturnURL: e.ret, TTL: 2 * time.Hour})
	if err != nil || s2.ExpiresAt.Sub(s2.CreatedAt) != 2*time.Hour {
		t.Fatalf("loopback callback with ttl 2h: %+v, %v", s2, err)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'session_created'`); n != 2 {
		t.Fatalf("session_created audit records = %d", n)
	}
	if v := e.value("vidid_session_created_total"); v != 2 {
		t.Errorf("created metric = %v", v)
	}
}

func TestConsent(t *testing.T) {
	e := newEnv(t, session.Config{})
	ctx := context.Background()
	s, tok, err := e.store.Create(ctx, session.CreateRequest{ClientID: e.clientID, IIN: testIIN(3), CallbackURL: e.cb, ReturnURL: e.ret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.StartAttempt(ctx, s.ID); !errors.Is(err, session.ErrConsentRequired) {
		t.Fatalf("StartAttempt without consent = %v", err)
	}
	if err := e.store.RecordConsent(ctx, tok, "de", true); !errors.Is(err, session.ErrInvalidRequest) {
		t.Fatalf("consent in German = %v", err)
	}
	if err := e.store.RecordConsent(ctx, "nope", "ru", true); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("consent with bad token = %v", err)
	}
	if err := e.store.RecordConsent(ctx, tok, "ru", false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.StartAttempt(ctx, s.ID); !errors.Is(err, session.ErrConsentRequired) {
		t.Fatalf("StartAttempt after declined consent = %v", err)
	}
	if err := e.store.RecordConsent(ctx, tok, "en", true); err != nil {
		t.Fatal(err)
	}
	got, _ := e.store.Get(ctx, s.ID)
	if !got.ConsentAccepted || got.ConsentLang != "en" || got.Status().Phase != session.PhaseReady {
		t.Fatalf("after consent: %+v", got)
	}
	a, err := e.store.StartAttempt(ctx, s.ID)
	if err != nil || a.N != 1 || !a.Deadline.Equal(a.StartedAt.Add(3*time.Minute)) {
		t.Fatalf("StartAttempt = %+v, %v", a, err)
	}
	if got, _ := e.store.ByToken(ctx, tok); got.Status().Phase != session.PhaseCapturing {
		t.Fatalf("phase while capturing = %v", got.Status().Phase)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'consent'`); n != 2 {
		t.Fatalf("consent audit records = %d, want 2", n)
	}
	// A closed session takes no consent.
	if _, err := e.store.Cancel(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.store.RecordConsent(ctx, tok, "kk", true); !errors.Is(err, session.ErrSessionClosed) {
		t.Fatalf("consent on a cancelled session = %v", err)
	}
}

func TestLockoutAfterMaxFailures(t *testing.T) {
	e := newEnv(t, session.Config{})
	ctx := context.Background()
	iin := testIIN(4)
	s, tok := e.open(iin)
	reasons := []session.Reason{"", session.ReasonNoFace, session.ReasonBlurry, session.ReasonPoorLight, session.ReasonTooFar}
	for i := 1; i <= 9; i++ {
		r := noMatch()
		switch i % 3 {
		case 1:
			r = session.Result{Outcome: session.OutcomeTimeout, Reason: reasons[i%len(reasons)]}
		case 2:
			r = session.Result{Outcome: session.OutcomeLivenessFailed, Reason: session.ReasonInjectionSuspected, LivenessScore: 0.02, DecidedBy: "cue:camera"}
		}
		got := e.attempt(s.ID, r)
		if got.State != session.StateOpen || got.AttemptsLeft != 10-i || got.FailedAttempts != i || !got.LockedUntil.IsZero() {
			t.Fatalf("after failure %d: %+v", i, got)
		}
	}
	if st, _ := e.store.ByToken(ctx, tok); st.Status().LastReason != session.ReasonNoMatch {
		t.Fatalf("applicant sees last reason %q", st.Status().LastReason)
	}
	before := e.dbNow()
	got := e.attempt(s.ID, noMatch())
	after := e.dbNow()
	if got.State != session.StateLocked || got.AttemptsLeft != 0 || got.FailedAttempts != 10 {
		t.Fatalf("after the 10th failure: %+v", got)
	}
	if got.LockedUntil.Before(before.Add(10*time.Minute)) || got.LockedUntil.After(after.Add(10*time.Minute)) {
		t.Fatalf("locked until %v, want 10 min after the database time of the 10th failure (%v…%v)", got.LockedUntil, before, after)
	}
	st := got.Status()
	if st.Phase != session.PhaseFinished || st.Outcome != session.ApplicantLocked || st.LockedUntil == nil || st.ReturnURL != e.ret {
		t.Fatalf("applicant status = %+v", st)
	}

	// Locked: the session and a new session for the IIN are refused with the retry time.
	_, err := e.store.StartAttempt(ctx, s.ID)
	var le *session.LockedError
	if !errors.Is(err, session.ErrLockedOut) || !errors.As(err, &le) || !le.Until.Equal(got.LockedUntil) {
		t.Fatalf("StartAttempt while locked = %v", err)
	}
	if ra := le.RetryAfter(before); ra < 10*time.Minute-time.Second || ra > 10*time.Minute+time.Minute {
		t.Fatalf("RetryAfter = %v", ra)
	}
	if le.RetryAfter(le.Until.Add(time.Hour)) != 0 {
		t.Fatal("RetryAfter after the lockout must be 0")
	}
	_, _, err = e.store.Create(ctx, session.CreateRequest{ClientID: e.clientID, IIN: iin, CallbackURL: e.cb, ReturnURL: e.ret})
	if !errors.As(err, &le) || !errors.Is(err, session.ErrLockedOut) {
		t.Fatalf("Create while locked = %v", err)
	}
	// Another applicant is not affected.
	other, _ := e.open(testIIN(5))
	if _, err := e.store.StartAttempt(ctx, other.ID); err != nil {
		t.Fatalf("other applicant: %v", err)
	}

	// After the lockout the old session stays closed; a new one is allowed with a fresh budget.
	e.endLockout(iin)
	if _, err := e.store.StartAttempt(ctx, s.ID); !errors.Is(err, session.ErrSessionClosed) || errors.Is(err, session.ErrLockedOut) {
		t.Fatalf("old session after lockout = %v, want ErrSessionClosed", err)
	}
	s2, _ := e.open(iin)
	if s2.AttemptsLeft != 10 {
		t.Fatalf("new session attempts left = %d", s2.AttemptsLeft)
	}

	if cbs := e.callbacks(s.ID); len(cbs) != 1 || cbs[0] != "locked" {
		t.Fatalf("callbacks = %v, want one 'locked'", cbs)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'attempt_result' AND session_id = $1`, s.ID); n != 10 {
		t.Fatalf("attempt_result records = %d", n)
	}
	// What decided each verdict is audited (never shown to the applicant).
	if n := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'attempt_result' AND session_id = $1 AND data->>'decided_by' = 'cue:camera'`, s.ID); n != 3 {
		t.Fatalf("attempt_result records decided by cue:camera = %d, want 3", n)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'lockout' AND session_id = $1`, s.ID); n != 1 {
		t.Fatalf("lockout records = %d", n)
	}
	if v := e.value("vidid_session_lockouts_total"); v != 1 {
		t.Errorf("lockouts metric = %v", v)
	}
	if v := e.value("vidid_session_attempts_total", "no_match"); v != 4 {
		t.Errorf("attempts{no_match} = %v, want 4", v)
	}
}

func TestOutcomes(t *testing.T) {
	tests := []struct {
		name      string
		cfg       session.Config
		moderated bool // session created RequiresModeration (set via SQL)
		result    session.Result
		wantState session.State
		wantLeft  int // attempts left when still open
		wantCount bool
	}{
		{"match", session.Config{}, false, match(), session.StateMatched, 0, false},
		{"match in a moderated session", session.Config{}, true, match(), session.StateModeration, 0, false},
		{"no_match counts", session.Config{}, false, noMatch(), session.StateOpen, 9, true},
		{"liveness_failed counts", session.Config{}, false, session.Result{Outcome: session.OutcomeLivenessFailed}, session.StateOpen, 9, true},
		{"challenge_failed counts", session.Config{}, false, session.Result{Outcome: session.OutcomeLivenessFailed, Reason: session.ReasonChallengeFailed}, session.StateOpen, 9, true},
		{"face_changed counts", session.Config{}, false, session.Result{Outcome: session.OutcomeLivenessFailed, Reason: session.ReasonFaceChanged}, session.StateOpen, 9, true},
		{"timeout counts", session.Config{}, false, session.Result{Outcome: session.OutcomeTimeout, Reason: session.ReasonPose}, session.StateOpen, 9, true},
		{"aborted counts", session.Config{}, false, session.Result{Outcome: session.OutcomeAborted}, session.StateOpen, 9, true},
		{"server error does not count", session.Config{}, false, session.Result{Outcome: session.OutcomeError}, session.StateOpen, 10, false},
		{"register photo unusable goes to moderation", session.Config{}, false,
			session.Result{Outcome: session.OutcomeNoMatch, Reason: session.ReasonRegisterPhotoUnusable, Route: policy.RouteModerate}, session.StateModeration, 0, false},
		{"register photo missing goes to moderation", session.Config{}, false,
			session.Result{Outcome: session.OutcomeNoMatch, Reason: session.ReasonRegisterPhotoMissing, Route: policy.RouteModerate}, session.StateModeration, 0, false},
		{"no_match the policy routes to a person goes to moderation", session.Config{}, false,
			session.Result{Outcome: session.OutcomeNoMatch, Reason: session.ReasonNoMatch, Route: policy.RouteModerate, MatchScore: 0.67, Threshold: 0.7}, session.StateModeration, 0, false},
		{"no_match the policy counts counts, whatever its score", session.Config{}, false,
			session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteCount, MatchScore: 0.69, Threshold: 0.7}, session.StateOpen, 9, true},
		{"a match the policy sends to a person (escalation) goes to moderation", session.Config{}, false,
			session.Result{Outcome: session.OutcomeMatch, Route: policy.RouteModerate, MatchScore: 0.9, Threshold: 0.7}, session.StateModeration, 0, false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.cfg)
			s, _ := e.open(testIIN(100 + i))
			if tc.moderated {
				e.exec(`UPDATE sessions SET requires_moderation = true WHERE id = $1`, s.ID)
			}
			got := e.attempt(s.ID, tc.result)
			if got.State != tc.wantState || got.AttemptsLeft != tc.wantLeft {
				t.Fatalf("state %s, attempts left %d; want %s, %d", got.State, got.AttemptsLeft, tc.wantState, tc.wantLeft)
			}
			if n := e.count(`SELECT count(*) FROM session_attempts WHERE session_id = $1 AND counted`, s.ID); (n == 1) != tc.wantCount {
				t.Fatalf("counted attempts = %d, want counted=%v", n, tc.wantCount)
			}
			wantCB := 0
			if tc.wantState != session.StateOpen {
				wantCB = 1
			}
			if cbs := e.callbacks(s.ID); len(cbs) != wantCB || wantCB == 1 && cbs[0] != string(tc.wantState) {
				t.Fatalf("callbacks = %v", cbs)
			}
		})
	}
}

func TestInvalidResults(t *testing.T) {
	e := newEnv(t, session.Config{})
	s, _ := e.open(testIIN(6))
	a, err := e.store.StartAttempt(context.Background(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []session.Result{
		{},
		{Outcome: "maybe"},
		{Outcome: session.OutcomeMatch, Reason: session.ReasonNoMatch},
		{Outcome: session.OutcomeNoMatch, Route: policy.RouteCount, Reason: "bad_hair_day"},
		{Outcome: session.OutcomeNoMatch, Route: policy.RouteCount, MatchScore: 1.5},
		{Outcome: session.OutcomeNoMatch, Route: policy.RouteCount, MatchScore: -0.1},
		{Outcome: session.OutcomeMatch, LivenessScore: nan()},
		{Outcome: session.OutcomeNoMatch, Route: policy.RouteCount, Model: strings.Repeat("m", 300)},
		{Outcome: session.OutcomeNoMatch, Route: policy.RouteCount, SamePersonScore: 1.5},
		{Outcome: session.OutcomeNoMatch},                              // a no-match needs the verdict's route
		{Outcome: session.OutcomeMatch},                                // so does a match
		{Outcome: session.OutcomeNoMatch, Route: policy.RouteIssue},    // a no-match is never issued
		{Outcome: session.OutcomeError, Route: policy.RouteCount},      // errors never count
		{Outcome: session.OutcomeTimeout, Route: policy.RouteModerate}, // nor go to a person
		{Outcome: session.OutcomeMatch, Route: "maybe"},                // unknown route
		{Outcome: session.OutcomeMatch, Route: policy.RouteIssue, Measurements: []byte("{not json")},
		{Outcome: session.OutcomeNoMatch, Route: policy.RouteCount, SamePersonScore: nan()},
	} {
		if _, err := e.store.FinishAttempt(context.Background(), a.ID, r); !errors.Is(err, session.ErrInvalidRequest) {
			t.Errorf("FinishAttempt(%+v) = %v, want ErrInvalidRequest", r, err)
		}
	}
	if n := e.count(`SELECT count(*) FROM session_attempts WHERE finished_at IS NOT NULL`); n != 0 {
		t.Fatalf("invalid results were recorded")
	}
	// The attempt is still running and can be finished properly.
	ok := match()
	ok.SamePersonScore = 0.9375
	if got, err := e.store.FinishAttempt(context.Background(), a.ID, ok); err != nil || got.State != session.StateMatched {
		t.Fatalf("valid result after invalid ones: %+v, %v", got, err)
	}
	// The same-person score is kept with the attempt and in the audit log.
	if n := e.count(`SELECT count(*) FROM session_attempts WHERE same_person_score = 0.9375`); n != 1 {
		t.Errorf("same-person score not stored with the attempt")
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE data->>'same_person_score' = '0.9375'`); n != 1 {
		t.Errorf("same-person score not in the audit log")
	}
}

func nan() float64 { var z float64; return z / z }

func TestTransitions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, session.Config{})
	n := 200
	fresh := func() session.Session { n++; s, _ := e.open(testIIN(n)); return s }
	moderation := func() session.Session {
		s := fresh()
		e.attempt(s.ID, session.Result{Outcome: session.OutcomeNoMatch, Reason: session.ReasonRegisterPhotoUnusable, Route: policy.RouteModerate})
		return s
	}
	tests := []struct {
		name      string
		setup     func() session.Session
		op        func(id string) (session.Session, error)
		wantErr   error
		wantState session.State
	}{
		{"cancel open", fresh, func(id string) (session.Session, error) { return e.store.Cancel(ctx, id) }, nil, session.StateCancelled},
		{"cancel cancelled", func() session.Session { s := fresh(); e.store.Cancel(ctx, s.ID); return s },
			func(id string) (session.Session, error) { return e.store.Cancel(ctx, id) }, session.ErrInvalidTransition, ""},
		{"cancel matched", func() session.Session { s := fresh(); e.attempt(s.ID, match()); return s },
			func(id string) (session.Session, error) { return e.store.Cancel(ctx, id) }, session.ErrInvalidTransition, ""},
		{"approve moderation", moderation,
			func(id string) (session.Session, error) {
				return e.store.Decide(ctx, id, true, "mod-7", "register photo 2009, same person")
			}, nil, session.StateApproved},
		{"reject moderation", moderation,
			func(id string) (session.Session, error) {
				return e.store.Decide(ctx, id, false, "mod-7", "different person")
			}, nil, session.StateRejected},
		{"decide open", fresh,
			func(id string) (session.Session, error) { return e.store.Decide(ctx, id, true, "mod-7", "") }, session.ErrInvalidTransition, ""},
		{"decide approved", func() session.Session { s := moderation(); e.store.Decide(ctx, s.ID, true, "m", ""); return s },
			func(id string) (session.Session, error) { return e.store.Decide(ctx, id, false, "m", "") }, session.ErrInvalidTransition, ""},
		{"decide without moderator", moderation,
			func(id string) (session.Session, error) { return e.store.Decide(ctx, id, true, "", "") }, session.ErrInvalidRequest, ""},
		{"cancel aborts running attempt uncounted", func() session.Session {
			s := fresh()
			if _, err := e.store.StartAttempt(ctx, s.ID); err != nil {
				t.Fatal(err)
			}
			return s
		}, func(id string) (session.Session, error) { return e.store.Cancel(ctx, id) }, nil, session.StateCancelled},
		{"decide unknown", fresh, func(string) (session.Session, error) {
			return e.store.Decide(ctx, "8c7d2f3e-0000-4000-8000-000000000000", true, "m", "")
		}, session.ErrNotFound, ""},
		{"cancel malformed id", fresh, func(string) (session.Session, error) { return e.store.Cancel(ctx, "'; DROP TABLE sessions;--") }, session.ErrNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.setup()
			got, err := tc.op(s.ID)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.State != tc.wantState {
				t.Fatalf("= %s, %v; want %s", got.State, err, tc.wantState)
			}
			if cbs := e.callbacks(s.ID); cbs[len(cbs)-1] != string(tc.wantState) {
				t.Fatalf("last callback %v, want %s", cbs, tc.wantState)
			}
			_, err = e.store.StartAttempt(ctx, s.ID)
			if got.State == session.StateApproved {
				// An approved session takes the hand-over capture (TestHandover).
				if err != nil {
					t.Fatalf("StartAttempt on approved = %v, want the hand-over capture", err)
				}
			} else if !errors.Is(err, session.ErrSessionClosed) {
				t.Fatalf("StartAttempt on %s = %v, want ErrSessionClosed", got.State, err)
			}
		})
	}
	if n := e.count(`SELECT count(*) FROM session_attempts WHERE outcome = 'aborted' AND NOT counted`); n != 1 {
		t.Fatalf("aborted uncounted attempts = %d, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'moderation_decision'`); n != 3 {
		t.Fatalf("moderation_decision records = %d, want 3", n)
	}
}

func TestCanTransition(t *testing.T) {
	all := []session.State{session.StateOpen, session.StateMatched, session.StateLocked, session.StateModeration,
		session.StateExpired, session.StateCancelled, session.StateApproved, session.StateRejected}
	allowed := map[[2]session.State]bool{
		{session.StateOpen, session.StateMatched}: true, {session.StateOpen, session.StateLocked}: true,
		{session.StateOpen, session.StateModeration}: true, {session.StateOpen, session.StateExpired}: true,
		{session.StateOpen, session.StateCancelled}:      true,
		{session.StateModeration, session.StateApproved}: true, {session.StateModeration, session.StateRejected}: true,
	}
	for _, from := range all {
		for _, to := range all {
			if got := session.CanTransition(from, to); got != allowed[[2]session.State{from, to}] {
				t.Errorf("CanTransition(%s, %s) = %v", from, to, got)
			}
		}
	}
}

func TestAttemptErrors(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, session.Config{})
	s, _ := e.open(testIIN(7))
	a, err := e.store.StartAttempt(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.StartAttempt(ctx, s.ID); !errors.Is(err, session.ErrAttemptInProgress) {
		t.Fatalf("second StartAttempt = %v", err)
	}
	if _, err := e.store.FinishAttempt(ctx, a.ID, noMatch()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.FinishAttempt(ctx, a.ID, match()); !errors.Is(err, session.ErrAttemptFinished) {
		t.Fatalf("FinishAttempt twice = %v", err)
	}
	for _, id := range []string{"", "x", "8c7d2f3e-0000-4000-8000-000000000000"} {
		if _, err := e.store.StartAttempt(ctx, id); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("StartAttempt(%q) = %v", id, err)
		}
		if _, err := e.store.FinishAttempt(ctx, id, noMatch()); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("FinishAttempt(%q) = %v", id, err)
		}
		if _, err := e.store.Get(ctx, id); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Get(%q) = %v", id, err)
		}
	}
	a2, err := e.store.StartAttempt(ctx, s.ID)
	if err != nil || a2.N != 2 {
		t.Fatalf("next attempt = %+v, %v", a2, err)
	}
}

func TestTimeoutsAndExpiry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, session.Config{})
	ageAttempt := func(id string) {
		e.exec(`UPDATE session_attempts SET started_at = started_at - interval '1 hour' WHERE id = $1`, id)
	}
	expire := func(id string) {
		e.exec(`UPDATE sessions SET created_at = created_at - interval '2 hours', expires_at = now() - interval '1 second' WHERE id = $1`, id)
	}

	t.Run("stale attempt is timed out by the next StartAttempt", func(t *testing.T) {
		s, _ := e.open(testIIN(8))
		a, _ := e.store.StartAttempt(ctx, s.ID)
		ageAttempt(a.ID)
		a2, err := e.store.StartAttempt(ctx, s.ID)
		if err != nil || a2.N != 2 {
			t.Fatalf("StartAttempt after a stale one = %+v, %v", a2, err)
		}
		if n := e.count(`SELECT count(*) FROM session_attempts WHERE id = $1 AND outcome = 'timeout' AND counted`, a.ID); n != 1 {
			t.Fatal("stale attempt not recorded as counted timeout")
		}
		if got, _ := e.store.Get(ctx, s.ID); got.AttemptsLeft != 9 {
			t.Fatalf("attempts left = %d", got.AttemptsLeft)
		}
	})
	t.Run("late result is recorded as timeout", func(t *testing.T) {
		s, _ := e.open(testIIN(9))
		a, _ := e.store.StartAttempt(ctx, s.ID)
		ageAttempt(a.ID)
		got, err := e.store.FinishAttempt(ctx, a.ID, match())
		if err != nil || got.State != session.StateOpen || got.LastOutcome != session.OutcomeTimeout || got.AttemptsLeft != 9 {
			t.Fatalf("late match = %+v, %v; want open with a counted timeout", got, err)
		}
	})
	t.Run("expired session refuses and is closed", func(t *testing.T) {
		s, tok := e.open(testIIN(10))
		expire(s.ID)
		if got, _ := e.store.ByToken(ctx, tok); got.State != session.StateExpired || got.Status().Outcome != session.ApplicantExpired {
			t.Fatalf("read of an expired session: %+v", got)
		}
		if _, err := e.store.StartAttempt(ctx, s.ID); !errors.Is(err, session.ErrExpired) {
			t.Fatalf("StartAttempt = %v, want ErrExpired", err)
		}
		if n := e.count(`SELECT count(*) FROM sessions WHERE id = $1 AND status = 'expired'`, s.ID); n != 1 {
			t.Fatal("expiry not recorded")
		}
		if _, err := e.store.StartAttempt(ctx, s.ID); !errors.Is(err, session.ErrExpired) {
			t.Fatalf("second StartAttempt = %v, want ErrExpired", err)
		}
		if cbs := e.callbacks(s.ID); len(cbs) != 1 || cbs[0] != "expired" {
			t.Fatalf("callbacks = %v", cbs)
		}
	})
	t.Run("attempt running at expiry may finish", func(t *testing.T) {
		s, _ := e.open(testIIN(11))
		a, _ := e.store.StartAttempt(ctx, s.ID)
		expire(s.ID)
		if n, err := e.store.Expire(ctx); err != nil || n != 0 {
			t.Fatalf("Expire with a fresh running attempt = %d, %v", n, err)
		}
		got, err := e.store.FinishAttempt(ctx, a.ID, match())
		if err != nil || got.State != session.StateMatched {
			t.Fatalf("match at expiry = %+v, %v", got, err)
		}
	})
	t.Run("sweeper", func(t *testing.T) {
		s1, _ := e.open(testIIN(12)) // expired, idle
		s2, _ := e.open(testIIN(13)) // stale attempt
		s3, _ := e.open(testIIN(14)) // expired with a stale attempt
		s4, _ := e.open(testIIN(15)) // healthy
		expire(s1.ID)
		a2, _ := e.store.StartAttempt(ctx, s2.ID)
		ageAttempt(a2.ID)
		a3, _ := e.store.StartAttempt(ctx, s3.ID)
		ageAttempt(a3.ID)
		expire(s3.ID)
		n, err := e.store.Expire(ctx)
		if err != nil || n != 4 { // two timed-out attempts, two expired sessions
			t.Fatalf("Expire = %d, %v; want 4", n, err)
		}
		want := map[string]session.State{s1.ID: session.StateExpired, s2.ID: session.StateOpen, s3.ID: session.StateExpired, s4.ID: session.StateOpen}
		for id, st := range want {
			if got, _ := e.store.Get(ctx, id); got.State != st || got.AttemptRunning {
				t.Errorf("session %s: %s running=%v, want %s", id, got.State, got.AttemptRunning, st)
			}
		}
		if n, err := e.store.Expire(ctx); err != nil || n != 0 {
			t.Fatalf("second Expire = %d, %v; want 0", n, err)
		}
	})
}

func TestFailureBudgetBelongsToApplicant(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, session.Config{})
	iin := testIIN(16)
	a, _ := e.open(iin)
	b, _ := e.open(iin) // a second open session for the same IIN (another relying party)
	for range 4 {
		e.attempt(a.ID, noMatch())
	}
	if _, err := e.store.Cancel(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	c, _ := e.open(iin)
	if c.AttemptsLeft != 6 {
		t.Fatalf("a new session must not reset the budget: attempts left %d, want 6", c.AttemptsLeft)
	}
	for range 5 {
		e.attempt(b.ID, noMatch())
	}
	got := e.attempt(c.ID, noMatch()) // the 10th failure for this applicant
	if got.State != session.StateLocked {
		t.Fatalf("10th failure across sessions: %s", got.State)
	}
	// Every open session of the applicant closed with the lockout.
	if got, _ := e.store.Get(ctx, b.ID); got.State != session.StateLocked {
		t.Fatalf("other open session: %s, want locked", got.State)
	}
	if _, err := e.store.StartAttempt(ctx, b.ID); !errors.Is(err, session.ErrLockedOut) {
		t.Fatalf("other session while locked: %v", err)
	}
	e.endLockout(iin)
	if _, err := e.store.StartAttempt(ctx, b.ID); !errors.Is(err, session.ErrSessionClosed) {
		t.Fatalf("other session after lockout: %v", err)
	}

	// A match resets the budget.
	d, _ := e.open(iin)
	for range 3 {
		e.attempt(d.ID, noMatch())
	}
	e.attempt(d.ID, match())
	f, _ := e.open(iin)
	if f.AttemptsLeft != 10 {
		t.Fatalf("after a match: attempts left %d", f.AttemptsLeft)
	}
	// Failures older than FailureWindow are forgotten.
	e.attempt(f.ID, noMatch())
	e.exec(`UPDATE subject_guards SET last_failure_at = now() - interval '25 hours' WHERE iin = $1`, iin)
	if got, _ := e.store.Get(ctx, f.ID); got.AttemptsLeft != 10 {
		t.Fatalf("after the failure window: attempts left %d", got.AttemptsLeft)
	}
}

func TestEscalation(t *testing.T) {
	ctx := context.Background()
	lockOut := func(e *env, iin string) session.Session {
		s, _ := e.open(iin)
		var got session.Session
		for range 2 {
			got = e.attempt(s.ID, noMatch())
		}
		if got.State != session.StateLocked {
			t.Fatalf("not locked: %+v", got)
		}
		return got
	}
	t.Run("to moderation", func(t *testing.T) {
		e := newEnv(t, session.Config{MaxFailedAttempts: 2})
		iin := testIIN(17)
		lockOut(e, iin)
		e.endLockout(iin)
		if s, _ := e.open(iin); s.RequiresModeration {
			t.Fatal("one lockout must not escalate")
		}
		e.exec(`UPDATE sessions SET status = 'cancelled', decided_at = now() WHERE iin = $1 AND status = 'open'`, iin)
		lockOut(e, iin)
		e.endLockout(iin)
		s, _ := e.open(iin)
		if !s.RequiresModeration {
			t.Fatal("two lockouts in 24 h must flag the next session")
		}
		if got := e.attempt(s.ID, match()); got.State != session.StateModeration {
			t.Fatalf("match in an escalated session: %s, want moderation", got.State)
		}
		// Outside the window the flag goes away.
		e.exec(`UPDATE subject_lockouts SET locked_at = locked_at - interval '25 hours', locked_until = locked_until - interval '25 hours' WHERE iin = $1`, iin)
		if s, _ := e.open(iin); s.RequiresModeration {
			t.Fatal("lockouts older than the window must not escalate")
		}
	})
	t.Run("to a longer lockout", func(t *testing.T) {
		e := newEnv(t, session.Config{MaxFailedAttempts: 2, EscalationLockout: 24 * time.Hour})
		iin := testIIN(18)
		first := lockOut(e, iin)
		if d := first.LockedUntil.Sub(first.DecidedAt); d != 10*time.Minute {
			t.Fatalf("first lockout lasts %v", d)
		}
		e.endLockout(iin)
		second := lockOut(e, iin)
		if d := second.LockedUntil.Sub(second.DecidedAt); d != 24*time.Hour {
			t.Fatalf("second lockout lasts %v, want 24h", d)
		}
		e.endLockout(iin)
		if s, _ := e.open(iin); s.RequiresModeration {
			t.Fatal("with EscalationLockout set, sessions are not flagged")
		}
		if n := e.count(`SELECT count(*) FROM subject_lockouts WHERE iin = $1 AND escalated`, iin); n != 1 {
			t.Fatalf("escalated lockouts = %d", n)
		}
	})
	_ = ctx
}

// The applicant and the relying party never see scores; nobody outside
// the attempt record and the audit log sees the IIN in full.
func TestViewsHideScoresAndIIN(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, session.Config{})
	iin := testIIN(19)
	s, tok := e.open(iin)
	e.attempt(s.ID, session.Result{Outcome: session.OutcomeLivenessFailed, Reason: session.ReasonInjectionSuspected, LivenessScore: 0.123456, MatchScore: 0.654321, Threshold: 0.7})
	e.attempt(s.ID, session.Result{Outcome: session.OutcomeMatch, Route: policy.RouteIssue, LivenessScore: 0.987654, MatchScore: 0.876543, Threshold: 0.7})
	got, _ := e.store.ByToken(ctx, tok)
	status, _ := json.Marshal(got.Status())
	d, err := e.store.Detail(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	detail, _ := json.Marshal(d)
	var bodies []string
	rows, _ := e.pool.Query(ctx, `SELECT convert_from(body, 'UTF8') FROM rp_callbacks`)
	for rows.Next() {
		var b string
		rows.Scan(&b)
		bodies = append(bodies, b)
	}
	rows.Close()
	for name, out := range map[string]string{"status": string(status), "detail": string(detail), "callbacks": strings.Join(bodies, "\n")} {
		if contains(out, "0.12345", "0.65432", "0.98765", "0.87654", "score", iin) {
			t.Errorf("%s leaks a score or the IIN: %s", name, out)
		}
	}
	if !strings.Contains(string(detail), `"reason":"injection_suspected"`) || len(d.Attempts) != 2 || d.IINMasked == "" {
		t.Errorf("detail lacks reason codes: %s", detail)
	}
	if !strings.Contains(string(status), `"outcome":"verified"`) {
		t.Errorf("status = %s", status)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE data->>'match_score' = '0.876543'`); n != 1 {
		t.Errorf("the audit log must keep the score (found %d)", n)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE data::text LIKE '%' || $1 || '%'`, iin); n != 0 {
		t.Errorf("raw IIN in the audit log")
	}
}

func TestMetricsLint(t *testing.T) {
	e := newEnv(t, session.Config{})
	s, _ := e.open(testIIN(20))
	e.attempt(s.ID, match())
	problems, err := testutil.GatherAndLint(e.reg)
	if err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
	if v := e.value("vidid_session_decisions_total", "matched"); v != 1 {
		t.Errorf("decisions{matched} = %v", v)
	}
}

// BenchmarkAttempt measures one StartAttempt + FinishAttempt(no_match)
// round trip (two transactions with row locks, callback and audit writes).
func BenchmarkAttempt(b *testing.B) {
	pool := pgtest.New(b)
	ctx := context.Background()
	id, _, _, err := rp.NewClients(pool).Create(ctx, "bench", []string{"portal.example.kz"})
	if err != nil {
		b.Fatal(err)
	}
	al, _ := audit.New(audit.Config{SubjectKey: []byte("bench subject key 0123456789")})
	st, err := session.NewPG(pool, session.Config{MaxFailedAttempts: 1 << 30, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, al)
	if err != nil {
		b.Fatal(err)
	}
	s, tok, err := st.Create(ctx, session.CreateRequest{ClientID: id, IIN: testIIN(1), CallbackURL: "https://portal.example.kz/cb", ReturnURL: "https://portal.example.kz/r"})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.RecordConsent(ctx, tok, "en", true); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		a, err := st.StartAttempt(ctx, s.ID)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.FinishAttempt(ctx, a.ID, noMatch()); err != nil {
			b.Fatal(err)
		}
	}
}
