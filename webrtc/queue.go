package webrtc

import (
	"context"
	"sync"
	"time"

	"vidid/engine"
)

// frameQueue hands decoded frames from the receiver to the analysis: a
// bounded drop-oldest queue (the analysis always gets the newest frame, a
// slow analysis never builds a backlog), paced to at most one frame per
// interval, with a small pool of pixel buffers so a steady stream decodes
// without allocating.
type frameQueue struct {
	size     int
	interval time.Duration
	dropped  func(n int) // counts frames dropped for a newer one

	mu      sync.Mutex
	frames  []engine.Frame // oldest first
	free    [][]byte       // recycled pixel buffers
	seq     uint64
	lastOut time.Time
	closed  bool
	notify  chan struct{} // a frame arrived (capacity 1)
}

func newFrameQueue(size int, fps float64, dropped func(int)) *frameQueue {
	return &frameQueue{size: size, interval: time.Duration(float64(time.Second) / fps), dropped: dropped,
		notify: make(chan struct{}, 1)}
}

// buffer returns a recycled pixel buffer, or nil (the decoder allocates).
func (q *frameQueue) buffer() []byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n := len(q.free); n > 0 {
		b := q.free[n-1]
		q.free = q.free[:n-1]
		return b
	}
	return nil
}

// recycle returns a buffer to the pool: the queue, one frame held by the
// analysis and one being decoded are all a steady stream needs.
func (q *frameQueue) recycle(b []byte) {
	q.mu.Lock()
	q.putLocked(b)
	q.mu.Unlock()
}

func (q *frameQueue) putLocked(b []byte) {
	if b != nil && !q.closed && len(q.free) < q.size+2 {
		q.free = append(q.free, b)
	}
}

// push adds a frame, dropping the oldest beyond the queue's size.
func (q *frameQueue) push(f engine.Frame) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.seq++
	f.Seq, f.Time = q.seq, time.Now()
	q.frames = append(q.frames, f)
	n := len(q.frames) - q.size
	if n > 0 {
		for _, old := range q.frames[:n] {
			q.putLocked(old.Pix)
		}
		q.frames = append(q.frames[:0], q.frames[n:]...)
	}
	q.mu.Unlock()
	if n > 0 {
		q.dropped(n)
	}
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// close empties the queue and stops accepting frames.
func (q *frameQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.frames, q.free = nil, nil
	q.mu.Unlock()
}

// next waits for the newest frame not yet returned, no sooner than one
// interval after the previous one; older queued frames are dropped. It
// returns early with end()'s error when done closes, or ctx's.
func (q *frameQueue) next(ctx context.Context, done <-chan struct{}, end func() error) (engine.Frame, func(), error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-done:
			return engine.Frame{}, nil, end()
		default:
		}
		q.mu.Lock()
		wait := q.interval - time.Since(q.lastOut)
		if len(q.frames) > 0 && wait <= 0 {
			n := len(q.frames)
			f := q.frames[n-1]
			for _, old := range q.frames[:n-1] {
				q.putLocked(old.Pix)
			}
			q.frames = q.frames[:0]
			q.lastOut = time.Now()
			q.mu.Unlock()
			if n > 1 {
				q.dropped(n - 1)
			}
			var once sync.Once
			return f, func() { once.Do(func() { q.recycle(f.Pix) }) }, nil
		}
		q.mu.Unlock()
		var tick <-chan time.Time
		if wait > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			tick = timer.C
		}
		select {
		case <-ctx.Done():
			return engine.Frame{}, nil, ctx.Err()
		case <-done:
			return engine.Frame{}, nil, end()
		case <-q.notify:
		case <-tick:
		}
	}
}
