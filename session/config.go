package session

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures the session store. Zero fields take the defaults named
// in their comments.
type Config struct {
	// MaxFailedAttempts is how many counted failures lock the applicant
	// out (10).
	MaxFailedAttempts int
	// LockoutDuration is how long a lockout lasts (10 min).
	LockoutDuration time.Duration
	// DefaultTTL is a new session's lifetime when the request gives none
	// (30 min); MaxTTL bounds requested lifetimes (24 h).
	DefaultTTL, MaxTTL time.Duration
	// MaxCaptureTime is how long one attempt may run; a running attempt
	// older than this is finished as timeout (counted) by the next
	// StartAttempt, by FinishAttempt or by Expire (3 min).
	MaxCaptureTime time.Duration
	// FailureWindow forgets counted failures when the newest is older
	// than this (24 h), so that one bad try a month ago does not shrink
	// today's budget.
	FailureWindow time.Duration
	// EscalateAfterLockouts: when an IIN has had this many lockouts within
	// EscalationWindow (2 within 24 h), the next step escalates; negative
	// disables escalation.
	//
	// Why: 10 tries per window at a false-match rate of 1e-4 give an
	// impostor about 1e-3 per window, so repeated windows must not be free.
	// How: with EscalationLockout zero (the default), a new session for
	// that IIN is created with RequiresModeration (a match in it goes to a
	// moderator instead of issuing); with EscalationLockout > 0, the
	// lockout that reaches the count lasts EscalationLockout instead of
	// LockoutDuration and sessions are not flagged.
	EscalateAfterLockouts int
	EscalationWindow      time.Duration
	EscalationLockout     time.Duration
	// HandoverWindow is how long after a moderator's approval the
	// applicant may take the fresh capture that hands the assertion over
	// (24 h).
	HandoverWindow time.Duration
	// Logger receives decisions (slog.Default()); IINs are masked.
	Logger *slog.Logger
	// Registerer receives the vidid_session_* metrics (none when nil).
	Registerer prometheus.Registerer
}

func (c *Config) fill() error {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.MaxFailedAttempts == 0 {
		c.MaxFailedAttempts = 10
	}
	def(&c.LockoutDuration, 10*time.Minute)
	def(&c.DefaultTTL, 30*time.Minute)
	def(&c.MaxTTL, 24*time.Hour)
	def(&c.MaxCaptureTime, 3*time.Minute)
	def(&c.FailureWindow, 24*time.Hour)
	def(&c.EscalationWindow, 24*time.Hour)
	def(&c.HandoverWindow, 24*time.Hour)
	if c.EscalateAfterLockouts == 0 {
		c.EscalateAfterLockouts = 2
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	switch {
	case c.MaxFailedAttempts < 1:
		return fmt.Errorf("session config: MaxFailedAttempts %d < 1", c.MaxFailedAttempts)
	case c.LockoutDuration < 0, c.DefaultTTL < 0, c.MaxTTL < 0, c.MaxCaptureTime < 0,
		c.FailureWindow < 0, c.EscalationWindow < 0, c.EscalationLockout < 0, c.HandoverWindow < 0:
		return fmt.Errorf("session config: negative duration")
	case c.DefaultTTL > c.MaxTTL:
		return fmt.Errorf("session config: DefaultTTL %v > MaxTTL %v", c.DefaultTTL, c.MaxTTL)
	}
	return nil
}
