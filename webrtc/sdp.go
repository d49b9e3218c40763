package webrtc

import (
	"net"
	"strings"

	"github.com/pion/sdp/v3"
)

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
