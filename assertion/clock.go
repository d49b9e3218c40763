package assertion

import "time"

// Clock tells the time. Issuer, Verifier and the key stores take one so
// tests can move time; nil means the system clock.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// SystemClock is the wall clock.
var SystemClock Clock = systemClock{}

func orSystem(c Clock) Clock {
	if c == nil {
		return SystemClock
	}
	return c
}
