package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// keyLimiter is a token bucket per key (an API client), in this process:
// with several replicas each enforces its own share. Idle buckets are
// forgotten once there are too many.
type keyLimiter struct {
	every time.Duration
	burst int
	mu    sync.Mutex
	keys  map[string]*rate.Limiter
}

const maxLimiterKeys = 10_000

// newKeyLimiter allows perMinute requests a minute per key, burst at once;
// perMinute <= 0 disables it (nil).
func newKeyLimiter(perMinute, burst int) *keyLimiter {
	if perMinute <= 0 {
		return nil
	}
	return &keyLimiter{every: time.Minute / time.Duration(perMinute), burst: max(burst, 1), keys: map[string]*rate.Limiter{}}
}

// allow takes a token for key, or says how long until one is there.
func (l *keyLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= maxLimiterKeys {
			clear(l.keys)
		}
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.keys[key] = lim
	}
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// limitClient refuses a client's request over its rate with 429 and
// Retry-After. It runs after requireClient.
func (s *Server) limitClient(l *keyLimiter) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if l == nil {
			return next
		}
		return func(c echo.Context) error {
			cl, _ := c.Get(clientKey).(Client)
			if ok, wait := l.allow(cl.ID, time.Now()); !ok {
				secs := int(math.Ceil(wait.Seconds()))
				c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
				return newError(http.StatusTooManyRequests, "rate_limited", "Too many requests from this API key; retry after "+strconv.Itoa(secs)+" s.")
			}
			return next(c)
		}
	}
}
