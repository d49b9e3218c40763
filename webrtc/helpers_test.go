package webrtc

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	pion "github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/prometheus/client_golang/prometheus"

	imedia "vidid/internal/media"
	"vidid/internal/testenv"
	"vidid/webrtc/vpx"
)

// testTimeout bounds each network wait so a broken build fails instead of
// hanging; it is never a performance assertion.
const testTimeout = 30 * time.Second

func newServer(t *testing.T, cfg Config, reg prometheus.Registerer) *Server {
	t.Helper()
	cfg.LoopbackOnly = true
	if cfg.AnalysisFPS == 0 {
		cfg.AnalysisFPS = 30
	}
	s, err := NewServer(cfg, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// client stands in for the browser: a pion peer with a VP8 track and the
// guidance data channel.
type client struct {
	pc    *pion.PeerConnection
	track pion.TrackLocal
	dc    *pion.DataChannel
	msgs  chan string
}

// newClient makes a client; with rtpTrack its track takes raw RTP packets,
// otherwise whole VP8 frames (pion packetises them).
func newClient(t testing.TB, rtpTrack bool) *client {
	t.Helper()
	se := pion.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]pion.NetworkType{pion.NetworkTypeUDP4})
	me := &pion.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	api := pion.NewAPI(pion.WithSettingEngine(se), pion.WithMediaEngine(me))
	pc, err := api.NewPeerConnection(pion.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	c := &client{pc: pc, msgs: make(chan string, 64)}
	vp8 := pion.RTPCodecCapability{MimeType: pion.MimeTypeVP8, ClockRate: 90000}
	if rtpTrack {
		c.track, err = pion.NewTrackLocalStaticRTP(vp8, "video", "test")
	} else {
		c.track, err = pion.NewTrackLocalStaticSample(vp8, "video", "test")
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(c.track, pion.RTPTransceiverInit{Direction: pion.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	if c.dc, err = pc.CreateDataChannel(DataChannelLabel, nil); err != nil {
		t.Fatal(err)
	}
	c.dc.OnMessage(func(m pion.DataChannelMessage) {
		select {
		case c.msgs <- string(m.Data):
		default:
		}
	})
	return c
}

// offer returns the client's complete (non-trickle) offer.
func (c *client) offer(t testing.TB) string {
	t.Helper()
	o, err := c.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := pion.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	select {
	case <-g:
	case <-time.After(testTimeout):
		t.Fatal("client ICE gathering never completed")
	}
	return c.pc.LocalDescription().SDP
}

func (c *client) answer(t *testing.T, sdp string) {
	t.Helper()
	if err := c.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeAnswer, SDP: sdp}); err != nil {
		t.Fatal(err)
	}
}

// connect negotiates the client with s and returns the server's peer.
func connect(t *testing.T, s *Server, c *client) *Peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	answer, p, err := s.Accept(ctx, c.offer(t))
	if err != nil {
		t.Fatal(err)
	}
	c.answer(t, answer)
	return p
}

// serve runs fn over p in its own goroutine as the capture does
// (attempt.Service.run): ctx ends when the peer does, and the peer is
// closed when fn returns.
func serve(p *Peer, fn func(ctx context.Context, p *Peer)) {
	go func() {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { // ends with ctx at the latest
			select {
			case <-p.Done():
				cancel()
			case <-ctx.Done():
			}
		}()
		defer p.Close()
		fn(ctx, p)
	}()
}

// stream sends the frames at 15 fps, looping, until stop is closed. The
// returned func stops it and waits.
func (c *client) stream(frames [][]byte) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second / 15)
		defer tick.Stop()
		tr := c.track.(*pion.TrackLocalStaticSample)
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if err := tr.WriteSample(media.Sample{Data: frames[i%len(frames)], Duration: time.Second / 15}); err != nil &&
				!errors.Is(err, io.ErrClosedPipe) {
				return
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

// clipFrames is a 4 s 640x480 15 fps VP8 encoding of a bona fide video.
func clipFrames(t testing.TB) [][]byte {
	t.Helper()
	src := filepath.Join(testenv.DataDir(t), "video", "bonafide", "s01-apfol-real2.webm")
	return imedia.ReadIVF(t, imedia.IVF(t, src, 640, 480, 15, 4))
}

// checkNoLeaks waits for the goroutine count to return to base and for
// every VP8 decoder to be freed (a hand-written pion test.CheckRoutines).
func checkNoLeaks(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		n := runtime.NumGoroutine()
		if n <= base && vpx.Live() == 0 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines (started with %d), %d live decoders:\n%s", n, base, vpx.Live(), leaked(string(buf)))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// leaked keeps the stacks that are not the test machinery's own.
func leaked(all string) string {
	var out []string
	for _, g := range strings.Split(all, "\n\n") {
		if !strings.Contains(g, "testing.(*T).Run") && !strings.Contains(g, "testing.tRunner") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}
