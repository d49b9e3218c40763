package webrtc

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCheckOffer(t *testing.T) {
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
			err := CheckOffer(tc.offer)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("CheckOffer: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("CheckOffer: %v, want %v mentioning %q", err, tc.want, tc.msg)
			}
		})
	}
}

func TestKeepLoopbackCandidates(t *testing.T) {
	in := "v=0\r\n" +
		"a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\n" +
		"a=candidate:2 1 udp 2130706431 192.168.1.20 50001 typ host\r\n" +
		"a=candidate:3 1 udp 2130706431 2b1f3c4d-aaaa.local 50002 typ host\r\n" +
		"a=candidate:4 1 udp 2130706431 ::1 50003 typ host\r\n" +
		"a=candidate:5 broken\r\n" +
		"a=end-of-candidates\r\n"
	want := "v=0\r\n" +
		"a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\n" +
		"a=end-of-candidates\r\n"
	if got := keepLoopbackCandidates(in); got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

// FuzzCheckOffer: any text gives nil or one of the two offer errors, and
// the loopback filter keeps only loopback candidates, without panicking.
func FuzzCheckOffer(f *testing.F) {
	f.Add(crlf(h264Offer))
	f.Add(crlf(audioOffer))
	f.Add("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\na=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		err := CheckOffer(s)
		if err != nil && !errors.Is(err, ErrMalformedSDP) && !errors.Is(err, ErrUnsupportedCodec) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		for _, l := range strings.Split(keepLoopbackCandidates(s), "\n") {
			if v, ok := strings.CutPrefix(l, "a=candidate:"); ok {
				if f := strings.Fields(v); len(f) < 6 || !net.ParseIP(f[4]).Equal(net.IPv4(127, 0, 0, 1)) {
					t.Fatalf("kept %q", l)
				}
			}
		}
	})
}

// FuzzAnswer runs whole negotiations (CheckOffer, then pion) on mutated
// browser offers: every outcome is an answer or an error, never a panic,
// and the server stays usable.
func FuzzAnswer(f *testing.F) {
	s, err := NewServer(Config{LoopbackOnly: true, GatherTimeout: time.Second}, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	f.Add(newClient(f, false).offer(f))
	f.Add(crlf(h264Offer))
	f.Fuzz(func(t *testing.T, offer string) {
		answer, p, err := s.Accept(t.Context(), offer)
		if err != nil {
			if p != nil || answer != "" {
				t.Fatalf("error %v with an answer or a peer", err)
			}
			return
		}
		if !strings.Contains(answer, "VP8/90000") {
			t.Fatalf("answer without VP8:\n%s", answer)
		}
		_ = p.Close()
	})
}
