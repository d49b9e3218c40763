package dlib

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of one call, the only values of the "outcome" label.
const (
	outcomeOK        = "ok"         // a face was embedded / detection ran
	outcomeNoFace    = "no_face"    // dlib found no face (at the expected position)
	outcomeBadInput  = "bad_input"  // malformed frame or unusable face box
	outcomeError     = "error"      // dlib or encoding failure, cancelled, closed
	outcomeOffTarget = "off_target" // dlib found faces, none overlapping the expected box
)

type metrics struct {
	calls *prometheus.CounterVec
}

// newMetrics builds the package's collectors and registers them with reg
// (nil: not registered). An Embedder and a Detector may share a registry:
// the second reuses the first one's collectors.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "vidid", Subsystem: "dlib", Name: "calls_total",
		Help: "Calls into dlib (go-face) by operation (embed, detect) and outcome.",
	}, []string{"op", "outcome"})
	if reg != nil {
		if err := reg.Register(calls); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, fmt.Errorf("register dlib metrics: %w", err)
			}
			existing, ok := are.ExistingCollector.(*prometheus.CounterVec)
			if !ok {
				return nil, fmt.Errorf("register dlib metrics: %w", err)
			}
			calls = existing
		}
	}
	return &metrics{calls: calls}, nil
}

func (m *metrics) count(op, outcome string) { m.calls.WithLabelValues(op, outcome).Inc() }
