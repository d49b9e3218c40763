package api

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"vidid/engine"
	"vidid/idnum"
	"vidid/session"
	"vidid/webrtc/offer"
)

func TestToError(t *testing.T) {
	until := time.Now().Add(9*time.Minute + 30*time.Second)
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		retry  int // seconds, about; 0: none
	}{
		{"locked", fmt.Errorf("start attempt: %w", &session.LockedError{Until: until}), http.StatusLocked, "locked", 570},
		{"expired", session.ErrExpired, http.StatusGone, "expired", 0},
		{"closed", session.ErrSessionClosed, http.StatusGone, "closed", 0},
		{"busy", session.ErrAttemptInProgress, http.StatusConflict, "attempt_in_progress", 0},
		{"consent", session.ErrConsentRequired, http.StatusForbidden, "consent_required", 0},
		{"iin", fmt.Errorf("x: %w", idnum.ErrInvalidIIN), http.StatusBadRequest, "invalid_iin", 0},
		{"two faces", fmt.Errorf("probe: %w", engine.ErrMultipleFaces), http.StatusUnprocessableEntity, "multiple_faces", 0},
		{"public", fmt.Errorf("answer: %w", NewError(415, "unsupported_codec", "Only VP8", errors.New("h264"))), 415, "unsupported_codec", 0},
		{"peer cap", fmt.Errorf("admit offer: %w", fmt.Errorf("reserve peer: %w (40)", offer.ErrBusy)), http.StatusServiceUnavailable, "busy", 10},
		{"unknown", errors.New("disk on fire"), http.StatusInternalServerError, "internal", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := toError(tc.err)
			if e.Status != tc.status || e.Code != tc.code || e.Message == "" {
				t.Fatalf("got %d %q %q", e.Status, e.Code, e.Message)
			}
			if e.RetryAfter < tc.retry-10 || e.RetryAfter > tc.retry+1 || tc.retry == 0 && e.RetryAfter != 0 {
				t.Fatalf("retry after %d s, want about %d", e.RetryAfter, tc.retry)
			}
			if tc.code == "internal" && e.Message == tc.err.Error() {
				t.Fatal("an internal error leaks its cause to the caller")
			}
		})
	}
}
