package webrtc

import (
	"errors"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"vidid/engine"
	"vidid/webrtc/vpx"
)

const (
	// pliInterval is the least time between two keyframe requests while
	// waiting for a keyframe.
	pliInterval = 300 * time.Millisecond
	// maxFramePackets is how many packets the samplebuilder holds while a
	// frame is incomplete: more than a 1080p keyframe at a 1200-byte MTU.
	// (The wait is bounded in time too, by one second of RTP timestamps.)
	maxFramePackets = 512
)

// receiver turns one track's RTP packets into decoded frames: packets are
// checked and reassembled into VP8 frames (samplebuilder), frames are
// dropped until a keyframe, decoded with libvpx and pushed to the queue.
// A lost frame (a gap in the VP8 picture IDs), or one libvpx refuses, means
// the frames after it cannot be decoded cleanly: the receiver asks for a
// keyframe (RTCP PLI) and waits for it.
type receiver struct {
	m    *metrics
	dec  *vpx.Decoder
	q    *frameQueue
	pli  func() // sends a keyframe request
	pt   uint8  // the negotiated payload type
	sb   *samplebuilder.SampleBuilder
	desc codecs.VP8Packet

	now     func() time.Time
	haveKey bool // decoding since a keyframe, nothing lost since
	lastPLI time.Time
	lastPID int // picture ID of the last frame decoded, -1 if none
}

// frameMeta is what the samplebuilder keeps of a frame's first packet.
type frameMeta struct{ pictureID int } // -1: the sender sends none

func newReceiver(m *metrics, dec *vpx.Decoder, q *frameQueue, pt uint8, pli func()) *receiver {
	r := &receiver{m: m, dec: dec, q: q, pli: pli, pt: pt, lastPID: -1, now: time.Now}
	r.sb = samplebuilder.New(maxFramePackets, &codecs.VP8Packet{}, 90000,
		samplebuilder.WithMaxTimeDelay(time.Second),
		samplebuilder.WithPacketHeadHandler(func(head any) any {
			if p, ok := head.(*codecs.VP8Packet); ok && p.I == 1 {
				return frameMeta{pictureID: int(p.PictureID)}
			}
			return frameMeta{pictureID: -1}
		}))
	return r
}

// start asks for a keyframe as the track begins.
func (r *receiver) start() { r.requestKeyframe() }

// requestKeyframe sends a PLI unless one went out less than pliInterval ago
// (a burst of losses or garbage must not become a burst of requests).
func (r *receiver) requestKeyframe() {
	now := r.now()
	if !r.lastPLI.IsZero() && now.Sub(r.lastPLI) < pliInterval {
		return
	}
	r.lastPLI = now
	r.m.keyframes.Inc()
	r.pli()
}

// handle takes one RTP packet. Packets that are not VP8 RTP are counted and
// dropped; they never stop the stream.
func (r *receiver) handle(pkt *rtp.Packet) {
	switch {
	case pkt.PayloadType != r.pt:
		r.m.invalid.Inc()
		return
	case len(pkt.Payload) == 0:
		if !pkt.Padding {
			r.m.invalid.Inc()
		}
		// Padding-only packets (bandwidth probes) carry no video. Dropping
		// them leaves a sequence gap the samplebuilder skips over; losses
		// are detected from picture IDs, so this costs no keyframe.
		return
	}
	if _, err := r.desc.Unmarshal(pkt.Payload); err != nil {
		r.m.invalid.Inc()
		return
	}
	r.sb.Push(pkt)
	for s := r.sb.Pop(); s != nil; s = r.sb.Pop() {
		r.frame(s)
	}
}

// isKeyframe reports whether a VP8 frame is a keyframe (RFC 6386 9.1: the
// inverted key frame bit of the frame tag).
func isKeyframe(b []byte) bool { return len(b) > 2 && b[0]&0x01 == 0 }

// follows reports whether picture ID pid directly follows prev: 15-bit IDs
// wrap at 0x8000, 7-bit ones at 0x80.
func follows(prev, pid int) bool {
	return pid == (prev+1)&0x7fff || prev == 0x7f && pid == 0
}

func (r *receiver) frame(s *media.Sample) {
	meta, _ := s.Metadata.(frameMeta)
	key := isKeyframe(s.Data)
	if r.haveKey && !key {
		lost := s.PrevDroppedPackets > 0 // senders without picture IDs
		if meta.pictureID >= 0 && r.lastPID >= 0 {
			lost = !follows(r.lastPID, meta.pictureID)
		}
		if lost {
			r.haveKey = false
			r.requestKeyframe()
		}
	}
	if !r.haveKey && !key {
		r.m.dropped.WithLabelValues(dropBeforeKeyframe).Inc()
		r.requestKeyframe()
		return
	}
	buf := r.q.buffer()
	t := time.Now()
	f, err := r.dec.DecodeInto(buf, s.Data)
	r.m.decode.Observe(time.Since(t).Seconds())
	switch {
	case errors.Is(err, vpx.ErrNoPicture): // a hidden frame: nothing to show
		r.q.recycle(buf)
		r.haveKey, r.lastPID = true, meta.pictureID
		return
	case err != nil:
		r.q.recycle(buf)
		r.m.dropped.WithLabelValues(dropDecodeError).Inc()
		r.haveKey = false
		r.requestKeyframe()
		return
	}
	r.haveKey, r.lastPID = true, meta.pictureID
	r.m.decoded.Inc()
	r.q.push(engine.Frame{Width: f.Width, Height: f.Height, Pix: f.Pix, RTPTimestamp: s.PacketTimestamp, HasRTP: true})
}
