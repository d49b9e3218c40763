package webrtc

import (
	"context"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	imedia "vidid/internal/media"
	"vidid/internal/testenv"
)

func newServer(t *testing.T, reg prometheus.Registerer) *Server {
	t.Helper()
	s, err := NewServer(Config{LoopbackOnly: true, AnalysisFPS: 30}, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// client is a pion browser stand-in: a VP8 track and the guidance channel.
type client struct {
	pc    *pion.PeerConnection
	track pion.TrackLocal
	msgs  chan string
}

func newClient(t *testing.T, rtpTrack bool) *client {
	t.Helper()
	se := pion.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
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
	cap := pion.RTPCodecCapability{MimeType: pion.MimeTypeVP8, ClockRate: 90000}
	if rtpTrack {
		c.track, err = pion.NewTrackLocalStaticRTP(cap, "video", "test")
	} else {
		c.track, err = pion.NewTrackLocalStaticSample(cap, "video", "test")
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(c.track); err != nil {
		t.Fatal(err)
	}
	dc, err := pc.CreateDataChannel(DataChannelLabel, nil)
	if err != nil {
		t.Fatal(err)
	}
	dc.OnMessage(func(m pion.DataChannelMessage) { c.msgs <- string(m.Data) })
	return c
}

func (c *client) offer(t *testing.T) string {
	t.Helper()
	o, err := c.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := pion.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	<-g
	return c.pc.LocalDescription().SDP
}

func (c *client) answer(t *testing.T, sdp string) {
	t.Helper()
	if err := c.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeAnswer, SDP: sdp}); err != nil {
		t.Fatal(err)
	}
}

// stream sends the IVF frames at 15 fps until stop is closed, looping.
func (c *client) stream(t *testing.T, ivf string, stop <-chan struct{}, wg *sync.WaitGroup) {
	var frames [][]byte
	f, err := os.Open(ivf)
	if err != nil {
		t.Error(err)
		return
	}
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Error(err)
		return
	}
	for {
		b, _, err := r.ParseNextFrame()
		if err != nil {
			break
		}
		frames = append(frames, b)
	}
	f.Close()
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second / 15)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			_ = c.track.(*pion.TrackLocalStaticSample).WriteSample(media.Sample{Data: frames[i%len(frames)], Duration: time.Second / 15})
		}
	}()
}

func clipIVF(t *testing.T) string {
	return imedia.IVF(t, filepath.Join(testenv.DataDir(t), "video", "bonafide", "s01-apfol-real2.webm"), 640, 480, 15, 4)
}

func TestReceiveFrames(t *testing.T) {
	base := runtime.NumGoroutine()
	reg := prometheus.NewPedanticRegistry()
	s := newServer(t, reg)
	c := newClient(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	answer, p, err := s.Accept(ctx, c.offer(t))
	if err != nil {
		t.Fatal(err)
	}
	c.answer(t, answer)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	c.stream(t, clipIVF(t), stop, &wg)
	var got int
	for got < 10 {
		f, release, err := p.Next(ctx)
		if err != nil {
			t.Fatalf("Next after %d frames: %v", got, err)
		}
		if f.Width != 640 || f.Height != 480 || f.Validate() != nil {
			t.Fatalf("frame %dx%d", f.Width, f.Height)
		}
		release()
		got++
	}
	if err := p.Send(map[string]string{"type": "guidance", "code": "ok"}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-c.msgs:
		if !strings.Contains(m, `"code":"ok"`) {
			t.Fatalf("message %q", m)
		}
	case <-ctx.Done():
		t.Fatal("guidance message never arrived")
	}
	if v := testutil.ToFloat64(s.m.active); v != 1 {
		t.Fatalf("sessions_active = %v", v)
	}
	if v := testutil.ToFloat64(s.m.decoded); v < 10 {
		t.Fatalf("frames_decoded_total = %v", v)
	}
	if probs, err := testutil.CollectAndLint(reg); err != nil || len(probs) > 0 {
		t.Fatalf("lint: %v %v", probs, err)
	}
	close(stop)
	wg.Wait()
	_ = p.Close()
	if _, _, err := p.Next(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
	_ = c.pc.Close()
	_ = s.Close()
	if v := testutil.ToFloat64(s.m.active); v != 0 {
		t.Fatalf("sessions_active after close = %v", v)
	}
	checkRoutines(t, base)
}

// checkRoutines waits for the goroutine count to return near base.
func checkRoutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base+2 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, started with %d:\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

const h264Offer = `v=0
o=- 1 2 IN IP4 127.0.0.1
s=-
t=0 0
m=video 9 UDP/TLS/RTP/SAVPF 102
c=IN IP4 0.0.0.0
a=rtpmap:102 H264/90000
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

func TestBadOffers(t *testing.T) {
	s := newServer(t, nil)
	ctx := context.Background()
	tests := []struct {
		name  string
		offer string
		want  error
		msg   string
	}{
		{"empty", "", ErrMalformedSDP, ""},
		{"garbage", "hello, this is not SDP", ErrMalformedSDP, ""},
		{"h264 only", strings.ReplaceAll(h264Offer, "\n", "\r\n"), ErrUnsupportedCodec, "H264"},
		{"audio only", strings.ReplaceAll(audioOffer, "\n", "\r\n"), ErrUnsupportedCodec, "no video"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, p, err := s.Accept(ctx, tc.offer)
			if !errors.Is(err, tc.want) || p != nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Accept: %v, want %v mentioning %q", err, tc.want, tc.msg)
			}
		})
	}
	// The server still serves a good peer afterwards.
	c := newClient(t, false)
	answer, p, err := s.Accept(ctx, c.offer(t))
	if err != nil {
		t.Fatalf("good offer after bad ones: %v", err)
	}
	c.answer(t, answer)
	_ = p.Close()
}

func TestGarbageRTP(t *testing.T) {
	s := newServer(t, nil)
	c := newClient(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	answer, p, err := s.Accept(ctx, c.offer(t))
	if err != nil {
		t.Fatal(err)
	}
	c.answer(t, answer)
	rng := rand.New(rand.NewSource(2))
	tr := c.track.(*pion.TrackLocalStaticRTP)
	deadline := time.Now().Add(3 * time.Second)
	for seq := uint16(0); time.Now().Before(deadline); seq++ {
		payload := make([]byte, 20+rng.Intn(900))
		rng.Read(payload)
		_ = tr.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: uint32(seq/3) * 6000, Marker: seq%3 == 2}, Payload: payload})
		time.Sleep(2 * time.Millisecond)
	}
	if v := testutil.ToFloat64(s.m.decoded); v != 0 {
		t.Fatalf("decoded %v frames from random bytes", v)
	}
	// No frame came out, and the peer is still alive and closable.
	sctx, scancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer scancel()
	if _, _, err := p.Next(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next on garbage: %v", err)
	}
	_ = p.Close()
	// A second, honest peer still works.
	c2 := newClient(t, false)
	answer, p2, err := s.Accept(ctx, c2.offer(t))
	if err != nil {
		t.Fatal(err)
	}
	c2.answer(t, answer)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	c2.stream(t, clipIVF(t), stop, &wg)
	if _, _, err := p2.Next(ctx); err != nil {
		t.Fatalf("second peer: %v", err)
	}
	close(stop)
	wg.Wait()
	_ = p2.Close()
}

func FuzzCheckOffer(f *testing.F) {
	f.Add(h264Offer)
	f.Add(audioOffer)
	f.Add("v=0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		err := CheckOffer(s)
		if err != nil && !errors.Is(err, ErrMalformedSDP) && !errors.Is(err, ErrUnsupportedCodec) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}
