//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"vidid/register"
)

const h264Offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:102 H264/90000\r\na=mid:0\r\na=sendonly\r\n"

// TestOfferErrors: bad offers get clear errors over HTTP, cost the
// applicant no attempt, and the server keeps serving.
func TestOfferErrors(t *testing.T) {
	sys := start(t)
	capURL := sys.session(t, register.DemoSubjectIIN("s01-apfol"))
	token := capURL[strings.LastIndex(capURL, "/")+1:]
	post := func(path, body string) (int, map[string]any) {
		resp, err := http.Post(sys.base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if st, out := post("/v1/capture/"+token+"/offer", `{"type":"offer","sdp":"v=0"}`); st != http.StatusForbidden || out["error"] != "consent_required" {
		t.Fatalf("offer before consent: %d %v", st, out)
	}
	if st, _ := post("/v1/capture/"+token+"/consent", `{"accepted":true,"lang":"ru"}`); st != http.StatusNoContent {
		t.Fatalf("consent: %d", st)
	}
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"not JSON", `garbage`, 400, "bad_offer"},
		{"malformed SDP", `{"type":"offer","sdp":"this is not SDP"}`, 400, "malformed_sdp"},
		{"H264 only", `{"type":"offer","sdp":` + jsonString(h264Offer) + `}`, 415, "unsupported_codec"},
	} {
		st, out := post("/v1/capture/"+token+"/offer", tc.body)
		if st != tc.status || out["error"] != tc.code || out["message"] == "" {
			t.Errorf("%s: %d %v, want %d %s", tc.name, st, out, tc.status, tc.code)
		}
		if tc.code == "unsupported_codec" && !strings.Contains(fmt.Sprint(out["message"]), "offered: H264") {
			t.Errorf("%s: the message does not say what was offered: %v", tc.name, out["message"])
		}
	}
	// Refused before an attempt was recorded: no attempt rows, no counted failures.
	if _, _, n := lastAttempt(t, sys.db); n != 0 {
		t.Fatalf("bad offers wrote %d attempt rows, want none", n)
	}
	resp, err := http.Get(sys.base + "/v1/capture/" + token + "/status")
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if st["state"] != "open" || st["attempts_left"] != float64(10) {
		t.Fatalf("after bad offers the session is %v, want open with 10 attempts left", st)
	}
	if r, err := http.Get(sys.base + "/readyz"); err != nil || r.StatusCode != 200 {
		t.Fatalf("server not ready after bad offers: %v", err)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
