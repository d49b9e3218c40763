package webrtc

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Frame drop reasons (the label values of frames_dropped_total).
const (
	dropQueue          = "queue"           // a newer frame replaced it before analysis took it
	dropDecodeError    = "decode_error"    // libvpx refused it
	dropBeforeKeyframe = "before_keyframe" // no keyframe yet, or a reference frame was lost
)

// reasonBusy is the offers_rejected_total reason of an offer refused by
// the peer cap (Config.MaxPeers).
const reasonBusy = "busy"

type metrics struct {
	decoded   prometheus.Counter
	dropped   *prometheus.CounterVec
	active    prometheus.Gauge
	maxPeers  prometheus.Gauge
	invalid   prometheus.Counter
	decode    prometheus.Histogram
	rejected  *prometheus.CounterVec
	keyframes prometheus.Counter
	badMsgs   prometheus.Counter
	ended     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: "vidid", Subsystem: "webrtc", Name: name, Help: help}
	}
	m := &metrics{
		decoded: prometheus.NewCounter(opts("frames_decoded_total", "VP8 frames decoded.")),
		dropped: prometheus.NewCounterVec(opts("frames_dropped_total",
			"Frames not analysed, by reason (queue: a newer frame replaced it; decode_error; before_keyframe: waiting for a keyframe)."),
			[]string{"reason"}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "vidid", Subsystem: "webrtc", Name: "sessions_active",
			Help: "WebRTC peers open now."}),
		maxPeers: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "vidid", Subsystem: "webrtc", Name: "sessions_max",
			Help: "The most WebRTC peers open or being negotiated at once (Config.MaxPeers); beyond it offers are refused as busy."}),
		invalid: prometheus.NewCounter(opts("rtp_invalid_total", "RTP packets dropped as unreadable (bad header or VP8 payload descriptor).")),
		decode: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "vidid", Subsystem: "webrtc", Name: "decode_seconds",
			Help: "Time to decode one VP8 frame to BGR.", Buckets: []float64{.0005, .001, .002, .003, .005, .008, .013, .02, .05}}),
		rejected: prometheus.NewCounterVec(opts("offers_rejected_total", "Offers refused, by reason (malformed_sdp, unsupported_codec, busy: over the peer cap)."),
			[]string{"reason"}),
		keyframes: prometheus.NewCounter(opts("keyframe_requests_total", "Keyframe requests (RTCP PLI) sent to browsers.")),
		badMsgs:   prometheus.NewCounter(opts("messages_invalid_total", "Data channel messages from pages dropped as not a JSON object with a type.")),
		ended: prometheus.NewCounterVec(opts("sessions_ended_total",
			"Peers ended, by reason (closed, disconnected, ice_failed, capture_timeout, error)."), []string{"reason"}),
	}
	for _, r := range []string{dropQueue, dropDecodeError, dropBeforeKeyframe} {
		m.dropped.WithLabelValues(r)
	}
	m.rejected.WithLabelValues(reasonBusy)
	if reg != nil {
		for _, c := range []prometheus.Collector{m.decoded, m.dropped, m.active, m.maxPeers, m.invalid, m.decode, m.rejected, m.keyframes, m.badMsgs, m.ended} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register webrtc metrics: %w", err)
			}
		}
	}
	return m, nil
}
