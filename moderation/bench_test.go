package moderation_test

import (
	"testing"
	"time"

	"vidid/moderation"
	"vidid/policy"
	"vidid/session"
)

// BenchmarkQueue measures the queue reads with 300 cases waiting: List
// (the queue page) and Stats (every /metrics scrape, on every replica).
func BenchmarkQueue(b *testing.B) {
	if testing.Short() {
		b.Skip("needs Postgres")
	}
	e := newEnv(b)
	cal, _ := moderation.ParseHolidays("")
	q := e.queue(moderation.Config{Calendar: moderation.Calendar{Location: time.FixedZone("UTC+5", 5*3600), Holidays: cal}})
	for i := range 300 {
		e.toModeration(e.citizen(100+i), session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteModerate, MatchScore: 0.66 + float64(i%40)/1000, Threshold: 0.7}, nil)
	}
	b.Run("List", func(b *testing.B) {
		for b.Loop() {
			if cs, err := q.List(e.ctx, 500); err != nil || len(cs) != 300 {
				b.Fatalf("%d cases, %v", len(cs), err)
			}
		}
	})
	b.Run("Stats", func(b *testing.B) {
		for b.Loop() {
			if st, err := q.Stats(e.ctx); err != nil || st.Cases != 300 {
				b.Fatalf("%+v, %v", st, err)
			}
		}
	})
}
