package testenv

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ReportCPU runs the benchmark loop body via loop and reports the
// process CPU time per operation as "cpu-ms/op" next to the wall time.
// On a shared, loaded machine wall time is inflated by waiting for a core;
// CPU time per op is not (it still includes the runtime's own threads).
func ReportCPU(b *testing.B, loop func()) {
	b.Helper()
	start := cpuTime()
	n := 0
	for b.Loop() {
		loop()
		n++
	}
	if n > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(n), "cpu-ms/op")
	}
}
