package webrtc

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/pion/sdp/v3"
)

// MaxOfferBytes bounds an offer's size (a browser's offer is 3–6 KB).
const MaxOfferBytes = 64 << 10

// CheckOffer parses an SDP offer and checks that it sends VP8 video. Errors
// wrap ErrMalformedSDP or ErrUnsupportedCodec; the latter names what was
// offered instead ("only VP8 video is supported; offered: H264, AV1"), for
// the applicant's support staff.
func CheckOffer(raw string) error {
	if len(raw) == 0 || len(raw) > MaxOfferBytes {
		return fmt.Errorf("%w: %d bytes (at most %d)", ErrMalformedSDP, len(raw), MaxOfferBytes)
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

// keepLoopbackCandidates drops every ICE candidate line of an SDP whose
// address is not 127.0.0.1 (host LAN addresses, mDNS names, IPv6): with
// LoopbackOnly the server cannot reach them, and pairing them only slows
// ICE down.
func keepLoopbackCandidates(raw string) string {
	lines := strings.SplitAfter(raw, "\n")
	out := lines[:0]
	for _, l := range lines {
		if v, ok := strings.CutPrefix(strings.TrimRight(l, "\r\n"), "a=candidate:"); ok {
			// foundation component transport priority address port typ …
			f := strings.Fields(v)
			if len(f) < 6 || !net.ParseIP(f[4]).Equal(net.IPv4(127, 0, 0, 1)) {
				continue
			}
		}
		out = append(out, l)
	}
	return strings.Join(out, "")
}

// receivesVP8 reports whether an answer accepts a video section with VP8
// (pion rejects a section it cannot use by giving it port 0).
func receivesVP8(answer string) bool {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(answer); err != nil {
		return false
	}
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media != "video" || m.MediaName.Port.Value == 0 {
			continue
		}
		for _, a := range m.Attributes {
			if a.Key == "rtpmap" && strings.Contains(strings.ToUpper(a.Value), " VP8/") {
				return true
			}
		}
	}
	return false
}
