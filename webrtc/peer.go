package webrtc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/pion/rtcp"
	pion "github.com/pion/webrtc/v4"

	"vidid/engine"
	"vidid/webrtc/vpx"
)

// DataChannelLabel is the label of the data channel the page opens for
// guidance (ordered, reliable).
const DataChannelLabel = "guidance"

const (
	// maxPending bounds messages queued before the data channel opens.
	maxPending = 64
	// maxMessageBytes bounds a message from the page.
	maxMessageBytes = 16 << 10
	// maxReadErrors ends a track whose reads keep failing.
	maxReadErrors = 1000
)

// Peer is one browser connection: decoded frames in (Next), JSON messages
// out (Send) and in (OnMessage).
type Peer struct {
	s  *Server
	pc *pion.PeerConnection
	id string // for logs: no applicant data
	q  *frameQueue

	mu      sync.Mutex
	track   bool // a video track is being read
	dc      *pion.DataChannel
	pending [][]byte
	onMsg   func([]byte)
	err     error

	done      chan struct{}
	closeOnce sync.Once
}

func newPeer(s *Server, pc *pion.PeerConnection, id string) *Peer {
	p := &Peer{s: s, pc: pc, id: id, done: make(chan struct{})}
	p.q = newFrameQueue(s.cfg.QueueSize, s.cfg.AnalysisFPS, func(n int) {
		s.m.dropped.WithLabelValues(dropQueue).Add(float64(n))
	})
	pc.OnTrack(func(tr *pion.TrackRemote, _ *pion.RTPReceiver) {
		if tr.Kind() != pion.RTPCodecTypeVideo {
			return
		}
		p.mu.Lock()
		first := !p.track
		p.track = true
		p.mu.Unlock()
		if !first {
			s.log.Debug("webrtc: second video track ignored", "peer", p.id)
			return
		}
		s.spawn(false, func() { p.readTrack(tr) })
	})
	pc.OnDataChannel(func(dc *pion.DataChannel) {
		if dc.Label() != DataChannelLabel {
			s.log.Debug("webrtc: unknown data channel ignored", "peer", p.id, "label", dc.Label())
			return
		}
		p.mu.Lock()
		p.dc = dc
		p.mu.Unlock()
		dc.OnOpen(p.flush)
		dc.OnMessage(func(m pion.DataChannelMessage) { p.receive(m.Data) })
	})
	pc.OnConnectionStateChange(func(st pion.PeerConnectionState) {
		switch st {
		case pion.PeerConnectionStateFailed:
			p.closeWith(ErrICEFailed)
		case pion.PeerConnectionStateDisconnected, pion.PeerConnectionStateClosed:
			p.closeWith(ErrDisconnected)
		}
	})
	return p
}

// readTrack decodes the video track until it ends.
func (p *Peer) readTrack(tr *pion.TrackRemote) {
	if c := tr.Codec(); c.MimeType != pion.MimeTypeVP8 {
		p.closeWith(fmt.Errorf("%w: track codec %s", ErrUnsupportedCodec, c.MimeType))
		return
	}
	dec, err := vpx.NewDecoder()
	if err != nil {
		p.closeWith(err)
		return
	}
	defer dec.Close()
	ssrc := uint32(tr.SSRC())
	r := newReceiver(p.s.m, dec, p.q, uint8(tr.PayloadType()), func() {
		if err := p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
			p.s.log.Debug("webrtc: send PLI", "peer", p.id, "err", err)
		}
	})
	r.start()
	failures := 0
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			select {
			case <-p.done:
				return
			default:
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) {
				return
			}
			p.s.m.invalid.Inc()
			if failures++; failures > maxReadErrors {
				p.closeWith(fmt.Errorf("read RTP: %w", err))
				return
			}
			continue
		}
		failures = 0
		r.handle(pkt)
	}
}

// Next returns the newest decoded frame not yet returned, at most
// Config.AnalysisFPS times a second; frames that arrived meanwhile are
// dropped. The frame's pixels stay valid until release is called (call it
// once; it recycles the buffer). Once the peer has ended, Next returns the
// reason (Err); on ctx's end, ctx.Err().
func (p *Peer) Next(ctx context.Context) (engine.Frame, func(), error) {
	return p.q.next(ctx, p.done, p.Err)
}

// Send delivers msg as JSON over the guidance channel, queueing it until
// the channel opens (at most 64 messages; the oldest go first).
func (p *Peer) Send(msg any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	select {
	case <-p.done:
		return fmt.Errorf("send message: peer %w", ErrClosed)
	default:
	}
	p.mu.Lock()
	dc := p.dc
	open := dc != nil && dc.ReadyState() == pion.DataChannelStateOpen && len(p.pending) == 0
	if !open {
		if len(p.pending) >= maxPending {
			p.pending = p.pending[1:]
		}
		p.pending = append(p.pending, b)
	}
	p.mu.Unlock()
	if open {
		if err := dc.SendText(string(b)); err != nil {
			return fmt.Errorf("send message: %w", err)
		}
	}
	return nil
}

func (p *Peer) flush() {
	p.mu.Lock()
	dc, pend := p.dc, p.pending
	p.pending = nil
	p.mu.Unlock()
	for _, b := range pend {
		if err := dc.SendText(string(b)); err != nil {
			p.s.log.Debug("webrtc: send queued message", "peer", p.id, "err", err)
		}
	}
}

// receive passes a page's message to the handler if it is a JSON object
// with a non-empty string "type".
func (p *Peer) receive(b []byte) {
	var head struct {
		Type string `json:"type"`
	}
	if len(b) > maxMessageBytes || json.Unmarshal(b, &head) != nil || head.Type == "" {
		p.s.m.badMsgs.Inc()
		p.s.log.Debug("webrtc: page message dropped", "peer", p.id, "bytes", len(b))
		return
	}
	p.mu.Lock()
	f := p.onMsg
	p.mu.Unlock()
	if f != nil {
		f(b)
	}
}

// OnMessage sets the handler of messages from the page: each is a JSON
// object with a string "type" (others are dropped and counted). It is
// called on the connection's goroutine, one message at a time, in order.
func (p *Peer) OnMessage(f func(msg []byte)) {
	p.mu.Lock()
	p.onMsg = f
	p.mu.Unlock()
}

// Done is closed when the peer ends.
func (p *Peer) Done() <-chan struct{} { return p.done }

// Err says why the peer ended: ErrICEFailed, ErrDisconnected,
// ErrCaptureTimeout or ErrClosed (wrapped); nil while it runs.
func (p *Peer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func endReason(err error) string {
	switch {
	case errors.Is(err, ErrClosed):
		return "closed"
	case errors.Is(err, ErrDisconnected):
		return "disconnected"
	case errors.Is(err, ErrICEFailed):
		return "ice_failed"
	case errors.Is(err, ErrCaptureTimeout):
		return "capture_timeout"
	}
	return "error"
}

func (p *Peer) closeWith(err error) {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.err = err
		p.onMsg = nil
		p.pending = nil
		p.mu.Unlock()
		close(p.done)
		p.q.close()
		if p.s.forget(p) {
			p.s.m.ended.WithLabelValues(endReason(err)).Inc()
			p.s.log.Debug("webrtc peer ended", "peer", p.id, "reason", err)
		}
		// Closing from inside a pion callback must not wait for that
		// callback: close in the background; Server.Close waits for it.
		p.s.spawn(true, func() {
			if err := p.pc.Close(); err != nil {
				p.s.log.Debug("webrtc: close peer connection", "peer", p.id, "err", err)
			}
		})
	})
}

// Close ends the peer (Err: ErrClosed) and frees its connection and decoder
// in the background; Server.Close waits for that. It is idempotent.
func (p *Peer) Close() error {
	p.closeWith(fmt.Errorf("peer %w", ErrClosed))
	return nil
}
