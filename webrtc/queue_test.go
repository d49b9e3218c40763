package webrtc

import (
	"context"
	"errors"
	"testing"
	"time"

	"vidid/engine"
)

func frameOf(v byte) engine.Frame {
	return engine.Frame{Width: 2, Height: 1, Pix: []byte{v, v, v, v, v, v}}
}

func TestQueueKeepsNewest(t *testing.T) {
	dropped := 0
	q := newFrameQueue(2, 1e6, func(n int) { dropped += n })
	for v := range byte(5) {
		q.push(frameOf(v))
	}
	if dropped != 3 {
		t.Errorf("%d frames dropped on push, want 3 (queue of 2)", dropped)
	}
	f, release, err := q.next(t.Context(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Pix[0] != 4 || f.Seq != 5 {
		t.Errorf("got frame %d (seq %d), want the newest, 4 (seq 5)", f.Pix[0], f.Seq)
	}
	if dropped != 4 {
		t.Errorf("%d frames dropped after next, want 4", dropped)
	}
	release()
}

func TestQueueRecyclesBuffers(t *testing.T) {
	q := newFrameQueue(2, 1e6, func(int) {})
	q.push(frameOf(1))
	f, release, err := q.next(t.Context(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b := q.buffer(); b != nil {
		t.Fatal("a buffer was handed out while the analysis still holds it")
	}
	release()
	release()
	if b := q.buffer(); b == nil || &b[0] != &f.Pix[0] {
		t.Fatal("the released buffer was not recycled")
	}
	if b := q.buffer(); b != nil {
		t.Fatal("a twice-released buffer is in the pool twice")
	}
}

// TestQueuePacing: frames come no faster than the configured rate however
// fast they arrive (a lower bound on spacing: a slow machine only widens it).
func TestQueuePacing(t *testing.T) {
	const fps = 20
	q := newFrameQueue(2, fps, func(int) {})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		for v := byte(0); ctx.Err() == nil; v++ {
			q.push(frameOf(v))
			time.Sleep(time.Millisecond)
		}
	}()
	// The queue stamps each hand-out inside its lock; reading that stamp
	// (not the time this goroutine resumes) keeps scheduler delays out.
	var last time.Time
	for i := range 6 {
		_, release, err := q.next(ctx, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		q.mu.Lock()
		out := q.lastOut
		q.mu.Unlock()
		if i > 0 && out.Sub(last) < time.Second/fps {
			t.Fatalf("frame %d handed out %v after the previous one, less than 1/%d s", i, out.Sub(last), fps)
		}
		last = out
		release()
	}
}

func TestQueueEnd(t *testing.T) {
	q := newFrameQueue(2, 1e6, func(int) {})
	done := make(chan struct{})
	errEnd := errors.New("ended")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := q.next(ctx, done, func() error { return errEnd }); !errors.Is(err, context.Canceled) {
		t.Fatalf("next with a cancelled context: %v", err)
	}
	q.push(frameOf(1))
	close(done)
	q.close()
	if _, _, err := q.next(t.Context(), done, func() error { return errEnd }); !errors.Is(err, errEnd) {
		t.Fatalf("next after the end: %v, want the end reason even with a frame queued", err)
	}
	q.push(frameOf(2)) // after close: ignored, no panic
}
