package bench

import (
	"fmt"
	"slices"
	"time"
)

// Speed targets of the face engine per call on one core (issue 3): the
// live path's detect + landmarks + quality, and one embedding. They are
// reported next to measured figures; nothing fails on them (the figures
// depend on the machine and its load).
const (
	TargetAnalyze = 15 * time.Millisecond
	TargetEmbed   = 18 * time.Millisecond
)

// Latencies collects call durations and summarises them.
type Latencies struct{ d []time.Duration }

// Add records one call.
func (l *Latencies) Add(d time.Duration) { l.d = append(l.d, d) }

// Len is the number of calls recorded.
func (l *Latencies) Len() int { return len(l.d) }

// Quantile returns the q-quantile (0 <= q <= 1, nearest rank) of the
// recorded durations, or 0 when there are none.
func (l *Latencies) Quantile(q float64) time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	i := int(q*float64(len(s)) + 0.5)
	i = min(max(i-1, 0), len(s)-1)
	if q <= 0 {
		i = 0
	}
	return s[i]
}

// Summary is what a report shows of a set of latencies, in milliseconds.
type Summary struct {
	Calls int     `json:"calls"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	Max   float64 `json:"max_ms"`
}

// Summary summarises the recorded durations.
func (l *Latencies) Summary() Summary {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return Summary{Calls: len(l.d), P50: ms(l.Quantile(0.5)), P95: ms(l.Quantile(0.95)), Max: ms(l.Quantile(1))}
}

func (s Summary) String() string {
	return fmt.Sprintf("p50 %.1f ms  p95 %.1f ms  max %.1f ms  (%d calls)", s.P50, s.P95, s.Max, s.Calls)
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
