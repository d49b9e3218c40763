package webrtc

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	sdpoffer "vidid/webrtc/offer"
)

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
		err := sdpoffer.Check(s)
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
