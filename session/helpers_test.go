package session_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"vidid/audit"
	"vidid/internal/pgtest"
	"vidid/policy"
	"vidid/rp"
	"vidid/session"
)

// testIIN returns a valid IIN (born 1985, check digit computed) that is
// distinct for each n.
func testIIN(n int) string {
	for serial := n * 10; ; serial++ {
		base := fmt.Sprintf("85%02d%02d3%04d", 1+serial%12, 1+serial%28, serial%10000)
		if d, ok := checkDigit(base); ok {
			return base + string(rune('0'+d))
		}
	}
}

// checkDigit is the IIN control digit: weights 1..11 mod 11, and if that
// gives 10, weights 3..11,1,2; a second 10 means the number is not issued.
func checkDigit(first11 string) (int, bool) {
	sum := func(w func(i int) int) int {
		s := 0
		for i := range 11 {
			s += int(first11[i]-'0') * w(i)
		}
		return s % 11
	}
	d := sum(func(i int) int { return i + 1 })
	if d == 10 {
		d = sum(func(i int) int { return (i+2)%11 + 1 })
	}
	return d, d != 10
}

type env struct {
	t        *testing.T
	pool     *pgxpool.Pool
	store    *session.PG
	audit    *audit.Log
	reg      *prometheus.Registry
	clientID string
	cb, ret  string
}

func newEnv(t *testing.T, cfg session.Config) *env {
	t.Helper()
	pool := pgtest.New(t)
	return newEnvOn(t, pool, cfg)
}

func newEnvOn(t *testing.T, pool *pgxpool.Pool, cfg session.Config) *env {
	t.Helper()
	ctx := context.Background()
	id, _, _, err := rp.NewClients(pool).Create(ctx, "e-gov portal", []string{"portal.example.kz", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	al, err := audit.New(audit.Config{SubjectKey: []byte("session test subject key 123456")})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	cfg.Registerer = reg
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := session.NewPG(pool, cfg, al)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, pool: pool, store: st, audit: al, reg: reg, clientID: id,
		cb: "https://portal.example.kz/vidid/callback", ret: "https://portal.example.kz/eds/continue"}
	t.Cleanup(func() {
		// Whatever a test did, the audit chain must still verify.
		if rep, err := audit.Verify(context.Background(), pool); err != nil {
			t.Errorf("audit chain after test: %v (%+v)", err, rep)
		}
	})
	return e
}

// open creates a session for iin and records consent.
func (e *env) open(iin string) (session.Session, string) {
	e.t.Helper()
	ctx := context.Background()
	s, tok, err := e.store.Create(ctx, session.CreateRequest{ClientID: e.clientID, IIN: iin, CallbackURL: e.cb, ReturnURL: e.ret})
	if err != nil {
		e.t.Fatalf("Create(%s): %v", iin, err)
	}
	if err := e.store.RecordConsent(ctx, tok, "kk", true); err != nil {
		e.t.Fatalf("RecordConsent: %v", err)
	}
	return s, tok
}

// attempt starts and finishes one attempt.
func (e *env) attempt(id string, r session.Result) session.Session {
	e.t.Helper()
	a, err := e.store.StartAttempt(context.Background(), id)
	if err != nil {
		e.t.Fatalf("StartAttempt: %v", err)
	}
	s, err := e.store.FinishAttempt(context.Background(), a.ID, r)
	if err != nil {
		e.t.Fatalf("FinishAttempt(%+v): %v", r, err)
	}
	return s
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := e.pool.Exec(context.Background(), sql, args...); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

// endLockout moves the IIN's lockout end to the database's now, the same
// as waiting it out (the real wait is shown in TestLockoutAcrossProcesses).
func (e *env) endLockout(iin string) {
	e.t.Helper()
	e.exec(`UPDATE subject_guards SET locked_until = now() - interval '1 millisecond' WHERE iin = $1`, iin)
}

// callbacks returns the decided states in the session's callbacks, in order.
func (e *env) callbacks(sessionID string) []string {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(),
		`SELECT convert_from(body, 'UTF8')::jsonb #>> '{data,state}' FROM rp_callbacks WHERE session_id = $1 ORDER BY id`, sessionID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func noMatch() session.Result {
	return session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteCount, MatchScore: 0.41, Threshold: 0.7, ThresholdVersion: "t1", Model: "dlib-resnet-v1"}
}

func match() session.Result {
	return session.Result{Outcome: session.OutcomeMatch, Route: policy.RouteIssue, LivenessScore: 0.97, MatchScore: 0.83, Threshold: 0.7, ThresholdVersion: "t1", Model: "dlib-resnet-v1", EvidenceRef: "ev/1"}
}

// dbNow reads the database clock.
func (e *env) dbNow() time.Time {
	e.t.Helper()
	var now time.Time
	if err := e.pool.QueryRow(context.Background(), `SELECT clock_timestamp()`).Scan(&now); err != nil {
		e.t.Fatal(err)
	}
	return now
}

// value reads a counter from the test registry (label: the one label value).
func (e *env) value(name string, label ...string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(label) == 0 || len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label[0] {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func contains(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}
