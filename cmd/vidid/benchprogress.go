package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/sys/unix"

	"vidid/bench"
)

// newBenchProgress shows progress bars when w is a terminal, else a plain
// line per stage every interval and at its end.
func newBenchProgress(w io.Writer, interval time.Duration) bench.Progress {
	if f, ok := w.(*os.File); ok {
		// A terminal answers the termios request; /dev/null, also a
		// character device, does not.
		if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
			return &barProgress{w: w}
		}
	}
	return &lineProgress{w: w, every: interval}
}

// barProgress draws one mpb bar per stage.
type barProgress struct{ w io.Writer }

func (p *barProgress) Stage(name string, total int) (func(), func()) {
	c := mpb.New(mpb.WithOutput(p.w), mpb.WithWidth(48))
	bar := c.AddBar(int64(total),
		mpb.PrependDecorators(decor.Name(name, decor.WC{C: decor.DindentRight | decor.DextraSpace}), decor.CountersNoUnit("%d / %d")),
		mpb.AppendDecorators(decor.Percentage(), decor.Name(" "), decor.OnComplete(decor.AverageETA(decor.ET_STYLE_GO), "done")))
	return func() { bar.Increment() }, func() {
		if !bar.Completed() {
			bar.Abort(false)
		}
		c.Wait()
	}
}

// lineProgress prints "name: done/total" lines, at most one per interval.
type lineProgress struct {
	w     io.Writer
	every time.Duration
}

func (p *lineProgress) Stage(name string, total int) (func(), func()) {
	var mu sync.Mutex
	n, last := 0, time.Now()
	t0 := last
	return func() {
			mu.Lock()
			defer mu.Unlock()
			n++
			if time.Since(last) >= p.every {
				last = time.Now()
				fmt.Fprintf(p.w, "%s: %d/%d (%.0f s)\n", name, n, total, time.Since(t0).Seconds())
			}
		}, func() {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(p.w, "%s: %d/%d done in %.0f s\n", name, n, total, time.Since(t0).Seconds())
		}
}
