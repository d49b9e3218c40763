package engine

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	stage  *prometheus.HistogramVec
	errors *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "vidid", Subsystem: "engine", Name: "stage_duration_seconds",
			Help:    "Time spent in one pipeline stage per call, by stage and embedder model.",
			Buckets: []float64{.001, .002, .004, .008, .012, .016, .024, .032, .05, .1, .25, .5, 1},
		}, []string{"stage", "model"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "vidid", Subsystem: "engine", Name: "stage_errors_total",
			Help: "Pipeline stage calls that failed, by stage and embedder model.",
		}, []string{"stage", "model"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.stage, m.errors} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *metrics) observe(stage, model string, start time.Time, err error) {
	m.stage.WithLabelValues(stage, model).Observe(time.Since(start).Seconds())
	if err != nil {
		m.errors.WithLabelValues(stage, model).Inc()
	}
}
