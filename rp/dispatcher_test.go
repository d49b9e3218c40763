package rp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"vidid/internal/pgtest"
	"vidid/rp"
)

// receiver is a relying party's callback endpoint that verifies signatures
// the way a real receiver would.
type receiver struct {
	secret string
	mu     sync.Mutex
	status []int // answers to give, in order; 200 after they run out
	got    []rp.Envelope
	bad    []error
	ids    []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := rp.VerifySignature(r.secret, req.Header.Get(rp.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
		r.bad = append(r.bad, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	st := http.StatusOK
	if len(r.status) > 0 {
		st, r.status = r.status[0], r.status[1:]
	}
	if st == http.StatusOK {
		var env rp.Envelope
		if err := json.Unmarshal(body, &env); err != nil {
			r.bad = append(r.bad, err)
		}
		r.got = append(r.got, env)
		r.ids = append(r.ids, req.Header.Get(rp.EventIDHeader))
	}
	w.WriteHeader(st)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type outboxRow struct {
	State    string
	Attempts int
	Status   *int
}

func outbox(t *testing.T, pool *pgxpool.Pool) []outboxRow {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT state, attempts, last_status FROM rp_callbacks ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[outboxRow])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func setup(t *testing.T) (*pgxpool.Pool, string, *receiver, *httptest.Server) {
	t.Helper()
	pool := pgtest.New(t)
	id, _, secret, err := rp.NewClients(pool).Create(context.Background(), "portal", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	rcv := &receiver{secret: secret}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	return pool, id, rcv, srv
}

func enqueue(t *testing.T, pool *pgxpool.Pool, c rp.Callback, commit bool) string {
	t.Helper()
	var eventID string
	errRollback := errors.New("rollback")
	err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
		var err error
		eventID, err = rp.Enqueue(context.Background(), tx, c)
		if err == nil && !commit {
			return errRollback
		}
		return err
	})
	if err != nil && !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	return eventID
}

// makeDue moves every pending callback's next attempt to now, instead of
// waiting for the backoff.
func makeDue(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), `UPDATE rp_callbacks SET next_attempt_at = now() WHERE state = 'pending'`); err != nil {
		t.Fatal(err)
	}
}

func TestDispatcherDeliversSigned(t *testing.T) {
	pool, clientID, rcv, srv := setup(t)
	ctx := context.Background()
	reg := prometheus.NewPedanticRegistry()
	d, err := rp.NewDispatcher(pool, rp.DispatcherConfig{Registerer: reg, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sid := "6f1d3c1e-7a51-4c1e-9d3b-2f1c9e0a7b11"
	ev := enqueue(t, pool, rp.Callback{ClientID: clientID, SessionID: sid, URL: srv.URL + "/cb", Event: "session.decided",
		Data: map[string]string{"state": "matched"}}, true)
	enqueue(t, pool, rp.Callback{ClientID: clientID, URL: srv.URL + "/cb", Event: "session.decided", Data: 1}, false)

	n, err := d.RunOnce(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RunOnce = %d, %v; want 1 (the rolled-back callback must not exist)", n, err)
	}
	if len(rcv.bad) != 0 || len(rcv.got) != 1 {
		t.Fatalf("receiver: bad=%v got=%d", rcv.bad, len(rcv.got))
	}
	env := rcv.got[0]
	if env.ID != ev || rcv.ids[0] != ev || env.Type != "session.decided" || env.SessionID != sid || string(env.Data) != `{"state":"matched"}` {
		t.Fatalf("envelope = %+v (header id %s), want event %s", env, rcv.ids[0], ev)
	}
	if got := outbox(t, pool); len(got) != 1 || got[0].State != "delivered" || got[0].Attempts != 1 || *got[0].Status != 200 {
		t.Fatalf("outbox = %+v", got)
	}
	if n, err := d.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("second RunOnce = %d, %v; a delivered callback must not be sent again", n, err)
	}
	if got := testutil.ToFloat64(metricVec(t, reg, "delivered")); got != 1 {
		t.Errorf("delivered metric = %v", got)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("metric lint: %v %v", problems, err)
	}
}

func metricVec(t *testing.T, reg *prometheus.Registry, result string) prometheus.Collector {
	t.Helper()
	// The dispatcher registered vidid_rp_callbacks_total; registering an
	// identical vector returns the existing one.
	cv := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "vidid", Subsystem: "rp", Name: "callbacks_total",
		Help: "Callback delivery attempts to relying parties, by result (delivered, retry, failed)."}, []string{"result"})
	if err := reg.Register(cv); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			t.Fatal(err)
		}
		cv = are.ExistingCollector.(*prometheus.CounterVec)
	}
	return cv.WithLabelValues(result)
}

func TestDispatcherRetriesThenGivesUp(t *testing.T) {
	pool, clientID, rcv, srv := setup(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	d, err := rp.NewDispatcher(pool, rp.DispatcherConfig{MaxAttempts: 3, BaseBackoff: time.Minute, MaxBackoff: time.Hour, Registerer: reg, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	rcv.status = []int{500, 302, 503, 503}
	enqueue(t, pool, rp.Callback{ClientID: clientID, URL: srv.URL + "/a", Event: "e", Data: "first"}, true)

	// Attempt 1 fails: rescheduled about BaseBackoff later, not due now.
	if n, err := d.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	var wait float64
	if err := pool.QueryRow(ctx, `SELECT extract(epoch FROM next_attempt_at - now()) FROM rp_callbacks`).Scan(&wait); err != nil {
		t.Fatal(err)
	}
	if wait < 40 || wait > 80 {
		t.Fatalf("after the first failure the retry is %.0f s away, want about 60 s (±20%%)", wait)
	}
	if n, _ := d.RunOnce(ctx); n != 0 {
		t.Fatalf("a callback in backoff was sent again")
	}
	// Attempt 2 (a redirect is not followed and counts as failure), 3 fails: given up.
	for range 2 {
		makeDue(t, pool)
		if n, err := d.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("RunOnce = %d, %v", n, err)
		}
	}
	got := outbox(t, pool)
	if len(got) != 1 || got[0].State != "failed" || got[0].Attempts != 3 || *got[0].Status != 503 {
		t.Fatalf("outbox = %+v, want failed after 3 attempts", got)
	}
	makeDue(t, pool)
	if n, _ := d.RunOnce(ctx); n != 0 || len(rcv.got) != 0 {
		t.Fatalf("a failed callback was retried")
	}

	// A second callback: two failures, then delivered.
	rcv.status = []int{500, 500}
	enqueue(t, pool, rp.Callback{ClientID: clientID, URL: srv.URL + "/b", Event: "e", Data: "second"}, true)
	for range 3 {
		makeDue(t, pool)
		if _, err := d.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got = outbox(t, pool)
	if got[1].State != "delivered" || got[1].Attempts != 3 || len(rcv.got) != 1 || string(rcv.got[0].Data) != `"second"` {
		t.Fatalf("outbox = %+v, received %d", got, len(rcv.got))
	}
	for result, want := range map[string]float64{"delivered": 1, "retry": 4, "failed": 1} {
		if v := testutil.ToFloat64(metricVec(t, reg, result)); v != want {
			t.Errorf("vidid_rp_callbacks_total{result=%q} = %v, want %v", result, v, want)
		}
	}
}

func TestDispatcherStartStop(t *testing.T) {
	pool, clientID, rcv, srv := setup(t)
	d, err := rp.NewDispatcher(pool, rp.DispatcherConfig{PollInterval: 20 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); !errors.Is(err, rp.ErrDispatcherRunning) {
		t.Fatalf("second Start = %v", err)
	}
	for i := range 3 {
		enqueue(t, pool, rp.Callback{ClientID: clientID, URL: srv.URL, Event: "e", Data: i}, true)
	}
	// Wait (bounded, not timed) for the background loop to deliver and
	// record the deliveries.
	deadline := time.Now().Add(30 * time.Second)
	for {
		rcv.mu.Lock()
		n := len(rcv.got)
		rcv.mu.Unlock()
		delivered := 0
		for _, r := range outbox(t, pool) {
			if r.State == "delivered" {
				delivered++
			}
		}
		if n == 3 && delivered == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("background dispatcher delivered %d of 3", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(); err != nil {
		t.Fatalf("second Stop = %v", err)
	}
	// Stopped: a new callback stays pending.
	enqueue(t, pool, rp.Callback{ClientID: clientID, URL: srv.URL, Event: "e", Data: "late"}, true)
	time.Sleep(100 * time.Millisecond)
	if got := outbox(t, pool); got[3].State != "pending" || got[3].Attempts != 0 {
		t.Fatalf("a stopped dispatcher delivered: %+v", got[3])
	}
}

// Two dispatchers (two replicas) on one outbox deliver each callback once.
func TestDispatchersShareOutbox(t *testing.T) {
	pool, clientID, rcv, srv := setup(t)
	const n = 40
	for i := range n {
		enqueue(t, pool, rp.Callback{ClientID: clientID, URL: srv.URL, Event: "e", Data: i}, true)
	}
	var wg sync.WaitGroup
	for range 2 {
		d, err := rp.NewDispatcher(pool, rp.DispatcherConfig{BatchSize: 3, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for {
				k, err := d.RunOnce(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if k == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, id := range rcv.ids {
		if seen[id] {
			t.Fatalf("event %s delivered twice", id)
		}
		seen[id] = true
	}
	if len(seen) != n || !strings.HasPrefix(rcv.ids[0], "evt_") {
		t.Fatalf("delivered %d distinct events, want %d", len(seen), n)
	}
}
