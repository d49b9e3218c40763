package rp

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	callbacks *prometheus.CounterVec
}

// Callback delivery results (the values of the result label).
const (
	resultDelivered = "delivered" // 2xx
	resultRetry     = "retry"     // failed, will be retried
	resultFailed    = "failed"    // failed for the last time
)

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "vidid", Subsystem: "rp", Name: "callbacks_total",
			Help: "Callback delivery attempts to relying parties, by result (delivered, retry, failed).",
		}, []string{"result"}),
	}
	for _, r := range []string{resultDelivered, resultRetry, resultFailed} {
		m.callbacks.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	if err := reg.Register(m.callbacks); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, err
		}
		cv, ok := are.ExistingCollector.(*prometheus.CounterVec)
		if !ok {
			return nil, err
		}
		m.callbacks = cv
	}
	return m, nil
}
