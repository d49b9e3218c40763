package webrtc

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// Slot is a place for one peer under Config.MaxPeers, held from Reserve
// until the peer it is accepted for ends, or until Release. Reserving
// first lets a caller refuse a browser (ErrBusy) before it records
// anything for the offer, and give the place back if its own checks fail.
type Slot struct {
	s     *Server
	state atomic.Int32 // slotHeld → slotUsed (Accept) or slotReleased
}

const (
	slotHeld int32 = iota
	slotUsed
	slotReleased
)

// errSlotUsed: Accept on a slot already accepted or released (a program
// error).
var errSlotUsed = errors.New("webrtc: peer slot already used or released")

// Reserve holds a place for one peer. Beyond Config.MaxPeers (peers open
// plus slots held) it returns an error wrapping ErrBusy and counts the
// refusal (offers_rejected_total{reason="busy"}); once the server is
// closed, ErrClosed. It is cheap: a lock and a counter.
func (s *Server) Reserve() (*Slot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("reserve peer: server %w", ErrClosed)
	}
	if s.pending+len(s.peers) >= s.cfg.MaxPeers {
		s.m.rejected.WithLabelValues(reasonBusy).Inc()
		return nil, fmt.Errorf("reserve peer: %w (%d)", ErrBusy, s.cfg.MaxPeers)
	}
	s.pending++
	return &Slot{s: s}, nil
}

// Accept answers offer in the slot, as Server.Accept does. The slot is
// used up either way: the returned peer holds it until it ends, and on an
// error it is given back.
func (sl *Slot) Accept(ctx context.Context, offer string) (string, *Peer, error) {
	if !sl.state.CompareAndSwap(slotHeld, slotUsed) {
		return "", nil, errSlotUsed
	}
	answer, p, err := sl.s.negotiate(ctx, offer)
	if err != nil {
		sl.s.unreserve()
		return "", nil, err
	}
	return answer, p, nil
}

// Release gives an unused slot back. It does nothing after Accept or a
// first Release.
func (sl *Slot) Release() {
	if sl.state.CompareAndSwap(slotHeld, slotReleased) {
		sl.s.unreserve()
	}
}

func (s *Server) unreserve() {
	s.mu.Lock()
	s.pending--
	s.mu.Unlock()
}
