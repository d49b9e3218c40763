package webrtc

import (
	"errors"

	"vidid/webrtc/offer"
)

// Sentinel errors. Offer errors are returned by Server.Accept; the
// others say why a Peer ended (Peer.Err) and are returned by Peer.Next once
// it has.
var (
	// ErrMalformedSDP: the offer is not a parsable SDP offer (package offer).
	ErrMalformedSDP = offer.ErrMalformedSDP
	// ErrUnsupportedCodec: the offer sends no video, or no VP8 video.
	ErrUnsupportedCodec = offer.ErrUnsupportedCodec
	// ErrBusy: Config.MaxPeers peers are open or being negotiated
	// (package offer, so the HTTP layer can map it).
	ErrBusy = offer.ErrBusy
	// ErrICEFailed: ICE could not connect, or lost the connection for good.
	ErrICEFailed = errors.New("ICE connection failed")
	// ErrDisconnected: the browser went away (closed the connection, or
	// stopped answering for Config.DisconnectedTimeout).
	ErrDisconnected = errors.New("peer disconnected")
	// ErrCaptureTimeout: the peer stayed longer than Config.MaxCaptureTime.
	ErrCaptureTimeout = errors.New("capture time exceeded")
	// ErrClosed: the peer or the server was closed by the program.
	ErrClosed = errors.New("closed")
)
