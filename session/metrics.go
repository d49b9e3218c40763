package session

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	attempts  *prometheus.CounterVec
	lockouts  prometheus.Counter
	created   prometheus.Counter
	decisions *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "vidid", Subsystem: "session", Name: "attempts_total",
			Help: "Finished verification attempts, by outcome.",
		}, []string{"outcome"}),
		lockouts: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "vidid", Subsystem: "session", Name: "lockouts_total",
			Help: "Applicants locked out after too many failed attempts.",
		}),
		created: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "vidid", Subsystem: "session", Name: "created_total",
			Help: "Verification sessions created.",
		}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "vidid", Subsystem: "session", Name: "decisions_total",
			Help: "Sessions leaving open or moderation, by new state.",
		}, []string{"state"}),
	}
	for _, o := range []Outcome{OutcomeMatch, OutcomeNoMatch, OutcomeLivenessFailed, OutcomeTimeout, OutcomeAborted, OutcomeError} {
		m.attempts.WithLabelValues(string(o))
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.attempts = registerCollector(reg, m.attempts, &err)
	m.lockouts = registerCollector(reg, m.lockouts, &err)
	m.created = registerCollector(reg, m.created, &err)
	m.decisions = registerCollector(reg, m.decisions, &err)
	return m, err
}

// registerCollector registers c, or returns the collector already registered under
// the same name (two stores sharing one registry share the metrics).
func registerCollector[T prometheus.Collector](reg prometheus.Registerer, c T, errp *error) T {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(T); ok {
				return existing
			}
		}
		if *errp == nil {
			*errp = err
		}
	}
	return c
}
