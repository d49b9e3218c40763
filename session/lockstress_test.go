package session_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"vidid/internal/pgtest"
	"vidid/session"
)

// lockstressReport mirrors cmd/lockstress's output.
type lockstressReport struct {
	Recorded          int      `json:"recorded"`
	RefusedLocked     int      `json:"refused_locked"`
	RefusedClosed     int      `json:"refused_closed"`
	InProgressRetries int      `json:"in_progress_retries"`
	Errors            []string `json:"errors"`
}

func buildLockstress(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lockstress")
	cmd := exec.Command("go", "build", "-o", bin, "vidid/cmd/lockstress")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build lockstress: %v\n%s", err, out)
	}
	return bin
}

type proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// TestLockoutAcrossProcesses is the concurrency requirement: two separate
// OS processes on one database fire 200 concurrent failed attempts at one
// session; exactly MaxFailedAttempts are recorded, the rest refused. Then
// the lockout expires by the database clock: a new session is refused
// before and allowed after, and the locked session stays closed.
func TestLockoutAcrossProcesses(t *testing.T) {
	const (
		procs   = 2
		workers = 100
		lockout = 2 * time.Second
	)
	ctx := context.Background()
	pool := pgtest.New(t)
	e := newEnvOn(t, pool, session.Config{LockoutDuration: lockout})
	iin := testIIN(900)
	s, _ := e.open(iin)
	bin := buildLockstress(t)

	var ps []*proc
	for range procs {
		cmd := exec.Command(bin, "-db", pgtest.URL(t), "-session", s.ID, "-n", strconv.Itoa(workers),
			"-max", "10", "-lockout", lockout.String(), "-audit-key", hex.EncodeToString([]byte("session test subject key 123456")))
		cmd.Stderr = os.Stderr
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		p := &proc{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
		if line, err := p.out.ReadString('\n'); err != nil || line != "ready\n" {
			t.Fatalf("lockstress did not get ready: %q %v", line, err)
		}
		ps = append(ps, p)
	}
	for _, p := range ps { // release both together
		fmt.Fprintln(p.stdin, "go")
	}
	var total lockstressReport
	for i, p := range ps {
		line, err := p.out.ReadString('\n')
		if err != nil {
			t.Fatalf("lockstress %d: %v", i, err)
		}
		var r lockstressReport
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("lockstress %d printed %q: %v", i, line, err)
		}
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("lockstress %d: %v", i, err)
		}
		t.Logf("process %d: %+v", i, r)
		total.Recorded += r.Recorded
		total.RefusedLocked += r.RefusedLocked
		total.RefusedClosed += r.RefusedClosed
		total.InProgressRetries += r.InProgressRetries
		total.Errors = append(total.Errors, r.Errors...)
	}
	if len(total.Errors) > 0 {
		t.Fatalf("unexpected errors: %v", total.Errors)
	}
	if total.Recorded != 10 || total.RefusedLocked+total.RefusedClosed != procs*workers-10 {
		t.Fatalf("recorded %d, refused %d+%d; want exactly 10 recorded and %d refused",
			total.Recorded, total.RefusedLocked, total.RefusedClosed, procs*workers-10)
	}
	if n := e.count(`SELECT count(*) FROM session_attempts WHERE session_id = $1`, s.ID); n != 10 {
		t.Fatalf("attempt rows = %d, want 10", n)
	}
	if n := e.count(`SELECT count(*) FROM session_attempts WHERE session_id = $1 AND counted AND outcome = 'no_match'`, s.ID); n != 10 {
		t.Fatalf("counted no_match attempts = %d, want 10", n)
	}
	if n := e.count(`SELECT count(*) FROM subject_lockouts WHERE iin = $1`, iin); n != 1 {
		t.Fatalf("lockouts = %d, want 1", n)
	}
	if cbs := e.callbacks(s.ID); len(cbs) != 1 || cbs[0] != "locked" {
		t.Fatalf("callbacks = %v, want one 'locked'", cbs)
	}

	// Expiry, by the database clock.
	var until time.Time
	if err := pool.QueryRow(ctx, `SELECT locked_until FROM subject_guards WHERE iin = $1`, iin).Scan(&until); err != nil {
		t.Fatal(err)
	}
	req := session.CreateRequest{ClientID: e.clientID, IIN: iin, CallbackURL: e.cb, ReturnURL: e.ret}
	refused := 0
	var fresh session.Session
	for {
		var err error
		fresh, _, err = e.store.Create(ctx, req)
		if err == nil {
			break
		}
		var le *session.LockedError
		if !errors.As(err, &le) || !le.Until.Equal(until) {
			t.Fatalf("Create during the lockout = %v, want LockedError until %v", err, until)
		}
		refused++
		waitForDB(t, e, until)
	}
	if fresh.CreatedAt.Before(until) {
		t.Fatalf("new session created at %v, before the lockout ended at %v (database clock)", fresh.CreatedAt, until)
	}
	if refused == 0 {
		// The machine was so slow that the lockout ended before the first
		// check; show "refused before" on a lockout long enough to see.
		showRefusedBeforeExpiry(t, e)
	}
	if fresh.AttemptsLeft != 10 || fresh.State != session.StateOpen {
		t.Fatalf("new session after the lockout: %+v", fresh)
	}
	if _, err := e.store.StartAttempt(ctx, s.ID); !errors.Is(err, session.ErrSessionClosed) {
		t.Fatalf("locked session after the lockout = %v, want ErrSessionClosed", err)
	}
}

// waitForDB sleeps until the database clock passes t (bounded).
func waitForDB(tb testing.TB, e *env, t time.Time) {
	tb.Helper()
	for range 600 {
		var past bool
		if err := e.pool.QueryRow(context.Background(), `SELECT clock_timestamp() >= $1`, t).Scan(&past); err != nil {
			tb.Fatal(err)
		}
		if past {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("database clock did not reach %v", t)
}

func showRefusedBeforeExpiry(t *testing.T, e *env) {
	ctx := context.Background()
	st, err := session.NewPG(e.pool, session.Config{LockoutDuration: time.Minute, MaxFailedAttempts: 1}, e.audit)
	if err != nil {
		t.Fatal(err)
	}
	iin := testIIN(901)
	s, tok, err := st.Create(ctx, session.CreateRequest{ClientID: e.clientID, IIN: iin, CallbackURL: e.cb, ReturnURL: e.ret})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RecordConsent(ctx, tok, "ru", true); err != nil {
		t.Fatal(err)
	}
	a, _ := st.StartAttempt(ctx, s.ID)
	if got, _ := st.FinishAttempt(ctx, a.ID, noMatch()); got.State != session.StateLocked {
		t.Fatalf("not locked: %+v", got)
	}
	if _, _, err := st.Create(ctx, session.CreateRequest{ClientID: e.clientID, IIN: iin, CallbackURL: e.cb, ReturnURL: e.ret}); !errors.Is(err, session.ErrLockedOut) {
		t.Fatalf("Create during a 1-minute lockout = %v", err)
	}
}
