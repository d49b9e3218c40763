package bench

import (
	"testing"
	"time"
)

func TestLatencies(t *testing.T) {
	var l Latencies
	if l.Quantile(0.5) != 0 || l.Summary().Calls != 0 {
		t.Fatal("empty set is not zero")
	}
	for i := 20; i >= 1; i-- { // 1..20 ms, recorded out of order
		l.Add(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0, time.Millisecond}, {0.5, 10 * time.Millisecond}, {0.95, 19 * time.Millisecond}, {1, 20 * time.Millisecond}} {
		if got := l.Quantile(tc.q); got != tc.want {
			t.Errorf("Quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	s := l.Summary()
	if s.Calls != 20 || s.P50 != 10 || s.P95 != 19 || s.Max != 20 {
		t.Errorf("summary %+v", s)
	}
	if l.d[0] != 20*time.Millisecond {
		t.Error("Quantile reordered the recorded durations")
	}
}
