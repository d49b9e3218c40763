package webrtc

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	pion "github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures the server. Zero values take the documented defaults.
type Config struct {
	// ICEServers are STUN/TURN URLs used for server-reflexive and relay
	// candidates.
	ICEServers []pion.ICEServer
	// UDPPortMin, UDPPortMax confine ICE to a port range (0 = any).
	UDPPortMin, UDPPortMax uint16
	// UDPMuxPort serves all peers on one UDP port (0 = off).
	UDPMuxPort int
	// LoopbackOnly gathers only 127.0.0.1 candidates (tests, local demo).
	LoopbackOnly bool
	// AnalysisFPS is the most frames per second handed to the analysis (8).
	AnalysisFPS float64
	// QueueSize is the frame queue's length; older frames are dropped (2).
	QueueSize int
	// MaxCaptureTime ends a peer that stays longer (2 min).
	MaxCaptureTime time.Duration
	// GatherTimeout bounds ICE gathering before the answer (5 s).
	GatherTimeout time.Duration
}

func (c *Config) fill() {
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
}

// Server answers offers and owns the peers.
type Server struct {
	cfg   Config
	api   *pion.API
	log   *slog.Logger
	m     *metrics
	mux   ice.UDPMux
	mu    sync.Mutex
	peers map[*Peer]struct{}
	wg    sync.WaitGroup
}

// NewServer builds the pion API: VP8 only, NACK and RTCP reports, and the
// network settings of cfg.
func NewServer(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Server, error) {
	cfg.fill()
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
		return nil, err
	}
	if err := pion.ConfigureRTCPReports(ir); err != nil {
		return nil, err
	}
	se := pion.SettingEngine{}
	s := &Server{cfg: cfg, log: log, m: m, peers: map[*Peer]struct{}{}}
	if cfg.LoopbackOnly {
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetNetworkTypes([]pion.NetworkType{pion.NetworkTypeUDP4})
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	}
	if cfg.UDPPortMin != 0 || cfg.UDPPortMax != 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.UDPPortMin, cfg.UDPPortMax); err != nil {
			return nil, fmt.Errorf("udp port range: %w", err)
		}
	}
	if cfg.UDPMuxPort != 0 {
		host := "0.0.0.0"
		if cfg.LoopbackOnly {
			host = "127.0.0.1"
		}
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(host), Port: cfg.UDPMuxPort})
		if err != nil {
			return nil, fmt.Errorf("udp mux: %w", err)
		}
		s.mux = ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn})
		se.SetICEUDPMux(s.mux)
	}
	s.api = pion.NewAPI(pion.WithMediaEngine(me), pion.WithInterceptorRegistry(ir), pion.WithSettingEngine(se))
	return s, nil
}

// Accept answers an offer: the returned peer delivers decoded frames and
// carries guidance messages until it is closed or the connection ends.
func (s *Server) Accept(ctx context.Context, offer string) (string, *Peer, error) {
	if err := CheckOffer(offer); err != nil {
		s.m.rejected.WithLabelValues(reasonOf(err)).Inc()
		return "", nil, err
	}
	pc, err := s.api.NewPeerConnection(pion.Configuration{ICEServers: s.cfg.ICEServers})
	if err != nil {
		return "", nil, fmt.Errorf("new peer connection: %w", err)
	}
	p := newPeer(s, pc)
	if err := pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeOffer, SDP: offer}); err != nil {
		p.Close()
		s.m.rejected.WithLabelValues("malformed_sdp").Inc()
		return "", nil, fmt.Errorf("%w: %v", ErrMalformedSDP, err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		p.Close()
		return "", nil, fmt.Errorf("%w: create answer: %v", ErrUnsupportedCodec, err)
	}
	gathered := pion.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		p.Close()
		return "", nil, fmt.Errorf("set local description: %w", err)
	}
	gctx, cancel := context.WithTimeout(ctx, s.cfg.GatherTimeout)
	defer cancel()
	select {
	case <-gathered:
	case <-gctx.Done():
		p.Close()
		return "", nil, fmt.Errorf("gather ICE candidates: %w", gctx.Err())
	}
	s.mu.Lock()
	s.peers[p] = struct{}{}
	s.mu.Unlock()
	s.m.active.Inc()
	p.start()
	return pc.LocalDescription().SDP, p, nil
}

func reasonOf(err error) string {
	switch {
	case errorsIs(err, ErrUnsupportedCodec):
		return "unsupported_codec"
	default:
		return "malformed_sdp"
	}
}

func (s *Server) forget(p *Peer) {
	s.mu.Lock()
	_, ok := s.peers[p]
	delete(s.peers, p)
	s.mu.Unlock()
	if ok {
		s.m.active.Dec()
	}
}

// Close closes every peer and the UDP mux, and waits for their goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	ps := make([]*Peer, 0, len(s.peers))
	for p := range s.peers {
		ps = append(ps, p)
	}
	s.mu.Unlock()
	for _, p := range ps {
		p.Close()
	}
	s.wg.Wait()
	if s.mux != nil {
		return s.mux.Close()
	}
	return nil
}
