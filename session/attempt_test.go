package session_test

import (
	"context"
	"errors"
	"testing"

	"vidid/session"
)

// TestOneRunningAttemptPerIIN: a running attempt in another open session
// of the same IIN refuses a new one (ErrAttemptInProgress), so parallel
// sessions cannot run parallel captures of one person.
func TestOneRunningAttemptPerIIN(t *testing.T) {
	tests := []struct {
		name string
		// other prepares the attempt of the first session: running (as
		// started), finished, or stale (older than MaxCaptureTime).
		other   func(e *env, attemptID string)
		sameIIN bool
		want    error
	}{
		{"running, same IIN", func(*env, string) {}, true, session.ErrAttemptInProgress},
		{"running, other IIN", func(*env, string) {}, false, nil},
		{"finished, same IIN", func(e *env, id string) {
			if _, err := e.store.FinishAttempt(context.Background(), id, noMatch()); err != nil {
				e.t.Fatal(err)
			}
		}, true, nil},
		{"stale, same IIN", func(e *env, id string) {
			e.exec(`UPDATE session_attempts SET started_at = started_at - interval '1 hour' WHERE id = $1::uuid`, id)
		}, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, session.Config{})
			first, _ := e.open(testIIN(11))
			a, err := e.store.StartAttempt(ctx, first.ID)
			if err != nil {
				t.Fatal(err)
			}
			tc.other(e, a.ID)
			iin := testIIN(12)
			if tc.sameIIN {
				iin = first.IIN
			}
			second, _ := e.open(iin)
			b, err := e.store.StartAttempt(ctx, second.ID)
			if !errors.Is(err, tc.want) {
				t.Fatalf("StartAttempt in the second session: %v, want %v", err, tc.want)
			}
			if err != nil {
				if n := e.count(`SELECT count(*) FROM session_attempts WHERE session_id = $1::uuid`, second.ID); n != 0 {
					t.Fatalf("%d attempts written for the refused session", n)
				}
				return
			}
			if _, err := e.store.FinishAttempt(ctx, b.ID, noMatch()); err != nil {
				t.Fatal(err)
			}
		})
	}
}
