package webrtc

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestPeerCap: with MaxPeers 1 a second offer is refused as busy while the
// first peer is open, and accepted once it has ended.
func TestPeerCap(t *testing.T) {
	s := newServer(t, Config{MaxPeers: 1}, prometheus.NewRegistry())
	first := connect(t, s, newClient(t, false))
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	c := newClient(t, false)
	offer := c.offer(t)
	if _, _, err := s.Accept(ctx, offer); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Accept: %v, want ErrBusy", err)
	}
	if v := testutil.ToFloat64(s.m.rejected.WithLabelValues(reasonBusy)); v != 1 {
		t.Fatalf("offers_rejected_total{reason=busy} = %v, want 1", v)
	}
	_ = first.Close()
	recv(t, first.Done(), "first peer end")
	answer, p, err := s.Accept(ctx, offer)
	if err != nil {
		t.Fatalf("Accept after the first peer ended: %v", err)
	}
	defer p.Close()
	c.answer(t, answer)
	if v := testutil.ToFloat64(s.m.maxPeers); v != 1 {
		t.Fatalf("sessions_max = %v, want 1", v)
	}
}

// TestSlots: reserved slots count against MaxPeers until they are
// released, used by a failed Accept, or the server closes.
func TestSlots(t *testing.T) {
	tests := []struct {
		name string
		// run takes the server's only slot, does something with it and
		// says whether a new reservation must then succeed.
		run  func(t *testing.T, s *Server, sl *Slot) (free bool)
		want error // of the new reservation when it must fail
	}{
		{"held", func(*testing.T, *Server, *Slot) bool { return false }, ErrBusy},
		{"released", func(_ *testing.T, _ *Server, sl *Slot) bool { sl.Release(); return true }, nil},
		{"released twice", func(_ *testing.T, _ *Server, sl *Slot) bool { sl.Release(); sl.Release(); return true }, nil},
		{"failed accept", func(t *testing.T, _ *Server, sl *Slot) bool {
			if _, _, err := sl.Accept(t.Context(), "garbage"); !errors.Is(err, ErrMalformedSDP) {
				t.Fatalf("Accept: %v, want ErrMalformedSDP", err)
			}
			sl.Release() // after Accept: a no-op, not a second give-back
			return true
		}, nil},
		{"accept after release", func(t *testing.T, _ *Server, sl *Slot) bool {
			sl.Release()
			if _, _, err := sl.Accept(t.Context(), "garbage"); !errors.Is(err, errSlotUsed) {
				t.Fatalf("Accept of a released slot: %v, want errSlotUsed", err)
			}
			return true
		}, nil},
		{"server closed", func(_ *testing.T, s *Server, _ *Slot) bool { _ = s.Close(); return false }, ErrClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, Config{MaxPeers: 1}, nil)
			sl, err := s.Reserve()
			if err != nil {
				t.Fatal(err)
			}
			free := tc.run(t, s, sl)
			next, err := s.Reserve()
			switch {
			case free && err != nil:
				t.Fatalf("Reserve: %v, want a slot", err)
			case !free && !errors.Is(err, tc.want):
				t.Fatalf("Reserve: %v, want %v", err, tc.want)
			}
			if next != nil {
				next.Release()
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if want := 0; free && s.pending != want {
				t.Fatalf("%d slots pending after release, want %d", s.pending, want)
			}
		})
	}
}

func TestDefaultMaxPeers(t *testing.T) {
	var c Config
	if err := c.fill(); err != nil {
		t.Fatal(err)
	}
	if c.MaxPeers < DefaultPeersPerCPU {
		t.Fatalf("default MaxPeers %d, want at least %d", c.MaxPeers, DefaultPeersPerCPU)
	}
	c = Config{MaxPeers: -1}
	if err := c.fill(); err == nil {
		t.Fatal("MaxPeers -1 accepted")
	}
}
