package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"vidid/api"
	"vidid/session"
	"vidid/webrtc/offer"
)

// noSessions serves the session routes without a database; the offer
// route never reaches it (the capture fake answers).
type noSessions struct{ api.Sessions }

type captureFunc func(ctx context.Context, token, sdp string) (string, error)

func (f captureFunc) Offer(ctx context.Context, token, sdp string) (string, error) {
	return f(ctx, token, sdp)
}

// TestOfferRefusals: how POST /v1/capture/{token}/offer answers the
// capture's refusals; over the peer cap a 503 that says when to retry.
func TestOfferRefusals(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		retry  string
	}{
		{"peer cap", fmt.Errorf("admit offer: %w", offer.ErrBusy), http.StatusServiceUnavailable, "busy", "10"},
		{"running attempt", session.ErrAttemptInProgress, http.StatusConflict, "attempt_in_progress", ""},
		{"malformed", fmt.Errorf("%w: no v= line", offer.ErrMalformedSDP), http.StatusBadRequest, "malformed_sdp", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			capture := captureFunc(func(context.Context, string, string) (string, error) { return "", tc.err })
			reg := prometheus.NewRegistry()
			s, err := api.New(api.Config{PublicURL: "http://test"}, api.Deps{Sessions: noSessions{}, Capture: capture},
				nil, slog.New(slog.DiscardHandler), reg, reg)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			res, err := http.Post(srv.URL+"/v1/capture/tok/offer", "application/json", strings.NewReader(`{"type":"offer","sdp":"v=0"}`))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var out map[string]any
			if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tc.status || out["error"] != tc.code || res.Header.Get("Retry-After") != tc.retry {
				t.Fatalf("got %d %v Retry-After %q, want %d %s %q", res.StatusCode, out, res.Header.Get("Retry-After"), tc.status, tc.code, tc.retry)
			}
		})
	}
}
