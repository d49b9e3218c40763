package webrtc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	pion "github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"vidid/engine"
	"vidid/webrtc/vpx"
)

// DataChannelLabel is the label of the browser's guidance channel.
const DataChannelLabel = "guidance"

// maxPending bounds messages queued before the data channel opens.
const maxPending = 64

// Peer is one browser connection: decoded frames in, JSON messages out.
type Peer struct {
	s  *Server
	pc *pion.PeerConnection

	mu      sync.Mutex
	queue   []engine.Frame
	seq     uint64
	lastOut time.Time
	dc      *pion.DataChannel
	pending [][]byte
	onMsg   func([]byte)
	err     error

	notify    chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newPeer(s *Server, pc *pion.PeerConnection) *Peer {
	p := &Peer{s: s, pc: pc, notify: make(chan struct{}, 1), done: make(chan struct{})}
	pc.OnTrack(func(tr *pion.TrackRemote, _ *pion.RTPReceiver) {
		if tr.Kind() != pion.RTPCodecTypeVideo {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			p.readTrack(tr)
		}()
	})
	pc.OnDataChannel(func(dc *pion.DataChannel) {
		if dc.Label() != DataChannelLabel {
			return
		}
		p.mu.Lock()
		p.dc = dc
		p.mu.Unlock()
		dc.OnOpen(p.flush)
		dc.OnMessage(func(m pion.DataChannelMessage) {
			p.mu.Lock()
			f := p.onMsg
			p.mu.Unlock()
			if f != nil {
				f(m.Data)
			}
		})
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

func (p *Peer) start() {
	p.s.wg.Add(1)
	go func() {
		defer p.s.wg.Done()
		t := time.NewTimer(p.s.cfg.MaxCaptureTime)
		defer t.Stop()
		select {
		case <-t.C:
			p.closeWith(fmt.Errorf("%w: capture longer than %v", ErrClosed, p.s.cfg.MaxCaptureTime))
		case <-p.done:
		}
	}()
}

// isKeyframe reports whether a VP8 frame is a keyframe (RFC 6386 9.1: the
// inverted "show key frame" bit of the frame tag).
func isKeyframe(b []byte) bool { return len(b) > 0 && b[0]&0x01 == 0 }

func (p *Peer) pli(ssrc pion.SSRC) {
	_ = p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(ssrc)}})
}

func (p *Peer) readTrack(tr *pion.TrackRemote) {
	m := p.s.m
	if tr.Codec().MimeType != pion.MimeTypeVP8 {
		p.closeWith(fmt.Errorf("%w: track codec %s", ErrUnsupportedCodec, tr.Codec().MimeType))
		return
	}
	dec, err := vpx.NewDecoder()
	if err != nil {
		p.closeWith(err)
		return
	}
	defer dec.Close()
	sb := samplebuilder.New(128, &codecs.VP8Packet{}, 90000, samplebuilder.WithMaxTimeDelay(time.Second))
	haveKey := false
	p.pli(tr.SSRC())
	lastPLI := time.Now()
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
			m.invalid.Inc()
			continue
		}
		sb.Push(pkt)
		for s := sb.Pop(); s != nil; s = sb.Pop() {
			if !haveKey {
				if !isKeyframe(s.Data) {
					m.dropped.WithLabelValues("before_keyframe").Inc()
					if time.Since(lastPLI) > 300*time.Millisecond {
						p.pli(tr.SSRC())
						lastPLI = time.Now()
					}
					continue
				}
				haveKey = true
			}
			t := time.Now()
			f, err := dec.Decode(s.Data)
			m.decode.Observe(time.Since(t).Seconds())
			if err != nil {
				m.dropped.WithLabelValues("decode_error").Inc()
				haveKey = false
				p.pli(tr.SSRC())
				lastPLI = time.Now()
				continue
			}
			m.decoded.Inc()
			p.push(f)
		}
	}
}

func (p *Peer) push(f engine.Frame) {
	p.mu.Lock()
	p.seq++
	f.Seq, f.Time = p.seq, time.Now()
	p.queue = append(p.queue, f)
	if n := len(p.queue) - p.s.cfg.QueueSize; n > 0 {
		p.queue = p.queue[n:]
		p.s.m.dropped.WithLabelValues("queue").Add(float64(n))
	}
	p.mu.Unlock()
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// Next returns the newest frame not yet returned, at most AnalysisFPS per
// second; older queued frames are dropped. release is a no-op kept for the
// frame-source contract (frames are not pooled yet).
func (p *Peer) Next(ctx context.Context) (engine.Frame, func(), error) {
	interval := time.Duration(float64(time.Second) / p.s.cfg.AnalysisFPS)
	for {
		p.mu.Lock()
		wait := interval - time.Since(p.lastOut)
		if len(p.queue) > 0 && wait <= 0 {
			f := p.queue[len(p.queue)-1]
			if n := len(p.queue) - 1; n > 0 {
				p.s.m.dropped.WithLabelValues("queue").Add(float64(n))
			}
			p.queue = p.queue[:0]
			p.lastOut = time.Now()
			p.mu.Unlock()
			return f, func() {}, nil
		}
		p.mu.Unlock()
		var timer <-chan time.Time
		if wait > 0 {
			timer = time.After(wait)
		}
		select {
		case <-ctx.Done():
			return engine.Frame{}, nil, ctx.Err()
		case <-p.done:
			return engine.Frame{}, nil, p.Err()
		case <-p.notify:
		case <-timer:
		}
	}
}

// Send delivers msg as JSON over the guidance channel, queueing it until
// the channel opens.
func (p *Peer) Send(msg any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
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
		return dc.SendText(string(b))
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
			p.s.log.Debug("send queued guidance", "err", err)
		}
	}
}

// OnMessage sets the handler of messages from the page.
func (p *Peer) OnMessage(f func([]byte)) {
	p.mu.Lock()
	p.onMsg = f
	p.mu.Unlock()
}

// Done is closed when the peer ends.
func (p *Peer) Done() <-chan struct{} { return p.done }

// Err says why the peer ended (nil while it runs).
func (p *Peer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *Peer) closeWith(err error) {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
		// Closing from inside a pion callback must not wait for that
		// callback: close in the background, tracked by the server.
		p.s.wg.Add(1)
		go func() {
			defer p.s.wg.Done()
			_ = p.pc.Close()
		}()
		p.s.forget(p)
	})
}

// Close ends the peer. It is idempotent.
func (p *Peer) Close() error {
	p.closeWith(ErrClosed)
	return nil
}
