package webrtc

import "errors"

// Sentinel errors.
var (
	// ErrMalformedSDP: the offer is not a parsable SDP offer.
	ErrMalformedSDP = errors.New("malformed SDP offer")
	// ErrUnsupportedCodec: the offer has no video, or no VP8.
	ErrUnsupportedCodec = errors.New("only VP8 video is supported")
	// ErrICEFailed, ErrDisconnected: the connection ended.
	ErrICEFailed    = errors.New("ICE connection failed")
	ErrDisconnected = errors.New("peer disconnected")
	// ErrClosed: the server or peer was closed.
	ErrClosed = errors.New("closed")
)
