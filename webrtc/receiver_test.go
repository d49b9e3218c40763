package webrtc

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"vidid/internal/testenv"
	"vidid/webrtc/vpx"
)

// rig is a receiver fed directly with RTP packets (no network), with a
// counter in place of the RTCP PLI writer.
type rig struct {
	r    *receiver
	m    *metrics
	q    *frameQueue
	plis int
	now  time.Time // the receiver's clock, moved by the test
}

func newRig(t testing.TB) *rig {
	t.Helper()
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := vpx.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dec.Close() })
	g := &rig{m: m}
	g.q = newFrameQueue(2, 1e6, func(n int) { m.dropped.WithLabelValues(dropQueue).Add(float64(n)) })
	g.r = newReceiver(m, dec, g.q, 96, func() { g.plis++ })
	g.now = time.Unix(1e9, 0)
	g.r.now = func() time.Time { return g.now }
	return g
}

func (g *rig) count(reason string) float64 {
	return testutil.ToFloat64(g.m.dropped.WithLabelValues(reason))
}

// packetize splits VP8 frames into RTP packets as a browser would (15-bit
// picture IDs), one slice of packets per frame. The small MTU spreads even
// small frames over several packets.
func packetize(frames [][]byte) [][]*rtp.Packet {
	p := rtp.NewPacketizer(400, 96, 1, &codecs.VP8Payloader{EnablePictureID: true}, rtp.NewFixedSequencer(65000), 90000)
	out := make([][]*rtp.Packet, len(frames))
	for i, f := range frames {
		out[i] = p.Packetize(f, 6000)
	}
	return out
}

func TestReceiver(t *testing.T) {
	frames := clipFrames(t) // keyframes at 0, 30, …
	if !isKeyframe(frames[0]) || isKeyframe(frames[1]) || !isKeyframe(frames[30]) {
		t.Fatal("the clip does not have keyframes every 30 frames")
	}
	pkts := packetize(frames[:45])
	if n := len(pkts[0]); n > maxFramePackets {
		t.Fatalf("the keyframe takes %d packets, more than the samplebuilder holds", n)
	}
	if len(pkts[5]) < 3 {
		t.Fatalf("frame 5 fits in %d packets; the partial-loss case needs 3", len(pkts[5]))
	}
	tests := []struct {
		name string
		drop func(frame, packet int) bool
		// Frames decoded, and at least waited dropped while waiting for a
		// keyframe (with a lost packet, the samplebuilder may discard the
		// next frame as well).
		decoded, waited float64
	}{
		// The last frame stays in the samplebuilder until a later packet
		// shows it is complete.
		{"clean stream", func(int, int) bool { return false }, 44, 0},
		{"start mid-GOP", func(f, _ int) bool { return f < 3 }, 14, 27},
		{"frame lost", func(f, _ int) bool { return f == 5 }, 5 + 14, 24},
		{"packet lost", func(f, p int) bool { return f == 5 && p == 1 }, 5 + 14, 23},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newRig(t)
			g.r.start()
			for i, fp := range pkts {
				g.now = g.now.Add(time.Second / 15)
				for j, p := range fp {
					if !tc.drop(i, j) {
						g.r.handle(p)
					}
				}
			}
			if v := testutil.ToFloat64(g.m.decoded); v != tc.decoded {
				t.Errorf("decoded %v frames, want %v", v, tc.decoded)
			}
			waited := g.count(dropBeforeKeyframe)
			if waited < tc.waited || waited+tc.decoded > 44 {
				t.Errorf("dropped %v frames waiting for a keyframe, want %v", waited, tc.waited)
			}
			if v := g.count(dropDecodeError); v != 0 {
				t.Errorf("%v decode errors", v)
			}
			// One PLI at the start; while a keyframe is missing, more, but
			// at most one per pliInterval (4.5 frames at 15 fps).
			switch {
			case waited == 0 && g.plis != 1:
				t.Errorf("sent %d keyframe requests on a clean stream, want 1", g.plis)
			case waited > 0 && (g.plis < 2 || float64(g.plis-1) > waited/4+1):
				t.Errorf("sent %d keyframe requests while %v frames waited for a keyframe", g.plis, waited)
			}
			f, release, err := g.q.next(t.Context(), nil, nil)
			if err != nil || f.Width != 640 || f.Height != 480 || f.Validate() != nil {
				t.Fatalf("newest frame: %dx%d, %v", f.Width, f.Height, err)
			}
			// The newest decoded frame is the 44th (the 45th is held).
			if want := pkts[43][0].Timestamp; !f.HasRTP || f.RTPTimestamp != want {
				t.Errorf("newest frame's RTP timestamp %d (set %v), want %d", f.RTPTimestamp, f.HasRTP, want)
			}
			release()
		})
	}
}

func TestReceiverRejectsGarbage(t *testing.T) {
	g := newRig(t)
	tests := []struct {
		name    string
		pkt     rtp.Packet
		invalid bool
	}{
		{"wrong payload type", rtp.Packet{Header: rtp.Header{PayloadType: 111}, Payload: []byte{0x90, 0x80, 0x80, 0x01, 0}}, true},
		{"empty payload", rtp.Packet{Header: rtp.Header{PayloadType: 96}}, true},
		{"descriptor cut short", rtp.Packet{Header: rtp.Header{PayloadType: 96}, Payload: []byte{0x80}}, true},
		{"picture ID cut short", rtp.Packet{Header: rtp.Header{PayloadType: 96}, Payload: []byte{0x90, 0x80, 0x80}}, true},
		{"padding only", rtp.Packet{Header: rtp.Header{PayloadType: 96, Padding: true}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := testutil.ToFloat64(g.m.invalid)
			g.r.handle(&tc.pkt)
			if got := testutil.ToFloat64(g.m.invalid) - before; got != map[bool]float64{true: 1, false: 0}[tc.invalid] {
				t.Errorf("rtp_invalid_total grew by %v", got)
			}
		})
	}
}

func TestFollows(t *testing.T) {
	for _, tc := range []struct {
		prev, pid int
		want      bool
	}{{5, 6, true}, {5, 7, false}, {5, 5, false}, {0x7fff, 0, true}, {0x7f, 0x80, true}, {0x7f, 0, true}, {0x7ffe, 0, false}} {
		if got := follows(tc.prev, tc.pid); got != tc.want {
			t.Errorf("follows(%#x, %#x) = %v", tc.prev, tc.pid, got)
		}
	}
}

// BenchmarkReceive is the RTP→frame path per 640x480 frame: VP8 payload
// checks, samplebuilder, libvpx decode, BGR conversion and the queue (the
// sender's packetisation is included; it is a copy of a few KB).
func BenchmarkReceive(b *testing.B) {
	frames := clipFrames(b)
	g := newRig(b)
	p := rtp.NewPacketizer(1200, 96, 1, &codecs.VP8Payloader{EnablePictureID: true}, rtp.NewFixedSequencer(0), 90000)
	i := 0
	testenv.ReportCPU(b, func() {
		for _, pkt := range p.Packetize(frames[i%len(frames)], 6000) {
			g.r.handle(pkt)
		}
		i++
		g.q.mu.Lock()
		ready := len(g.q.frames) > 0
		g.q.mu.Unlock()
		if ready { // the analysis takes the frame and gives its buffer back
			_, release, err := g.q.next(b.Context(), nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			release()
		}
	})
	if d := testutil.ToFloat64(g.m.decoded); d < float64(i-2) {
		b.Fatalf("decoded %v of %d frames", d, i)
	}
}
