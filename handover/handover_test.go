package handover_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"vidid/assertion"
	"vidid/assertion/assertiontest"
	"vidid/attempt"
	"vidid/audit"
	"vidid/engine"
	"vidid/handover"
	"vidid/idnum"
	"vidid/internal/pgtest"
	"vidid/policy"
	"vidid/register"
	"vidid/rp"
	"vidid/session"
)

type env struct {
	t        *testing.T
	ctx      context.Context
	sessions *session.PG
	reg      *register.PG
	keys     *assertiontest.Keys
	svc      *handover.Service
	client   string
	iin      string
	count    func(sql string, args ...any) int
}

// failingSigner fails every issue.
type failingSigner struct{}

func (failingSigner) Issue(context.Context, assertion.Claims) (string, string, error) {
	return "", "", errors.New("signing key unavailable")
}

func newEnv(t *testing.T, signer handover.Signer) *env {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.New(t)
	al, err := audit.New(audit.Config{SubjectKey: bytes.Repeat([]byte{6}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	client, _, _, err := rp.NewClients(pool).Create(ctx, "portal", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := session.NewPG(pool, session.Config{Logger: slog.New(slog.DiscardHandler)}, al)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := register.NewPG(pool, bytes.Repeat([]byte{7}, register.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	born := time.Date(1954, 12, 24, 0, 0, 0, 0, time.UTC)
	iin, _ := idnum.GenerateIIN(born, true, 11)
	photo, err := engine.Frame{Width: 64, Height: 64, Pix: make([]byte, 64*64*3)}.EncodeJPEG(80)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Put(ctx, register.Citizen{IIN: iin, Surname: "Fauci", GivenName: "Anthony", BirthDate: born, Photo: photo}); err != nil {
		t.Fatal(err)
	}
	keys, err := assertiontest.NewKeys("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	if signer == nil {
		iss, err := assertion.NewIssuer(assertion.IssuerConfig{Issuer: "http://vidid.test", Audience: "demo-ca"}, keys, nil)
		if err != nil {
			t.Fatal(err)
		}
		signer = iss
	}
	svc, err := handover.New(handover.Config{CAURL: "http://ca.test/", Checks: func() assertion.Checks { return assertion.Checks{Passive: true} }},
		pool, signer, al, sessions, reg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	count := func(sql string, args ...any) int {
		var n int
		if err := pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	return &env{t: t, ctx: ctx, sessions: sessions, reg: reg, keys: keys, svc: svc, client: client, iin: iin, count: count}
}

// session opens a session and finishes one attempt with r.
func (e *env) session(r session.Result) (session.Session, string) {
	e.t.Helper()
	s, tok, err := e.sessions.Create(e.ctx, session.CreateRequest{ClientID: e.client, IIN: e.iin, CallbackURL: "http://127.0.0.1/cb", ReturnURL: "http://127.0.0.1/r"})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.sessions.RecordConsent(e.ctx, tok, "en", true); err != nil {
		e.t.Fatal(err)
	}
	a, err := e.sessions.StartAttempt(e.ctx, s.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	after, err := e.sessions.FinishAttempt(e.ctx, a.ID, r)
	if err != nil {
		e.t.Fatal(err)
	}
	return after, a.ID
}

// check verifies an assertion as the CA would and reads it as the
// browser sees it.
func (e *env) check(tok string) *assertion.Verified {
	e.t.Helper()
	v, err := assertion.NewVerifier(assertion.VerifierConfig{Issuer: "http://vidid.test", Audience: "demo-ca"}, e.keys, nil, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	ver, err := v.Check(e.ctx, tok)
	if err != nil {
		e.t.Fatalf("the CA's verifier refuses the assertion: %v", err)
	}
	if err := ver.Validate(); err != nil {
		e.t.Fatalf("the default validators refuse it: %v", err)
	}
	if leaks, err := assertiontest.Leaks(tok); err != nil || len(leaks) > 0 {
		e.t.Fatalf("what the browser carries gives away %v (%v)", leaks, err)
	}
	return ver
}

func TestDirectMatch(t *testing.T) {
	e := newEnv(t, nil)
	s, att := e.session(session.Result{Outcome: session.OutcomeMatch, Route: policy.RouteIssue, MatchScore: 0.9, Threshold: 0.7})
	cz, _ := e.reg.Get(e.ctx, e.iin)
	next, err := e.svc.IssueFor(e.ctx, attempt.Match{Session: s, Citizen: cz, AttemptID: att, PolicyVersion: "p1", Model: "m@1",
		Challenges: nil})
	if err != nil {
		t.Fatal(err)
	}
	if next.URL != "http://ca.test/enroll" || next.Method != "POST" {
		t.Fatalf("next %+v", next)
	}
	c := e.check(next.Fields["assertion"]).Claims
	if c.Method != assertion.MethodBVR || c.Txn != att || c.Evidence.PolicyVersion != "p1" || c.Evidence.ModeratorID != "" || c.Person.IIN != e.iin {
		t.Fatalf("claims %+v", c)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'assertion_issued' AND data->>'method' = 'bvr' AND data->>'attempt' = $1`, att); n != 1 {
		t.Fatalf("%d audit records", n)
	}
}

func TestApprovedNeedsFreshCapture(t *testing.T) {
	e := newEnv(t, nil)
	s, _ := e.session(session.Result{Outcome: session.OutcomeNoMatch, Reason: session.ReasonRegisterPhotoUnusable, Route: policy.RouteModerate, EvidenceRef: "ev"})
	const moderator = "00112233aabbccdd"
	if _, err := e.sessions.Decide(e.ctx, s.ID, true, moderator, "same person"); err != nil {
		t.Fatal(err)
	}
	// The hand-over capture matched (the policy's verdict): pvr, naming
	// the moderator, the citizen read from the register.
	a, err := e.sessions.StartAttempt(e.ctx, s.ID)
	if err != nil {
		t.Fatalf("the hand-over capture of an approved session: %v", err)
	}
	after, err := e.sessions.FinishAttempt(e.ctx, a.ID, session.Result{Outcome: session.OutcomeMatch, Route: policy.RouteIssue, MatchScore: 0.9, Threshold: 0.7})
	if err != nil || after.State != session.StateApproved {
		t.Fatalf("finish: %+v %v", after, err)
	}
	m := attempt.Match{Session: after, AttemptID: a.ID, PolicyVersion: "p1", Model: "m@1"}
	next, err := e.svc.IssueFor(e.ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	c := e.check(next.Fields["assertion"]).Claims
	if c.Method != assertion.MethodPVR || c.Evidence.ModeratorID != moderator || c.Txn != a.ID || c.Person.FamilyName != "Fauci" {
		t.Fatalf("claims %+v", c)
	}
	if _, err := e.svc.IssueFor(e.ctx, m); !errors.Is(err, session.ErrHandedOver) {
		t.Fatalf("a second assertion: %v, want ErrHandedOver", err)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'assertion_issued' AND data->>'method' = 'pvr'`); n != 1 {
		t.Fatalf("%d pvr audit records, want 1", n)
	}
}

func TestFailedIssueMarksNothing(t *testing.T) {
	e := newEnv(t, failingSigner{})
	s, _ := e.session(session.Result{Outcome: session.OutcomeNoMatch, Reason: session.ReasonRegisterPhotoUnusable, Route: policy.RouteModerate})
	if _, err := e.sessions.Decide(e.ctx, s.ID, true, "00112233aabbccdd", "ok"); err != nil {
		t.Fatal(err)
	}
	s, _ = e.sessions.Get(e.ctx, s.ID)
	if _, err := e.svc.IssueFor(e.ctx, attempt.Match{Session: s, AttemptID: "a"}); err == nil {
		t.Fatal("a failing signer must fail the hand-over")
	}
	if v, _ := e.sessions.Get(e.ctx, s.ID); !v.HandedOverAt.IsZero() || !v.HandoverOpen {
		t.Fatalf("a failed issue left the session marked: %+v", v)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'assertion_issued'`); n != 0 {
		t.Fatalf("%d audit records of an assertion never issued", n)
	}
	open, _ := e.session(session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteCount, MatchScore: 0.3, Threshold: 0.7})
	if _, err := e.svc.IssueFor(e.ctx, attempt.Match{Session: open, AttemptID: "a"}); !errors.Is(err, handover.ErrNotMatched) {
		t.Fatalf("an open session: %v, want ErrNotMatched", err)
	}
}

type frames map[string][][]byte

func (f frames) Load(_ context.Context, attemptID, kind string) ([][]byte, error) {
	if j, ok := f[attemptID+"/"+kind]; ok {
		return j, nil
	}
	return nil, errors.New("not found")
}

type embedder struct{}

func (embedder) EmbedLargest(_ context.Context, f engine.Frame) (engine.Probe, error) {
	return engine.Probe{Embedding: engine.Embedding{Model: "m@1", Metric: engine.Cosine, Vector: []float32{float32(f.Width), 1}}}, nil
}

func TestApprovedEmbeddings(t *testing.T) {
	e := newEnv(t, nil)
	s, att := e.session(session.Result{Outcome: session.OutcomeNoMatch, Reason: session.ReasonRegisterPhotoUnusable, Route: policy.RouteModerate, EvidenceRef: "ev"})
	if _, err := e.sessions.Decide(e.ctx, s.ID, true, "00112233aabbccdd", "ok"); err != nil {
		t.Fatal(err)
	}
	img := engine.Frame{Width: 64, Height: 64, Pix: make([]byte, 64*64*3)}
	j, err := img.EncodeJPEG(90)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := handover.New(handover.Config{CAURL: "http://ca.test"}, nil, nil, nil, e.sessions, e.reg, frames{att + "/best": {j, j}}, embedder{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.ApprovedEmbeddings(e.ctx, s.ID)
	if err != nil || len(got) != 2 || got[0].Vector[0] != 64 {
		t.Fatalf("approved embeddings %v, %v", got, err)
	}
	none, _ := handover.New(handover.Config{CAURL: "http://ca.test"}, nil, nil, nil, e.sessions, e.reg, frames{}, embedder{})
	if _, err := none.ApprovedEmbeddings(e.ctx, s.ID); !errors.Is(err, handover.ErrNoApprovedFrames) {
		t.Fatalf("purged frames: %v, want ErrNoApprovedFrames", err)
	}
}
