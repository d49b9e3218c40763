package moderation

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	opened    prometheus.Counter
	decisions *prometheus.CounterVec
}

func newMetrics() *metrics {
	return &metrics{
		opened: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "vidid", Subsystem: "moderation", Name: "cases_opened_total",
			Help: "Cases opened by moderators (each opening is also an audit record).",
		}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "vidid", Subsystem: "moderation", Name: "decisions_total",
			Help: "Moderator decisions, by decision (approved, rejected, first_approval: the first of two under the four-eyes rule).",
		}, []string{"decision"}),
	}
}

var (
	queueCasesDesc = prometheus.NewDesc("vidid_moderation_queue_cases",
		"Sessions waiting for a moderator's decision.", nil, nil)
	queueOverdueDesc = prometheus.NewDesc("vidid_moderation_queue_overdue_cases",
		"Sessions in the queue past their one-working-day deadline.", nil, nil)
	queueOldestDesc = prometheus.NewDesc("vidid_moderation_queue_oldest_age_seconds",
		"Age of the oldest case in the queue (0 when empty).", nil, nil)
)

// Register registers the queue's metrics: counters of openings and
// decisions, and gauges of the queue read from the database at each
// scrape (so every replica reports the shared queue).
func (q *Queue) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{q.m.opened, q.m.decisions, queueCollector{q}} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

type queueCollector struct{ q *Queue }

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueCasesDesc
	ch <- queueOverdueDesc
	ch <- queueOldestDesc
}

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.q.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueCasesDesc, err)
		return
	}
	age := 0.0
	if !st.Oldest.IsZero() {
		age = c.q.cfg.Now().Sub(st.Oldest).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(queueCasesDesc, prometheus.GaugeValue, float64(st.Cases))
	ch <- prometheus.MustNewConstMetric(queueOverdueDesc, prometheus.GaugeValue, float64(st.Overdue))
	ch <- prometheus.MustNewConstMetric(queueOldestDesc, prometheus.GaugeValue, age)
}
