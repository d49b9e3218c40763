package api_test

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"vidid/api"
)

// With an https public URL every response over TLS carries HSTS; with a
// loopback http one (make run, tests) none.
func TestHSTS(t *testing.T) {
	for _, tc := range []struct {
		public string
		want   bool
	}{{"https://vidid.egov.kz", true}, {"http://127.0.0.1:8080", false}} {
		reg := prometheus.NewRegistry()
		s, err := api.New(api.Config{PublicURL: tc.public}, api.Deps{}, nil, slog.New(slog.DiscardHandler), reg, reg)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewTLSServer(s.Handler())
		resp, err := srv.Client().Get(srv.URL + "/healthz")
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header.Get("Strict-Transport-Security")
		if got := strings.Contains(h, "max-age=31536000"); got != tc.want {
			t.Errorf("%s: Strict-Transport-Security %q, want present=%v", tc.public, h, tc.want)
		}
	}
}
