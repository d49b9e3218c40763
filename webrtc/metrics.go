package webrtc

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

var errorsIs = errors.Is

type metrics struct {
	decoded  prometheus.Counter
	dropped  *prometheus.CounterVec
	active   prometheus.Gauge
	invalid  prometheus.Counter
	decode   prometheus.Histogram
	rejected *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		decoded: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "vidid", Subsystem: "webrtc", Name: "frames_decoded_total",
			Help: "VP8 frames decoded."}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "vidid", Subsystem: "webrtc", Name: "frames_dropped_total",
			Help: "Frames not analysed, by reason (queue: a newer frame replaced it; decode_error; before_keyframe)."}, []string{"reason"}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "vidid", Subsystem: "webrtc", Name: "sessions_active",
			Help: "WebRTC peers connected now."}),
		invalid: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "vidid", Subsystem: "webrtc", Name: "rtp_invalid_total",
			Help: "RTP packets that could not be read or depacketised."}),
		decode: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "vidid", Subsystem: "webrtc", Name: "decode_seconds",
			Help: "Time to decode one VP8 frame to BGR.", Buckets: []float64{.0005, .001, .002, .003, .005, .008, .013, .02, .05}}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "vidid", Subsystem: "webrtc", Name: "offers_rejected_total",
			Help: "Offers refused, by reason."}, []string{"reason"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.decoded, m.dropped, m.active, m.invalid, m.decode, m.rejected} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
