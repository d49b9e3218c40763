// Command lockstress fires concurrent failed attempts at one verification
// session, to show that the lockout holds across processes sharing one
// database. It is a test helper (see session's TestLockoutAcrossProcesses),
// not part of the product.
//
//	lockstress -db URL -session ID -n 100 [-max 10] [-lockout 10m] [-audit-key HEX]
//
// It connects, prints "ready", waits for a line on stdin (so several
// processes can be started together), then runs n workers. Each worker
// repeats StartAttempt until it gets an attempt or a refusal; with an
// attempt it immediately finishes it as no_match. It prints one JSON object
// with the counts and exits 0 (1 on setup errors).
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/audit"
	"vidid/policy"
	"vidid/session"
)

// Report is what lockstress prints.
type Report struct {
	// Recorded attempts were started and finished as no_match.
	Recorded int `json:"recorded"`
	// RefusedLocked and RefusedClosed are workers whose StartAttempt was
	// refused with ErrLockedOut or ErrSessionClosed.
	RefusedLocked int `json:"refused_locked"`
	RefusedClosed int `json:"refused_closed"`
	// InProgressRetries counts ErrAttemptInProgress answers (retried).
	InProgressRetries int `json:"in_progress_retries"`
	// Errors are any other failures (should be none).
	Errors []string `json:"errors"`
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "lockstress:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("lockstress", flag.ContinueOnError)
	db := fs.String("db", "", "Postgres URL")
	sessionID := fs.String("session", "", "session id")
	n := fs.Int("n", 100, "concurrent workers")
	conns := fs.Int("conns", 16, "database connections")
	maxFailed := fs.Int("max", 10, "MaxFailedAttempts")
	lockout := fs.Duration("lockout", 10*time.Minute, "LockoutDuration")
	keyHex := fs.String("audit-key", hex.EncodeToString([]byte("lockstress audit subject key")), "audit subject key (hex)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *db == "" || *sessionID == "" || *n < 1 {
		return errors.New("need -db, -session and -n ≥ 1")
	}
	key, err := hex.DecodeString(*keyHex)
	if err != nil {
		return fmt.Errorf("audit key: %w", err)
	}
	cfg, err := pgxpool.ParseConfig(*db)
	if err != nil {
		return fmt.Errorf("parse db url: %w", err)
	}
	cfg.MaxConns = int32(*conns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	al, err := audit.New(audit.Config{SubjectKey: key})
	if err != nil {
		return err
	}
	store, err := session.NewPG(pool, session.Config{
		MaxFailedAttempts: *maxFailed, LockoutDuration: *lockout,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, al)
	if err != nil {
		return err
	}

	fmt.Fprintln(stdout, "ready")
	if _, err := bufio.NewReader(stdin).ReadString('\n'); err != nil {
		return fmt.Errorf("wait for go: %w", err)
	}

	var mu sync.Mutex
	var rep Report
	rep.Errors = []string{}
	var wg sync.WaitGroup
	for range *n {
		wg.Go(func() {
			outcome, retries, err := worker(ctx, store, *sessionID)
			mu.Lock()
			defer mu.Unlock()
			rep.InProgressRetries += retries
			switch {
			case err != nil:
				rep.Errors = append(rep.Errors, err.Error())
			case outcome == "recorded":
				rep.Recorded++
			case outcome == "locked":
				rep.RefusedLocked++
			case outcome == "closed":
				rep.RefusedClosed++
			}
		})
	}
	wg.Wait()
	return json.NewEncoder(stdout).Encode(rep)
}

// worker makes one failed attempt, or is refused.
func worker(ctx context.Context, store *session.PG, sessionID string) (string, int, error) {
	for retries := 0; ; retries++ {
		att, err := store.StartAttempt(ctx, sessionID)
		switch {
		case errors.Is(err, session.ErrAttemptInProgress):
			time.Sleep(time.Duration(500+rand.IntN(2000)) * time.Microsecond)
			continue
		case errors.Is(err, session.ErrLockedOut):
			return "locked", retries, nil
		case errors.Is(err, session.ErrSessionClosed):
			return "closed", retries, nil
		case err != nil:
			return "", retries, fmt.Errorf("start attempt: %w", err)
		}
		if _, err := store.FinishAttempt(ctx, att.ID, session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteCount, MatchScore: 0.31, Threshold: 0.7}); err != nil {
			return "", retries, fmt.Errorf("finish attempt: %w", err)
		}
		return "recorded", retries, nil
	}
}
