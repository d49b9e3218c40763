package offer

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	const head = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	video := func(port string, codecs ...string) string {
		var pts, maps []string
		for i, c := range codecs {
			pt := strconv.Itoa(96 + i)
			pts = append(pts, pt)
			maps = append(maps, "a=rtpmap:"+pt+" "+c+"/90000\r\n")
		}
		return "m=video " + port + " UDP/TLS/RTP/SAVPF " + strings.Join(pts, " ") + "\r\nc=IN IP4 0.0.0.0\r\n" + strings.Join(maps, "")
	}
	tests := []struct {
		name  string
		offer string
		want  error
		msg   string
	}{
		{"VP8", head + video("9", "VP8"), nil, ""},
		{"lower-case vp8 after H264", head + video("9", "H264", "vp8"), nil, ""},
		{"VP8 in the second video section", head + video("9", "H264") + video("9", "VP8"), nil, ""},
		{"VP8 only in a rejected section", head + video("0", "VP8") + video("9", "H264"), ErrUnsupportedCodec, "offered: H264"},
		{"several others", head + video("9", "H264", "VP9", "rtx", "AV1"), ErrUnsupportedCodec, "offered: H264, VP9, AV1"},
		{"only retransmission", head + video("9", "rtx"), ErrUnsupportedCodec, "names no video codec"},
		{"VP8 map for an unlisted payload type", head + "m=video 9 RTP/AVP 100\r\na=rtpmap:96 VP8/90000\r\n", ErrUnsupportedCodec, "names no video codec"},
		{"inactive", head + video("9", "VP8") + "a=inactive\r\n", ErrUnsupportedCodec, "sends no video"},
		{"no media", head, ErrUnsupportedCodec, "no video"},
		{"garbage", "v=0\r\nthis is not SDP\r\n", ErrMalformedSDP, ""},
		{"binary", "\x00\x01\x02", ErrMalformedSDP, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.offer)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Check: %v, want %v mentioning %q", err, tc.want, tc.msg)
			}
		})
	}
}
