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
)

func TestToError(t *testing.T) {
	until := time.Now().Add(9*time.Minute + 30*time.Second)
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		retry  bool
	}{
		{"locked", fmt.Errorf("start attempt: %w", &session.LockedError{Until: until}), http.StatusLocked, "locked", true},
		{"expired", session.ErrExpired, http.StatusGone, "expired", false},
		{"closed", session.ErrSessionClosed, http.StatusGone, "closed", false},
		{"busy", session.ErrAttemptInProgress, http.StatusConflict, "attempt_in_progress", false},
		{"consent", session.ErrConsentRequired, http.StatusForbidden, "consent_required", false},
		{"iin", fmt.Errorf("x: %w", idnum.ErrInvalidIIN), http.StatusBadRequest, "invalid_iin", false},
		{"two faces", fmt.Errorf("probe: %w", engine.ErrMultipleFaces), http.StatusUnprocessableEntity, "multiple_faces", false},
		{"public", fmt.Errorf("answer: %w", NewError(415, "unsupported_codec", "Only VP8", errors.New("h264"))), 415, "unsupported_codec", false},
		{"unknown", errors.New("disk on fire"), http.StatusInternalServerError, "internal", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := toError(tc.err)
			if e.Status != tc.status || e.Code != tc.code || e.Message == "" {
				t.Fatalf("got %d %q %q", e.Status, e.Code, e.Message)
			}
			if tc.retry && (e.RetryAfter < 560 || e.RetryAfter > 571) {
				t.Fatalf("retry after %d s, want about 570", e.RetryAfter)
			}
			if tc.code == "internal" && e.Message == tc.err.Error() {
				t.Fatal("an internal error leaks its cause to the caller")
			}
		})
	}
}
