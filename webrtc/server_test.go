package webrtc

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"vidid/webrtc/vpx"
)

// TestReceiveFrames streams a real VP8 clip from a pion client over
// loopback and reads decoded frames from the peer.
func TestReceiveFrames(t *testing.T) {
	frames := clipFrames(t)
	base := runtime.NumGoroutine()
	reg := prometheus.NewPedanticRegistry()
	s := newServer(t, Config{}, reg)
	c := newClient(t, false)
	p := connect(t, s, c)
	stop := c.stream(frames)
	defer stop()

	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	var last uint64
	for i := range 10 {
		f, release, err := p.Next(ctx)
		if err != nil {
			t.Fatalf("Next after %d frames: %v", i, err)
		}
		if f.Width != 640 || f.Height != 480 || f.Validate() != nil {
			t.Fatalf("frame %d: %dx%d, %d bytes", i, f.Width, f.Height, len(f.Pix))
		}
		if f.Seq <= last || f.Time.IsZero() {
			t.Fatalf("frame %d: Seq %d after %d, time %v", i, f.Seq, last, f.Time)
		}
		last = f.Seq
		release()
		release() // a second call must not recycle the buffer twice
	}
	if v := testutil.ToFloat64(s.m.active); v != 1 {
		t.Errorf("sessions_active = %v, want 1", v)
	}
	if v := testutil.ToFloat64(s.m.decoded); v < 10 {
		t.Errorf("frames_decoded_total = %v, want >= 10", v)
	}
	if v := testutil.ToFloat64(s.m.keyframes); v < 1 {
		t.Errorf("keyframe_requests_total = %v: no PLI at the start", v)
	}
	if n := testutil.CollectAndCount(s.m.decode); n != 1 {
		t.Errorf("decode_seconds has %d series", n)
	}
	probs, err := testutil.CollectAndLint(reg)
	if err != nil || len(probs) > 0 {
		t.Errorf("metric lint: %v %v", probs, err)
	}

	stop()
	_ = p.Close()
	if _, _, err := p.Next(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close: %v, want ErrClosed", err)
	}
	_ = c.pc.Close()
	_ = s.Close()
	if v := testutil.ToFloat64(s.m.active); v != 0 {
		t.Errorf("sessions_active after Close = %v", v)
	}
	if v := testutil.ToFloat64(s.m.ended.WithLabelValues("closed")); v != 1 {
		t.Errorf("sessions_ended_total{reason=closed} = %v", v)
	}
	checkNoLeaks(t, base)
}

// TestAcceptedPeerServes: the caller of Accept reads frames from the peer,
// as the capture does, and its context ends when the browser goes away.
func TestAcceptedPeerServes(t *testing.T) {
	frames := clipFrames(t)
	s := newServer(t, Config{}, nil)
	c := newClient(t, false)
	got := make(chan error, 1)
	ended := make(chan error, 1)
	p := connect(t, s, c)
	serve(p, func(ctx context.Context, p *Peer) {
		_, release, err := p.Next(ctx)
		if err == nil {
			release()
		}
		got <- err
		<-ctx.Done()
		ended <- p.Err()
	})
	stop := c.stream(frames)
	defer stop()
	if err := recv(t, got, "first frame"); err != nil {
		t.Fatalf("Next: %v", err)
	}
	stop()
	_ = c.pc.Close() // the browser closes the tab
	if err := recv(t, ended, "serving context end"); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("peer ended with %v, want ErrDisconnected", err)
	}
	recv(t, p.Done(), "peer Done")
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		t.Fatalf("%s: nothing within %v", what, testTimeout)
		panic("unreachable")
	}
}

// TestPeerEnds: each way a session ends gives its reason, and ends Next.
func TestPeerEnds(t *testing.T) {
	frames := clipFrames(t)
	tests := []struct {
		name string
		cfg  Config
		end  func(s *Server, c *client, p *Peer)
		want error
	}{
		{"browser closes", Config{}, func(_ *Server, c *client, _ *Peer) { _ = c.pc.Close() }, ErrDisconnected},
		{"capture time", Config{MaxCaptureTime: time.Second}, func(*Server, *client, *Peer) {}, ErrCaptureTimeout},
		{"peer closed", Config{}, func(_ *Server, _ *client, p *Peer) { _ = p.Close() }, ErrClosed},
		{"server closed", Config{}, func(s *Server, _ *client, _ *Peer) { _ = s.Close() }, ErrClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			s := newServer(t, tc.cfg, reg)
			c := newClient(t, false)
			p := connect(t, s, c)
			stop := c.stream(frames)
			defer stop()
			ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
			defer cancel()
			// A frame first, so the end comes mid-stream (a loaded machine
			// may reach the short capture time before it).
			if _, release, err := p.Next(ctx); err == nil {
				release()
			} else if !errors.Is(err, tc.want) {
				t.Fatalf("first frame: %v", err)
			}
			tc.end(s, c, p)
			recv(t, p.Done(), "peer end")
			if !errors.Is(p.Err(), tc.want) {
				t.Fatalf("Err = %v, want %v", p.Err(), tc.want)
			}
			// Next drains nothing stale: it reports the end.
			if _, _, err := p.Next(ctx); !errors.Is(err, tc.want) {
				t.Fatalf("Next after the end: %v", err)
			}
			if err := p.Send(map[string]string{"type": "late"}); !errors.Is(err, ErrClosed) {
				t.Fatalf("Send after the end: %v", err)
			}
			if v := testutil.ToFloat64(s.m.active); v != 0 {
				t.Fatalf("sessions_active = %v after the end", v)
			}
		})
	}
}

// TestICEFailure: an offer whose only candidate leads nowhere fails ICE
// after DisconnectedTimeout+FailedTimeout.
func TestICEFailure(t *testing.T) {
	s := newServer(t, Config{DisconnectedTimeout: 500 * time.Millisecond, FailedTimeout: 500 * time.Millisecond}, nil)
	c := newClient(t, false)
	offer := c.offer(t)
	var lines []string
	for _, l := range strings.Split(offer, "\r\n") {
		if strings.HasPrefix(l, "a=candidate:") {
			f := strings.Fields(l)
			f[4], f[5] = "127.0.0.1", "9" // the discard port: nothing answers
			l = strings.Join(f, " ")
		}
		lines = append(lines, l)
	}
	_ = c.pc.Close()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	_, p, err := s.Accept(ctx, strings.Join(lines, "\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	recv(t, p.Done(), "ICE failure")
	if !errors.Is(p.Err(), ErrICEFailed) {
		t.Fatalf("Err = %v, want ErrICEFailed", p.Err())
	}
}

const h264Offer = `v=0
o=- 1 2 IN IP4 127.0.0.1
s=-
t=0 0
m=video 9 UDP/TLS/RTP/SAVPF 102 103
c=IN IP4 0.0.0.0
a=rtpmap:102 H264/90000
a=rtpmap:103 rtx/90000
a=fmtp:103 apt=102
a=mid:0
a=sendonly
`

const audioOffer = `v=0
o=- 1 2 IN IP4 127.0.0.1
s=-
t=0 0
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=rtpmap:111 opus/48000/2
a=mid:0
a=sendonly
`

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// TestBadOffers: bad offers give their sentinel and a message naming the
// problem; the server then still answers a good offer.
func TestBadOffers(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := newServer(t, Config{}, reg)
	good := newClient(t, false).offer(t)
	tests := []struct {
		name  string
		offer string
		want  error
		msg   string
	}{
		{"empty", "", ErrMalformedSDP, "0 bytes"},
		{"not SDP", "hello, this is not SDP", ErrMalformedSDP, ""},
		{"truncated", good[:len(good)/3], ErrMalformedSDP, ""},
		{"too large", good + strings.Repeat("a=x-pad:0123456789\r\n", 4000), ErrMalformedSDP, "bytes"},
		{"H264 only", crlf(h264Offer), ErrUnsupportedCodec, "offered: H264"},
		{"audio only", crlf(audioOffer), ErrUnsupportedCodec, "no video"},
		{"video not sent", strings.Replace(good, "a=sendonly", "a=recvonly", 1), ErrUnsupportedCodec, "sends no video"},
		{"no ICE credentials", strings.NewReplacer("a=ice-ufrag:", "a=x-ufrag:", "a=ice-pwd:", "a=x-pwd:").Replace(good), ErrMalformedSDP, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, p, err := s.Accept(t.Context(), tc.offer)
			if !errors.Is(err, tc.want) || p != nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Accept: %v (peer %v), want %v mentioning %q", err, p, tc.want, tc.msg)
			}
		})
	}
	if v := testutil.ToFloat64(s.m.rejected.WithLabelValues("unsupported_codec")); v != 3 {
		t.Errorf("offers_rejected_total{unsupported_codec} = %v, want 3", v)
	}
	if v := testutil.ToFloat64(s.m.active); v != 0 {
		t.Errorf("sessions_active = %v after refused offers", v)
	}
	c := newClient(t, false)
	p := connect(t, s, c)
	_ = p.Close()
}

// TestAnswerOnlyVP8: of an offer listing several codecs, the answer keeps
// VP8 alone.
func TestAnswerOnlyVP8(t *testing.T) {
	s := newServer(t, Config{}, nil)
	c := newClient(t, false) // its MediaEngine offers VP8, H264, VP9, AV1 …
	offer := c.offer(t)
	if !strings.Contains(offer, "H264") {
		t.Fatal("the client's offer lists no H264: the test proves nothing")
	}
	answer, p, err := s.Accept(t.Context(), offer)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !strings.Contains(answer, "VP8/90000") {
		t.Fatalf("answer has no VP8:\n%s", answer)
	}
	for _, codec := range []string{"H264", "VP9", "AV1", "opus"} {
		if strings.Contains(answer, codec) {
			t.Errorf("answer lists %s", codec)
		}
	}
	if strings.Contains(answer, "a=candidate") && !strings.Contains(answer, " 127.0.0.1 ") {
		t.Errorf("LoopbackOnly answer has non-loopback candidates:\n%s", answer)
	}
}

// TestGarbageRTP: packets that are not VP8 are counted and dropped; the
// peer survives them, and the server serves another peer afterwards.
func TestGarbageRTP(t *testing.T) {
	frames := clipFrames(t)
	base := runtime.NumGoroutine()
	s := newServer(t, Config{}, nil)
	c := newClient(t, true)
	p := connect(t, s, c)
	tr := c.track.(*pion.TrackLocalStaticRTP)
	rng := rand.New(rand.NewSource(2))
	seq := uint16(0)
	send := func(payload []byte, marker bool) {
		seq++
		_ = tr.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq/3) * 6000, Marker: marker},
			Payload: payload})
		time.Sleep(time.Millisecond)
	}
	for i := range 1500 {
		switch i % 5 {
		case 0:
			send(nil, false) // empty payload without padding
		case 1:
			send([]byte{0x80}, false) // descriptor cut short
		default:
			b := make([]byte, 20+rng.Intn(900))
			rng.Read(b)
			send(b, i%5 == 4)
		}
	}
	// The garbage shows in the counters, and no frame comes out.
	deadline := time.Now().Add(testTimeout)
	for testutil.ToFloat64(s.m.invalid) < 300 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if v := testutil.ToFloat64(s.m.invalid); v < 300 {
		t.Errorf("rtp_invalid_total = %v, want >= 300 of 600 malformed packets", v)
	}
	dropped := testutil.ToFloat64(s.m.dropped.WithLabelValues(dropBeforeKeyframe)) + testutil.ToFloat64(s.m.dropped.WithLabelValues(dropDecodeError))
	if dropped == 0 {
		t.Error("no random frame was dropped (before_keyframe or decode_error)")
	}
	if v := testutil.ToFloat64(s.m.decoded); v != 0 {
		t.Errorf("decoded %v frames from random bytes", v)
	}
	sctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, _, err := p.Next(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next on garbage: %v, want no frame", err)
	}
	select {
	case <-p.Done():
		t.Fatalf("garbage ended the peer: %v", p.Err())
	default:
	}
	_ = p.Close()

	// Another, honest browser is served.
	c2 := newClient(t, false)
	p2 := connect(t, s, c2)
	stop := c2.stream(frames)
	ctx, cancel2 := context.WithTimeout(t.Context(), testTimeout)
	defer cancel2()
	if _, release, err := p2.Next(ctx); err != nil {
		t.Fatalf("second peer: %v", err)
	} else {
		release()
	}
	stop()
	_ = c.pc.Close()
	_ = c2.pc.Close()
	_ = s.Close()
	checkNoLeaks(t, base)
}

// TestCloseMidStream: closing the server while frames flow and a reader
// reads them leaks no goroutine and no decoder.
func TestCloseMidStream(t *testing.T) {
	frames := clipFrames(t)
	base := runtime.NumGoroutine()
	s, err := NewServer(Config{LoopbackOnly: true, AnalysisFPS: 30}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var stops []func()
	var clients []*client
	reading := make(chan struct{}, 3)
	for range 3 {
		c := newClient(t, false)
		clients = append(clients, c)
		serve(connect(t, s, c), func(ctx context.Context, p *Peer) {
			for n := 0; ; n++ {
				_, release, err := p.Next(ctx)
				if err != nil {
					return
				}
				release()
				if n == 2 {
					reading <- struct{}{}
				}
			}
		})
		stops = append(stops, c.stream(frames))
	}
	for range 3 {
		recv(t, reading, "frames on every peer")
	}
	if vpx.Live() == 0 {
		t.Fatal("no live decoder while streaming: the leak check proves nothing")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := vpx.Live(); n != 0 {
		t.Fatalf("%d decoders alive after Server.Close returned", n)
	}
	for _, stop := range stops {
		stop()
	}
	late := newClient(t, false)
	clients = append(clients, late)
	if _, _, err := s.Accept(t.Context(), late.offer(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
	_ = s.Close() // idempotent
	for _, c := range clients {
		_ = c.pc.Close()
	}
	checkNoLeaks(t, base)
}

// TestDataChannel: JSON messages both ways; messages sent before the
// channel opens are delivered once it does; malformed page messages are
// dropped and counted.
func TestDataChannel(t *testing.T) {
	s := newServer(t, Config{}, nil)
	c := newClient(t, false)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	answer, p, err := s.Accept(ctx, c.offer(t))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 8)
	p.OnMessage(func(b []byte) { got <- string(b) })
	// Sent before the browser even has the answer: queued.
	if err := p.Send(map[string]any{"type": "guidance", "code": "move_closer"}); err != nil {
		t.Fatal(err)
	}
	opened := make(chan struct{})
	c.dc.OnOpen(func() { close(opened) })
	c.answer(t, answer)
	if m := recv(t, c.msgs, "queued message"); !strings.Contains(m, `"code":"move_closer"`) {
		t.Fatalf("page got %q", m)
	}
	if err := p.Send(struct {
		Type string `json:"type"`
		N    int    `json:"n"`
	}{"progress", 3}); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, c.msgs, "message"); m != `{"type":"progress","n":3}` {
		t.Fatalf("page got %q", m)
	}
	if err := p.Send(map[string]any{"type": "bad", "f": func() {}}); err == nil {
		t.Fatal("Send of an unencodable value succeeded")
	}
	recv(t, opened, "channel open")
	for _, bad := range []string{"not json", `["type"]`, `{"code":1}`, `{"type":""}`, `{"type":7}`, `{"type":"x"` + strings.Repeat(" ", 20000) + "}"} {
		if err := c.dc.SendText(bad); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.dc.SendText(`{"type":"ready","lang":"kk"}`); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, got, "page message"); m != `{"type":"ready","lang":"kk"}` {
		t.Fatalf("handler got %q; malformed messages must be dropped", m)
	}
	if v := testutil.ToFloat64(s.m.badMsgs); v != 6 {
		t.Errorf("messages_invalid_total = %v, want 6", v)
	}
	_ = p.Close()
}

// TestNetworkConfig: candidates follow the port range, and the single-port
// mux serves two peers on one port.
func TestNetworkConfig(t *testing.T) {
	ports := func(t *testing.T, answer string) []int {
		var out []int
		for _, l := range strings.Split(answer, "\r\n") {
			if strings.HasPrefix(l, "a=candidate:") {
				n, err := strconv.Atoi(strings.Fields(l)[5])
				if err != nil {
					t.Fatalf("candidate %q", l)
				}
				out = append(out, n)
			}
		}
		if len(out) == 0 {
			t.Fatalf("answer has no candidates:\n%s", answer)
		}
		return out
	}
	t.Run("port range", func(t *testing.T) {
		s := newServer(t, Config{UDPPortMin: 41000, UDPPortMax: 41100}, nil)
		answer, p, err := s.Accept(t.Context(), newClient(t, false).offer(t))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		for _, port := range ports(t, answer) {
			if port < 41000 || port > 41100 {
				t.Errorf("candidate port %d outside 41000-41100", port)
			}
		}
	})
	t.Run("single port mux", func(t *testing.T) {
		frames := clipFrames(t)
		port := freeUDPPort(t)
		s := newServer(t, Config{UDPMuxPort: port}, nil)
		for i := range 2 {
			c := newClient(t, false)
			ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
			defer cancel()
			answer, p, err := s.Accept(ctx, c.offer(t))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			for _, got := range ports(t, answer) {
				if got != port {
					t.Errorf("peer %d: candidate port %d, want %d", i, got, port)
				}
			}
			c.answer(t, answer)
			stop := c.stream(frames)
			defer stop()
			if _, release, err := p.Next(ctx); err != nil {
				t.Fatalf("peer %d over the mux: %v", i, err)
			} else {
				release()
			}
		}
	})
	t.Run("bad config", func(t *testing.T) {
		for _, cfg := range []Config{{UDPPortMin: 50000, UDPPortMax: 40000}, {QueueSize: -1}, {UDPMuxPort: 70000}} {
			if _, err := NewServer(cfg, nil, nil); err == nil {
				t.Errorf("NewServer(%+v) accepted", cfg)
			}
		}
	})
}

// freeUDPPort returns a UDP port that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func ExampleServer_Accept() {
	s, err := NewServer(Config{AnalysisFPS: 8}, nil, prometheus.NewRegistry())
	if err != nil {
		panic(err)
	}
	defer s.Close()
	offer := "…the browser's offer SDP…"
	answer, p, err := s.Accept(context.Background(), offer)
	fmt.Println(errors.Is(err, ErrMalformedSDP))
	if err != nil {
		return
	}
	_ = answer // to the browser; then read frames until the peer ends
	defer p.Close()
	for {
		f, release, err := p.Next(context.Background())
		if err != nil {
			return // p.Err() says why the peer ended
		}
		_ = p.Send(map[string]any{"type": "guidance", "width": f.Width})
		release()
	}
	// Output: true
}
