// Package offer checks a browser's WebRTC offer before anything is done
// with it (before an attempt is recorded, before a peer is made): it must
// be a parsable SDP offer that sends VP8 video. It is plain Go (pion's SDP
// parser), so the HTTP layer can map its errors, and ErrBusy (the peer
// cap), without linking the media stack.
package offer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pion/sdp/v3"
)

// Sentinel errors.
var (
	// ErrMalformedSDP: the offer is not a parsable SDP offer.
	ErrMalformedSDP = errors.New("malformed SDP offer")
	// ErrUnsupportedCodec: the offer sends no video, or no VP8 video.
	ErrUnsupportedCodec = errors.New("only VP8 video is supported")
	// ErrBusy: the server already holds as many WebRTC peers as it may
	// (webrtc.Config.MaxPeers); the offer was refused before anything was
	// recorded, and may be made again later (BusyRetryAfter).
	ErrBusy = errors.New("too many WebRTC peers")
)

// BusyRetryAfter is how long a refused browser is told to wait (the
// Retry-After of a 503): about the length of a short capture, when a
// running one is likely to have ended.
const BusyRetryAfter = 10 * time.Second

// MaxBytes bounds an offer's size (a browser's offer is 3–6 KB).
const MaxBytes = 64 << 10

// Check parses an SDP offer and checks that it sends VP8 video. Errors
// wrap ErrMalformedSDP or ErrUnsupportedCodec; the latter names what was
// offered instead ("only VP8 video is supported; offered: H264, AV1"), for
// the applicant's support staff.
func Check(raw string) error {
	if len(raw) == 0 || len(raw) > MaxBytes {
		return fmt.Errorf("%w: %d bytes (at most %d)", ErrMalformedSDP, len(raw), MaxBytes)
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(raw); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedSDP, err)
	}
	var offered []string
	video, sending := false, false
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media != "video" || m.MediaName.Port.Value == 0 {
			continue // not video, or a rejected section
		}
		video = true
		if !sends(m) {
			continue
		}
		sending = true
		for _, a := range m.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			// "96 VP8/90000", for a payload type the m-line lists
			f := strings.Fields(a.Value)
			if len(f) < 2 || !slices.Contains(m.MediaName.Formats, f[0]) {
				continue
			}
			name := strings.ToUpper(strings.SplitN(f[1], "/", 2)[0])
			if name == "VP8" {
				return nil
			}
			if name != "RTX" && name != "RED" && name != "ULPFEC" && name != "FLEXFEC-03" {
				offered = append(offered, name)
			}
		}
	}
	switch {
	case !video:
		return fmt.Errorf("%w: the offer has no video", ErrUnsupportedCodec)
	case !sending:
		return fmt.Errorf("%w: the offer sends no video", ErrUnsupportedCodec)
	case len(offered) == 0:
		return fmt.Errorf("%w: the offer names no video codec", ErrUnsupportedCodec)
	}
	return fmt.Errorf("%w; offered: %s", ErrUnsupportedCodec, strings.Join(dedupe(offered), ", "))
}

// sends reports whether a media section's direction lets the browser send.
func sends(m *sdp.MediaDescription) bool {
	for _, a := range m.Attributes {
		switch a.Key {
		case "recvonly", "inactive":
			return false
		case "sendonly", "sendrecv":
			return true
		}
	}
	return true // sendrecv is the default
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
