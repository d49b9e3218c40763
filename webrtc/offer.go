package webrtc

import (
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
)

// MaxOfferBytes bounds an offer's size.
const MaxOfferBytes = 64 << 10

// CheckOffer parses an SDP offer and checks that it offers VP8 video. The
// error names what was offered instead, for the applicant's support staff.
func CheckOffer(raw string) error {
	if len(raw) == 0 || len(raw) > MaxOfferBytes {
		return fmt.Errorf("%w: %d bytes", ErrMalformedSDP, len(raw))
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(raw); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedSDP, err)
	}
	var offered []string
	video := false
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media != "video" {
			continue
		}
		video = true
		for _, a := range m.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			// "96 VP8/90000"
			f := strings.Fields(a.Value)
			if len(f) < 2 {
				continue
			}
			name := strings.ToUpper(strings.SplitN(f[1], "/", 2)[0])
			if name == "VP8" {
				return nil
			}
			offered = append(offered, name)
		}
	}
	if !video {
		return fmt.Errorf("%w: the offer has no video", ErrUnsupportedCodec)
	}
	return fmt.Errorf("%w; offered: %s", ErrUnsupportedCodec, strings.Join(dedupe(offered), ", "))
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
