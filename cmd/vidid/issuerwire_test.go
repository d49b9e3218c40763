package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"vidid/assertion"
	"vidid/audit"
	"vidid/idnum"
	"vidid/internal/pgtest"
	"vidid/internal/testenv"
	"vidid/policy"
	"vidid/register"
	"vidid/rp"
	"vidid/session"
)

// TestHandoverAfterApproval: a session a moderator approved yields one
// signed pvr assertion naming the moderator, which the CA's verifier
// accepts, and no second one.
func TestHandoverAfterApproval(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	al, err := audit.New(audit.Config{SubjectKey: bytes.Repeat([]byte{6}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	clientID, _, _, err := rp.NewClients(pool).Create(ctx, "portal", []string{"127.0.0.1"})
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
	photo, err := os.ReadFile(filepath.Join(testenv.DataDir(t), "faces", "lfw-Anthony_Fauci", "1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	born := time.Date(1954, 12, 24, 0, 0, 0, 0, time.UTC)
	iin, _ := idnum.GenerateIIN(born, true, 11)
	if err := reg.Put(ctx, register.Citizen{IIN: iin, Surname: "Fauci", GivenName: "Anthony", Photo: photo}); err != nil {
		t.Fatal(err)
	}
	keys, err := openAssertionKeys(ctx, pool, bytes.Repeat([]byte{8}, 32))
	if err != nil {
		t.Fatal(err)
	}
	iss, err := assertion.NewIssuer(assertion.IssuerConfig{Issuer: "http://vidid.test", Audience: "demo-ca"}, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	ai := &assertionIssuer{iss: iss, pool: pool, audit: al, caURL: "http://ca.test/", checks: assertion.Checks{Passive: true},
		sessions: sessions, citizens: reg}

	s, tok, err := sessions.Create(ctx, session.CreateRequest{ClientID: clientID, IIN: iin, CallbackURL: "http://127.0.0.1/cb", ReturnURL: "http://127.0.0.1/r"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sessions.RecordConsent(ctx, tok, "en", true); err != nil {
		t.Fatal(err)
	}
	if _, err := ai.Handover(ctx, tok); !errors.Is(err, session.ErrNotApproved) {
		t.Fatalf("hand-over of an open session: %v", err)
	}
	a, err := sessions.StartAttempt(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sessions.FinishAttempt(ctx, a.ID, session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteModerate, MatchScore: 0.69, Threshold: 0.705,
		LivenessScore: 0.93, Model: "faceplugin-fr_feature@test", ThresholdVersion: "lfw-test"}); err != nil {
		t.Fatal(err)
	}
	const moderatorID = "00112233aabbccdd"
	if _, err := sessions.Decide(ctx, s.ID, true, moderatorID, "same person"); err != nil {
		t.Fatal(err)
	}

	next, err := ai.Handover(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if next.URL != "http://ca.test/enroll" || next.Method != "POST" || next.Fields["assertion"] == "" {
		t.Fatalf("next = %+v", next)
	}
	v, err := assertion.NewVerifier(assertion.VerifierConfig{Issuer: "http://vidid.test", Audience: "demo-ca"}, keys, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ver, err := v.Check(ctx, next.Fields["assertion"])
	if err != nil {
		t.Fatalf("the CA's verifier refuses the hand-over assertion: %v", err)
	}
	c := ver.Claims
	if c.Method != assertion.MethodPVR || c.Evidence.ModeratorID != moderatorID || c.SessionID != s.ID || c.Person.IIN != iin ||
		c.Person.FamilyName != "Fauci" || !c.Person.BirthDate.Equal(born) || c.Evidence.MatchScore != 0.69 || c.Evidence.Model != "faceplugin-fr_feature@test" {
		t.Errorf("claims = %+v", c)
	}
	if err := ver.Validate(); err != nil {
		t.Errorf("default policy refuses it: %v", err)
	}
	if _, err := ai.Handover(ctx, tok); !errors.Is(err, session.ErrHandedOver) {
		t.Fatalf("second hand-over: %v, want ErrHandedOver", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE kind = 'assertion_issued' AND session_id = $1 AND data->>'method' = 'pvr'`, s.ID).Scan(&n); err != nil || n != 1 {
		t.Errorf("pvr assertion_issued records: %d, %v", n, err)
	}
}
