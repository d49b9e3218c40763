package moderation_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"vidid/audit"
	"vidid/evidence"
	"vidid/idnum"
	"vidid/internal/pgtest"
	"vidid/internal/testenv"
	"vidid/moderation"
	"vidid/policy"
	"vidid/register"
	"vidid/rp"
	"vidid/session"
)

type env struct {
	t        testing.TB
	ctx      context.Context
	pool     *pgxpool.Pool
	audit    *audit.Log
	sessions *session.PG
	register *register.PG
	evidence *evidence.PG
	mods     *moderation.Moderators
	clientID string
	photo    []byte
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.New(t)
	al, err := audit.New(audit.Config{SubjectKey: bytes.Repeat([]byte{3}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	clientID, _, _, err := rp.NewClients(pool).Create(ctx, "e-gov portal", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := session.NewPG(pool, session.Config{}, al)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := register.NewPG(pool, bytes.Repeat([]byte{4}, 32))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := evidence.NewPG(pool, bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(testenv.DataDir(t), "faces", "faceapi-amy")
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		t.Fatalf("read %s: %v", dir, err)
	}
	photo, err := os.ReadFile(filepath.Join(dir, ents[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if rep, err := audit.Verify(context.Background(), pool); err != nil {
			t.Errorf("audit chain after test: %v (%+v)", err, rep)
		}
	})
	return &env{t: t, ctx: ctx, pool: pool, audit: al, sessions: st, register: reg, evidence: ev,
		mods: moderation.NewModerators(pool, al), clientID: clientID, photo: photo}
}

func (e *env) queue(cfg moderation.Config) *moderation.Queue {
	e.t.Helper()
	q, err := moderation.NewQueue(e.pool, cfg, e.sessions, e.register, e.evidence, e.audit, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return q
}

// citizen puts a register record with the real photo and returns the IIN.
func (e *env) citizen(serial int) string {
	e.t.Helper()
	iin, err := idnum.GenerateIIN(time.Date(1991, 3, 4, 0, 0, 0, 0, time.UTC), false, serial)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.register.Put(e.ctx, register.Citizen{IIN: iin, Surname: "Amanova", GivenName: "Aigerim", Photo: e.photo}); err != nil {
		e.t.Fatal(err)
	}
	return iin
}

// toModeration runs one attempt that sends a session for iin to the
// queue with result r, keeping frames as evidence when given.
func (e *env) toModeration(iin string, r session.Result, frames [][]byte) string {
	e.t.Helper()
	s, tok, err := e.sessions.Create(e.ctx, session.CreateRequest{ClientID: e.clientID, IIN: iin,
		CallbackURL: "http://127.0.0.1/cb", ReturnURL: "http://127.0.0.1/back"})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.sessions.RecordConsent(e.ctx, tok, "ru", true); err != nil {
		e.t.Fatal(err)
	}
	a, err := e.sessions.StartAttempt(e.ctx, s.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	if frames != nil {
		if r.EvidenceRef, err = e.evidence.Save(e.ctx, a.ID, evidence.KindBest, frames); err != nil {
			e.t.Fatal(err)
		}
	}
	s, err = e.sessions.FinishAttempt(e.ctx, a.ID, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if s.State != session.StateModeration {
		e.t.Fatalf("session went to %s, not moderation", s.State)
	}
	return s.ID
}

func (e *env) moderator(name string) moderation.Moderator {
	e.t.Helper()
	m, _, err := e.mods.Create(e.ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(e.ctx, sql, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestReviewAndDecide(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	// Every day a working day: a case is due exactly 24 h after it entered.
	q := e.queue(moderation.Config{Calendar: moderation.Calendar{Weekend: []time.Weekday{}}})
	near := e.toModeration(e.citizen(1), session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteModerate, MatchScore: 0.67, Threshold: 0.7,
		ThresholdVersion: "t1", Model: "m1", LivenessScore: 0.9}, [][]byte{e.photo})
	regPhoto := e.toModeration(e.citizen(2), session.Result{Outcome: session.OutcomeNoMatch, Reason: session.ReasonRegisterPhotoUnusable, Route: policy.RouteModerate}, nil)
	alice, bob := e.moderator("Alice Moderator"), e.moderator("Bob Moderator")

	list, err := q.List(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].SessionID != near || list[1].SessionID != regPhoto {
		t.Fatalf("queue = %+v, want the two cases oldest first", list)
	}
	c0 := list[0]
	if c0.Why != moderation.WhyNearThreshold || c0.Reason != session.ReasonNoMatch || c0.BestMatchScore == nil || *c0.BestMatchScore != 0.67 ||
		c0.ClientName != "e-gov portal" || c0.IINMasked == "" || c0.Attempts != 1 || !c0.Due.Equal(c0.EnteredAt.Add(24*time.Hour)) ||
		c0.Overdue || c0.ClaimedBy != "" {
		t.Errorf("first case = %+v", c0)
	}
	if list[1].Why != moderation.WhyRegisterPhoto || list[1].BestMatchScore != nil {
		t.Errorf("second case = %+v", list[1])
	}

	// Nothing is shown before an (audited) opening.
	if _, err := q.Frame(ctx, alice, near, 1, moderation.FramesBest, 0); !errors.Is(err, moderation.ErrNotClaimed) {
		t.Fatalf("frame before opening: %v, want ErrNotClaimed", err)
	}
	if _, _, err := q.RegisterPhoto(ctx, alice, near); !errors.Is(err, moderation.ErrNotClaimed) {
		t.Fatalf("register photo before opening: %v, want ErrNotClaimed", err)
	}
	c, err := q.Open(ctx, alice, near)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Attempts) != 1 || c.Attempts[0].BestFrames != 1 || c.Attempts[0].ClipFrames != 0 || c.Attempts[0].MatchScore == nil ||
		*c.Attempts[0].MatchScore != 0.67 || c.Attempts[0].Model != "m1" || c.Attempts[0].Counted {
		t.Errorf("attempts = %+v", c.Attempts)
	}
	if c.Citizen.Surname != "Amanova" || !c.Citizen.HasPhoto || c.Citizen.BirthDate.Year() != 1991 || c.ClaimedBy != alice.Name {
		t.Errorf("case = %+v", c)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'case_opened' AND session_id = $1 AND data->>'moderator_id' = $2`, near, alice.ID); n != 1 {
		t.Errorf("%d case_opened audit records, want 1", n)
	}

	// A second moderator can neither open nor see it while Alice holds it.
	var ce *moderation.ClaimError
	if _, err := q.Open(ctx, bob, near); !errors.As(err, &ce) || ce.By != alice.Name || !errors.Is(err, moderation.ErrClaimed) {
		t.Fatalf("Bob opens Alice's case: %v", err)
	}
	if _, err := q.Frame(ctx, bob, near, 1, moderation.FramesBest, 0); !errors.Is(err, moderation.ErrNotClaimed) {
		t.Fatalf("Bob reads a frame: %v", err)
	}
	if _, err := q.Decide(ctx, bob, near, true, "", ""); !errors.Is(err, moderation.ErrNotClaimed) {
		t.Fatalf("Bob decides: %v", err)
	}

	got, err := q.Frame(ctx, alice, near, 1, moderation.FramesBest, 0)
	if err != nil || !bytes.Equal(got, e.photo) {
		t.Fatalf("frame: %d bytes, %v", len(got), err)
	}
	for _, tc := range []struct {
		attempt, i int
		kind       string
		want       error
	}{{1, 1, moderation.FramesBest, moderation.ErrNoEvidence}, {2, 0, moderation.FramesBest, moderation.ErrNoEvidence},
		{1, 0, moderation.FramesClip, moderation.ErrNoEvidence}, {1, 0, "raw", moderation.ErrInvalidRequest}, {0, 0, moderation.FramesBest, moderation.ErrInvalidRequest}} {
		if _, err := q.Frame(ctx, alice, near, tc.attempt, tc.kind, tc.i); !errors.Is(err, tc.want) {
			t.Errorf("Frame(%d, %s, %d) = %v, want %v", tc.attempt, tc.kind, tc.i, err, tc.want)
		}
	}
	if p, typ, err := q.RegisterPhoto(ctx, alice, near); err != nil || !bytes.Equal(p, e.photo) || typ != http.DetectContentType(e.photo) {
		t.Fatalf("register photo: %d bytes %q, %v", len(p), typ, err)
	}
	if list, _ := q.List(ctx, 0); list[0].ClaimedBy != alice.Name || list[0].ClaimedUntil == nil {
		t.Errorf("the queue does not show Alice's claim: %+v", list[0])
	}

	for _, tc := range []struct {
		approved     bool
		reason, note string
		want         error
	}{
		{false, "not_live", "  ", moderation.ErrNoteRequired},
		{false, "", "a print", moderation.ErrReasonRequired},
		{false, "looked odd", "a print", moderation.ErrReasonRequired},
		{true, "not_live", "", moderation.ErrInvalidRequest},
	} {
		if _, err := q.Decide(ctx, alice, near, tc.approved, tc.reason, tc.note); !errors.Is(err, tc.want) {
			t.Fatalf("Decide(%v, %q, %q) = %v, want %v", tc.approved, tc.reason, tc.note, err, tc.want)
		}
	}
	s, err := q.Decide(ctx, alice, near, true, "", "same person; glasses")
	if err != nil || s.State != session.StateApproved {
		t.Fatalf("approve: %v, %v", s.State, err)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'moderation_decision' AND session_id = $1 AND data->>'moderator_id' = $2`, near, alice.ID); n != 1 {
		t.Errorf("%d moderation_decision audit records, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM rp_callbacks WHERE session_id = $1 AND convert_from(body, 'UTF8')::jsonb->'data'->>'state' = 'approved'`, near); n != 1 {
		t.Errorf("%d 'approved' callbacks for the relying party, want 1", n)
	}
	if _, err := q.Open(ctx, alice, near); !errors.Is(err, moderation.ErrNotInQueue) {
		t.Fatalf("open a decided case: %v", err)
	}
	if _, err := q.Decide(ctx, alice, near, false, "other", "changed my mind"); !errors.Is(err, moderation.ErrNotInQueue) {
		t.Fatalf("decide twice: %v", err)
	}
	if _, err := q.Frame(ctx, alice, near, 1, moderation.FramesBest, 0); !errors.Is(err, moderation.ErrNotInQueue) {
		t.Fatalf("frame of a decided case: %v", err)
	}

	// A lapsed claim can be taken over; a released one is free.
	if _, err := q.Open(ctx, alice, regPhoto); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, `UPDATE sessions SET claimed_until = now() - interval '1 second' WHERE id = $1`, regPhoto); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Frame(ctx, alice, regPhoto, 1, moderation.FramesBest, 0); !errors.Is(err, moderation.ErrNotClaimed) {
		t.Fatalf("frame after the claim lapsed: %v", err)
	}
	if _, err := q.Open(ctx, bob, regPhoto); err != nil {
		t.Fatalf("Bob takes over a lapsed claim: %v", err)
	}
	if err := q.Release(ctx, bob, regPhoto); err != nil {
		t.Fatal(err)
	}
	if list, _ := q.List(ctx, 0); len(list) != 1 || list[0].ClaimedBy != "" {
		t.Errorf("after release: %+v", list)
	}
	s, err = q.Decide(ctx, bob, regPhoto, false, "register_photo_wrong", "x")
	if !errors.Is(err, moderation.ErrNotClaimed) {
		t.Fatalf("decide a released case: %v, %v", s.State, err)
	}
	if _, err := q.Open(ctx, bob, regPhoto); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Decide(ctx, bob, regPhoto, false, "register_photo_wrong", "the register photo shows two people"); err != nil {
		t.Fatal(err)
	}

	// What analysts get: both decisions, no personal data.
	recs, err := moderation.Decisions(ctx, e.pool, moderation.Calendar{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].SessionID != near || recs[1].SessionID != regPhoto {
		t.Fatalf("decisions = %+v", recs)
	}
	r0, r1 := recs[0], recs[1]
	if !r0.Approved || r0.Why != moderation.WhyNearThreshold || r0.MatchScore == nil || *r0.MatchScore != 0.67 || *r0.Threshold != 0.7 ||
		r0.Model != "m1" || r0.ModeratorID != alice.ID || r0.EnteredAt.IsZero() || r0.DecidedAt.Before(r0.EnteredAt) || !r0.OnTime || r0.RejectReason != "" {
		t.Errorf("approved record = %+v", r0)
	}
	if r1.Approved || r1.Why != moderation.WhyRegisterPhoto || r1.RejectReason != "register_photo_wrong" || r1.MatchScore != nil || r1.ModeratorID != bob.ID {
		t.Errorf("rejected record = %+v", r1)
	}
	var buf bytes.Buffer
	if err := moderation.WriteDecisionsCSV(&buf, recs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || lines[0] != strings.Join(moderation.DecisionsHeader, ",") ||
		!strings.Contains(lines[1], ",near_threshold,no_match,approved,,"+alice.ID+",,1,0.6700,0.7000,t1,m1,0.9000,") ||
		!strings.HasSuffix(lines[2], ",register_photo,register_photo_unusable,rejected,register_photo_wrong,"+bob.ID+",,1,,,,,0.0000,") {
		t.Errorf("CSV:\n%s", buf.String())
	}
	if strings.Contains(buf.String(), "two people") || strings.Contains(buf.String(), "Amanova") {
		t.Error("the export holds a note or a name")
	}

	if _, err := q.Open(ctx, bob, "not-a-uuid"); !errors.Is(err, moderation.ErrNotFound) {
		t.Errorf("open a malformed id: %v", err)
	}
	if _, err := q.Open(ctx, bob, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, moderation.ErrNotFound) {
		t.Errorf("open an unknown id: %v", err)
	}
}

func TestStatsAndMetrics(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	clock := func() time.Time { return now }
	q := e.queue(moderation.Config{Calendar: moderation.Calendar{Weekend: []time.Weekday{}}, Now: clock})
	reg := prometheus.NewPedanticRegistry()
	if err := q.Register(reg); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, "vidid_moderation_queue_cases"); err != nil || n != 1 {
		t.Fatalf("gauge: %d, %v", n, err)
	}
	if v := testutil.ToFloat64(gaugeOf(t, reg, "vidid_moderation_queue_cases")); v != 0 {
		t.Errorf("empty queue reports %v cases", v)
	}
	e.toModeration(e.citizen(3), session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteModerate, MatchScore: 0.66, Threshold: 0.7}, nil)
	st, err := q.Stats(e.ctx)
	if err != nil || st.Cases != 1 || st.Overdue != 0 || st.Oldest.IsZero() {
		t.Fatalf("stats = %+v, %v", st, err)
	}
	now = now.Add(25 * time.Hour)
	if st, _ := q.Stats(e.ctx); st.Overdue != 1 {
		t.Errorf("a day later: %+v, want 1 overdue", st)
	}
	if list, _ := q.List(e.ctx, 0); !list[0].Overdue {
		t.Errorf("a day later the case is not overdue: %+v", list[0])
	}
	if v := testutil.ToFloat64(gaugeOf(t, reg, "vidid_moderation_queue_overdue_cases")); v != 1 {
		t.Errorf("overdue gauge %v, want 1", v)
	}
}

// gaugeOf returns a collector holding the current value of one gauge.
func gaugeOf(t *testing.T, g prometheus.Gatherer, name string) prometheus.Gauge {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			gg := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "copy"})
			gg.Set(mf.GetMetric()[0].GetGauge().GetValue())
			return gg
		}
	}
	t.Fatalf("no %s", name)
	return nil
}

func TestModerators(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	m, token, err := e.mods.Create(ctx, "  Dana  ")
	if err != nil || m.Name != "Dana" {
		t.Fatalf("Create = %+v, %v", m, err)
	}
	got, err := e.mods.Authenticate(ctx, token)
	if err != nil || got.ID != m.ID || got.Name != "Dana" {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	_, other, _ := e.mods.Create(ctx, "Erlan")
	forged := token[:len(token)-64] + other[len(other)-64:] // Dana's id, Erlan's secret
	for _, bad := range []string{"", "vmod_", token + "0", forged, "vidid_" + token[5:]} {
		if _, err := e.mods.Authenticate(ctx, bad); !errors.Is(err, moderation.ErrUnauthorized) {
			t.Errorf("Authenticate(%.20q…) = %v, want ErrUnauthorized", bad, err)
		}
	}
	for _, bad := range []string{"", "   ", string(bytes.Repeat([]byte{'a'}, 201)), "tab\there"} {
		if _, _, err := e.mods.Create(ctx, bad); !errors.Is(err, moderation.ErrInvalidRequest) {
			t.Errorf("Create(%q) = %v, want ErrInvalidRequest", bad, err)
		}
	}
	if err := e.mods.Disable(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.mods.Disable(ctx, m.ID); err != nil {
		t.Fatalf("disable twice: %v", err)
	}
	if _, err := e.mods.Authenticate(ctx, token); !errors.Is(err, moderation.ErrUnauthorized) {
		t.Errorf("disabled moderator signs in: %v", err)
	}
	if err := e.mods.Disable(ctx, "0123456789abcdef"); !errors.Is(err, moderation.ErrNotFound) {
		t.Errorf("disable unknown: %v", err)
	}
	list, err := e.mods.List(ctx)
	if err != nil || len(list) != 2 || !list[0].Disabled || list[1].Disabled {
		t.Errorf("List = %+v, %v", list, err)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'moderator_changed'`); n != 3 {
		t.Errorf("%d moderator_changed audit records, want 3 (two created, one disabled)", n)
	}
}

// TestOpenRace: moderators opening one case at the same moment: exactly
// one gets it, the others are told who has it, and one opening is audited.
func TestOpenRace(t *testing.T) {
	e := newEnv(t)
	q := e.queue(moderation.Config{})
	id := e.toModeration(e.citizen(5), session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteModerate, MatchScore: 0.68, Threshold: 0.7}, nil)
	const n = 8
	mods := make([]moderation.Moderator, n)
	for i := range mods {
		mods[i] = e.moderator(fmt.Sprintf("Moderator %d", i))
	}
	errs := make(chan error, n)
	start := make(chan struct{})
	for _, m := range mods {
		go func() {
			<-start
			_, err := q.Open(e.ctx, m, id)
			errs <- err
		}()
	}
	close(start)
	won := 0
	for range n {
		err := <-errs
		var ce *moderation.ClaimError
		switch {
		case err == nil:
			won++
		case errors.As(err, &ce) && strings.HasPrefix(ce.By, "Moderator "):
		default:
			t.Errorf("Open: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d moderators got the case, want 1", won)
	}
	if got := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'case_opened' AND session_id = $1`, id); got != 1 {
		t.Errorf("%d case_opened records, want 1", got)
	}
}

// TestCaseHistory: a case shows the applicant's other sessions, newest
// first, with how they ended, and not the case itself.
func TestCaseHistory(t *testing.T) {
	e := newEnv(t)
	q := e.queue(moderation.Config{})
	iin := e.citizen(9)
	earlier, _, err := e.sessions.Create(e.ctx, session.CreateRequest{ClientID: e.clientID, IIN: iin,
		CallbackURL: "http://127.0.0.1/cb", ReturnURL: "http://127.0.0.1/back"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sessions.Cancel(e.ctx, earlier.ID); err != nil {
		t.Fatal(err)
	}
	id := e.toModeration(iin, session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteModerate, MatchScore: 0.68, Threshold: 0.7}, nil)
	c, err := q.Open(e.ctx, e.moderator("Dana"), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.History) != 1 || c.History[0].State != session.StateCancelled || c.History[0].ClientName != "e-gov portal" ||
		!c.History[0].CreatedAt.Equal(earlier.CreatedAt) {
		t.Fatalf("history = %+v", c.History)
	}
	other := e.toModeration(e.citizen(10), session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteModerate, MatchScore: 0.68, Threshold: 0.7}, nil)
	if c, err := q.Open(e.ctx, e.moderator("Erlan"), other); err != nil || len(c.History) != 0 {
		t.Fatalf("another applicant's history = %+v, %v", c.History, err)
	}
}

// TestFourEyes: a case of a kind under the four-eyes rule needs two
// approvals by two moderators; a rejection needs one; other kinds one
// approval.
func TestFourEyes(t *testing.T) {
	e := newEnv(t)
	if _, err := moderation.NewQueue(e.pool, moderation.Config{FourEyes: []string{"suspicious"}}, e.sessions, e.register, e.evidence, e.audit, nil); !errors.Is(err, moderation.ErrInvalidRequest) {
		t.Fatalf("unknown four-eyes kind: %v", err)
	}
	q := e.queue(moderation.Config{FourEyes: []string{moderation.WhyRepeatedLockouts}})
	escalated := func(serial int) string {
		t.Helper()
		s, tok, err := e.sessions.Create(e.ctx, session.CreateRequest{ClientID: e.clientID, IIN: e.citizen(serial),
			CallbackURL: "http://127.0.0.1/cb", ReturnURL: "http://127.0.0.1/back"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.pool.Exec(e.ctx, `UPDATE sessions SET requires_moderation = true WHERE id = $1`, s.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.sessions.RecordConsent(e.ctx, tok, "kk", true); err != nil {
			t.Fatal(err)
		}
		a, err := e.sessions.StartAttempt(e.ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := e.sessions.FinishAttempt(e.ctx, a.ID, session.Result{Outcome: session.OutcomeMatch, Route: policy.RouteIssue, MatchScore: 0.9, Threshold: 0.7}); err != nil || got.State != session.StateModeration {
			t.Fatalf("escalated match: %v, %v", got.State, err)
		}
		return s.ID
	}
	alice, bob := e.moderator("Alice"), e.moderator("Bob")
	id := escalated(21)
	if _, err := q.Open(e.ctx, alice, id); err != nil {
		t.Fatal(err)
	}
	s, err := q.Decide(e.ctx, alice, id, true, "", "looks fine")
	if err != nil || s.State != session.StateModeration {
		t.Fatalf("first approval: %v, %v; want the case still in moderation", s.State, err)
	}
	if list, _ := q.List(e.ctx, 0); len(list) != 1 || list[0].FirstApprovedBy != "Alice" || list[0].ClaimedBy != "" || list[0].Why != moderation.WhyRepeatedLockouts {
		t.Fatalf("queue after the first approval: %+v", list)
	}
	if _, err := q.Open(e.ctx, alice, id); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Decide(e.ctx, alice, id, true, "", "still fine"); !errors.Is(err, moderation.ErrSecondApprover) {
		t.Fatalf("the same moderator approves twice: %v", err)
	}
	if err := q.Release(e.ctx, alice, id); err != nil {
		t.Fatal(err)
	}
	// The claim is checked on this path too.
	if _, err := q.Decide(e.ctx, bob, id, true, "", "unseen"); !errors.Is(err, moderation.ErrNotClaimed) {
		t.Fatalf("approval without opening the case: %v, want ErrNotClaimed", err)
	}
	if _, err := q.Decide(e.ctx, bob, "not-a-uuid", true, "", ""); !errors.Is(err, moderation.ErrNotFound) {
		t.Fatalf("approval of a malformed id: %v, want ErrNotFound", err)
	}
	c, err := q.Open(e.ctx, bob, id)
	if err != nil || c.FirstApprovedBy != "Alice" {
		t.Fatalf("Bob opens: %+v, %v", c.CaseSummary, err)
	}
	if s, err := q.Decide(e.ctx, bob, id, true, "", "agree"); err != nil || s.State != session.StateApproved {
		t.Fatalf("second approval: %v, %v", s.State, err)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'case_first_approval' AND session_id = $1 AND data->>'moderator_id' = $2`, id, alice.ID); n != 1 {
		t.Errorf("%d case_first_approval records", n)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE kind = 'moderation_decision' AND session_id = $1 AND data->>'moderator_id' = $2 AND data->>'first_approved_by' = $3`, id, bob.ID, alice.ID); n != 1 {
		t.Errorf("%d final decisions naming both moderators", n)
	}
	if recs, err := moderation.Decisions(e.ctx, e.pool, moderation.Calendar{}, time.Time{}); err != nil || len(recs) != 1 ||
		recs[0].ModeratorID != bob.ID || recs[0].FirstApproverID != alice.ID || recs[0].Why != moderation.WhyRepeatedLockouts {
		t.Errorf("the export of a four-eyes approval: %+v, %v", recs, err)
	}

	// One rejection is enough, even after a first approval.
	id = escalated(22)
	q.Open(e.ctx, alice, id)
	q.Decide(e.ctx, alice, id, true, "", "ok")
	q.Open(e.ctx, bob, id)
	if s, err := q.Decide(e.ctx, bob, id, false, "not_live", "a screen's edge in the clip"); err != nil || s.State != session.StateRejected {
		t.Fatalf("rejection after a first approval: %v, %v", s.State, err)
	}
	// Other kinds: one approval.
	near := e.toModeration(e.citizen(23), session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteModerate, MatchScore: 0.68, Threshold: 0.7}, nil)
	q.Open(e.ctx, alice, near)
	if s, err := q.Decide(e.ctx, alice, near, true, "", "same person"); err != nil || s.State != session.StateApproved {
		t.Fatalf("near-threshold approval: %v, %v", s.State, err)
	}
}
