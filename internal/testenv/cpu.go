package testenv

import (
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cpuTime is the process's CPU time so far (all threads, user and system),
// from CLOCK_PROCESS_CPUTIME_ID, which is precise to the nanosecond.
func cpuTime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// ReportCPU runs the benchmark loop body via loop and reports the process
// CPU time per operation next to the wall time: its mean as "cpu-ms/op" and
// its median as "cpu-ms-p50/op". On a shared, loaded machine wall time is
// inflated by waiting for a core; CPU time per op is not (it still includes
// the runtime's own threads), and the median also ignores the odd slow
// iteration (a page fault storm, a noisy neighbour on the host), so it is
// the figure to compare with a reference that reports medians.
func ReportCPU(b *testing.B, loop func()) {
	b.Helper()
	var per []time.Duration
	start := cpuTime()
	for b.Loop() {
		t := cpuTime()
		loop()
		per = append(per, cpuTime()-t)
	}
	if n := len(per); n > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(n), "cpu-ms/op")
		slices.Sort(per)
		b.ReportMetric(float64(per[n/2])/float64(time.Millisecond), "cpu-ms-p50/op")
	}
}
