package webrtc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	pion "github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	sdpoffer "vidid/webrtc/offer"
)

// Config configures the server. Zero values take the defaults in brackets.
type Config struct {
	// ICEServers are STUN/TURN servers used for server-reflexive and relay
	// candidates (none: host candidates only).
	ICEServers []pion.ICEServer
	// UDPPortMin, UDPPortMax confine ICE to a port range [any port].
	UDPPortMin, UDPPortMax uint16
	// UDPMuxPort serves every peer on this one UDP port [0: off].
	UDPMuxPort int
	// LoopbackOnly gathers only 127.0.0.1 UDP candidates, without mDNS, and
	// ignores the browser's other candidates (tests, a local demo).
	LoopbackOnly bool
	// AnalysisFPS is the most frames per second handed to the analysis [8].
	AnalysisFPS float64
	// QueueSize is how many decoded frames wait for the analysis; older
	// ones are dropped [2].
	QueueSize int
	// MaxCaptureTime ends a peer that stays longer [2 min].
	MaxCaptureTime time.Duration
	// GatherTimeout bounds ICE gathering before the answer [5 s].
	GatherTimeout time.Duration
	// DisconnectedTimeout: a browser silent this long is disconnected [5 s].
	// FailedTimeout: ICE that has not connected, or reconnected, this long
	// has failed [25 s].
	DisconnectedTimeout, FailedTimeout time.Duration
	// MaxPeers caps the peers open or being negotiated at once; an offer
	// beyond it is refused with ErrBusy [DefaultPeersPerCPU per CPU the
	// process may use].
	MaxPeers int
}

// DefaultPeersPerCPU is the default MaxPeers per CPU (GOMAXPROCS, which
// follows a container's CPU limit). The face pipeline costs about 11.7 ms
// per analysed frame (README, "Performance"), so one core analyses about
// 85 frames a second: ten captures at the default 8 analysed fps. More
// peers than that would only slow every capture down (frames dropped,
// guidance late) while each still holds an attempt and a UDP port.
const DefaultPeersPerCPU = 10

func (c *Config) fill() error {
	if c.AnalysisFPS == 0 {
		c.AnalysisFPS = 8
	}
	if c.QueueSize == 0 {
		c.QueueSize = 2
	}
	if c.MaxCaptureTime == 0 {
		c.MaxCaptureTime = 2 * time.Minute
	}
	if c.GatherTimeout == 0 {
		c.GatherTimeout = 5 * time.Second
	}
	if c.DisconnectedTimeout == 0 {
		c.DisconnectedTimeout = 5 * time.Second
	}
	if c.FailedTimeout == 0 {
		c.FailedTimeout = 25 * time.Second
	}
	if c.MaxPeers == 0 {
		c.MaxPeers = DefaultPeersPerCPU * runtime.GOMAXPROCS(0)
	}
	switch {
	case c.AnalysisFPS < 0 || c.QueueSize < 0 || c.MaxCaptureTime < 0 || c.GatherTimeout < 0 ||
		c.DisconnectedTimeout < 0 || c.FailedTimeout < 0 || c.MaxPeers < 0:
		return errors.New("webrtc config: negative value")
	case c.UDPPortMin > c.UDPPortMax:
		return fmt.Errorf("webrtc config: UDP port range %d-%d is empty", c.UDPPortMin, c.UDPPortMax)
	case c.UDPMuxPort < 0 || c.UDPMuxPort > 65535:
		return fmt.Errorf("webrtc config: UDP mux port %d", c.UDPMuxPort)
	}
	return nil
}

// Server answers browsers' offers and owns the resulting peers.
type Server struct {
	cfg  Config
	api  *pion.API
	log  *slog.Logger
	m    *metrics
	mux  ice.UDPMux
	ids  atomic.Uint64
	base context.Context // parent of session contexts; cancelled by Close
	stop context.CancelFunc

	mu      sync.Mutex
	closed  bool
	peers   map[*Peer]struct{}
	pending int            // reserved slots not yet a registered peer (admit.go)
	wg      sync.WaitGroup // every goroutine the server or its peers start
}

// NewServer builds the pion API: VP8 as the only codec (with NACK, PLI and
// RTCP reports), and the network settings of cfg. reg may be nil.
func NewServer(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Server, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	me := &pion.MediaEngine{}
	fb := []pion.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	if err := me.RegisterCodec(pion.RTPCodecParameters{
		RTPCodecCapability: pion.RTPCodecCapability{MimeType: pion.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb},
		PayloadType:        96,
	}, pion.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("register VP8: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := pion.ConfigureNack(me, ir); err != nil {
		return nil, fmt.Errorf("configure NACK: %w", err)
	}
	if err := pion.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("configure RTCP reports: %w", err)
	}
	se := pion.SettingEngine{}
	se.SetICETimeouts(cfg.DisconnectedTimeout, cfg.FailedTimeout, 2*time.Second)
	if cfg.LoopbackOnly {
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
		se.SetNetworkTypes([]pion.NetworkType{pion.NetworkTypeUDP4})
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	}
	if cfg.UDPPortMin != 0 || cfg.UDPPortMax != 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.UDPPortMin, cfg.UDPPortMax); err != nil {
			return nil, fmt.Errorf("UDP port range: %w", err)
		}
	}
	s := &Server{cfg: cfg, log: log, m: m, peers: map[*Peer]struct{}{}}
	if cfg.UDPMuxPort != 0 {
		host := "0.0.0.0"
		if cfg.LoopbackOnly {
			host = "127.0.0.1"
		}
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(host), Port: cfg.UDPMuxPort})
		if err != nil {
			return nil, fmt.Errorf("UDP mux on port %d: %w", cfg.UDPMuxPort, err)
		}
		s.mux = ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn})
		se.SetICEUDPMux(s.mux)
	}
	s.api = pion.NewAPI(pion.WithMediaEngine(me), pion.WithInterceptorRegistry(ir), pion.WithSettingEngine(se))
	m.maxPeers.Set(float64(cfg.MaxPeers))
	s.base, s.stop = context.WithCancel(context.Background())
	return s, nil
}

// Accept answers a browser's SDP offer (non-trickle: the answer carries all
// of the server's ICE candidates) and returns the answer SDP and the peer,
// which the caller owns and must Close. ctx bounds the negotiation only:
// the peer outlives it (an HTTP request's context ends as soon as the
// answer is written). The peer ends on ICE failure, disconnection,
// MaxCaptureTime, Close or Server.Close.
//
// A malformed offer returns an error wrapping ErrMalformedSDP; one without
// VP8 video ErrUnsupportedCodec; one beyond Config.MaxPeers ErrBusy. The
// server keeps serving either way. Accept is Reserve then Slot.Accept.
func (s *Server) Accept(ctx context.Context, offer string) (string, *Peer, error) {
	if err := sdpoffer.Check(offer); err != nil {
		s.m.rejected.WithLabelValues(reasonOf(err)).Inc()
		return "", nil, err
	}
	sl, err := s.Reserve()
	if err != nil {
		return "", nil, err
	}
	return sl.Accept(ctx, offer)
}

// negotiate answers offer in a reserved slot, which register turns into
// the peer's; on failure the caller gives the slot back.
func (s *Server) negotiate(ctx context.Context, offer string) (string, *Peer, error) {
	if err := sdpoffer.Check(offer); err != nil {
		s.m.rejected.WithLabelValues(reasonOf(err)).Inc()
		return "", nil, err
	}
	// Hold the server open while negotiating: goroutines this starts are
	// waited for by Close.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return "", nil, fmt.Errorf("answer offer: server %w", ErrClosed)
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	if s.cfg.LoopbackOnly {
		offer = keepLoopbackCandidates(offer)
	}
	pc, err := s.api.NewPeerConnection(pion.Configuration{ICEServers: s.cfg.ICEServers})
	if err != nil {
		return "", nil, fmt.Errorf("new peer connection: %w", err)
	}
	p := newPeer(s, pc, "p"+strconv.FormatUint(s.ids.Add(1), 10))
	fail := func(err error) (string, *Peer, error) {
		p.closeWith(err)
		return "", nil, err
	}
	if err := pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeOffer, SDP: offer}); err != nil {
		s.m.rejected.WithLabelValues("malformed_sdp").Inc()
		return fail(fmt.Errorf("%w: %v", ErrMalformedSDP, err))
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		s.m.rejected.WithLabelValues("unsupported_codec").Inc()
		return fail(fmt.Errorf("%w: create answer: %v", ErrUnsupportedCodec, err))
	}
	if !receivesVP8(answer.SDP) {
		s.m.rejected.WithLabelValues("unsupported_codec").Inc()
		return fail(fmt.Errorf("%w: no VP8 video section could be accepted", ErrUnsupportedCodec))
	}
	gathered := pion.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return fail(fmt.Errorf("set local description: %w", err))
	}
	gctx, cancel := context.WithTimeout(ctx, s.cfg.GatherTimeout)
	defer cancel()
	select {
	case <-gathered:
	case <-gctx.Done():
		return fail(fmt.Errorf("gather ICE candidates: %w", gctx.Err()))
	}
	if err := s.register(p); err != nil {
		return fail(err)
	}
	s.log.Debug("webrtc peer answered", "peer", p.id)
	return pc.LocalDescription().SDP, p, nil
}

// register adds a negotiated peer, which takes over its reserved slot, and
// starts its capture timer.
func (s *Server) register(p *Peer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("answer offer: server %w", ErrClosed)
	}
	select {
	case <-p.done:
		return fmt.Errorf("answer offer: %w", p.Err())
	default:
	}
	s.pending--
	s.peers[p] = struct{}{}
	s.m.active.Inc()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTimer(s.cfg.MaxCaptureTime)
		defer t.Stop()
		select {
		case <-t.C:
			p.closeWith(fmt.Errorf("%w (%v)", ErrCaptureTimeout, s.cfg.MaxCaptureTime))
		case <-p.done:
		}
	}()
	return nil
}

// spawn runs f in a goroutine that Close waits for. Unless always is set,
// it refuses (false) once the server is closing.
func (s *Server) spawn(always bool, f func()) bool {
	s.mu.Lock()
	if s.closed && !always {
		s.mu.Unlock()
		return false
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

func reasonOf(err error) string {
	if errors.Is(err, ErrUnsupportedCodec) {
		return "unsupported_codec"
	}
	return "malformed_sdp"
}

// forget removes an ended peer; false if it was never registered.
func (s *Server) forget(p *Peer) bool {
	s.mu.Lock()
	_, ok := s.peers[p]
	delete(s.peers, p)
	s.mu.Unlock()
	if ok {
		s.m.active.Dec()
	}
	return ok
}

// Close ends every peer (ErrClosed), refuses further offers, waits for
// every goroutine the server started (decoders are freed by then) and
// closes the UDP mux. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	already := s.closed
	s.closed = true
	ps := make([]*Peer, 0, len(s.peers))
	for p := range s.peers {
		ps = append(ps, p)
	}
	s.mu.Unlock()
	for _, p := range ps {
		p.Close()
	}
	s.stop()
	s.wg.Wait()
	if s.mux != nil && !already {
		if err := s.mux.Close(); err != nil {
			return fmt.Errorf("close UDP mux: %w", err)
		}
	}
	return nil
}
