package session_test

import (
	"testing"

	"vidid/session"
)

// The applicant never learns which anti-spoofing check caught them; every
// other reason is shown as it is, so the page can say what to fix.
func TestReasonPublic(t *testing.T) {
	for _, r := range session.Reasons {
		want := r
		if r == session.ReasonInjectionSuspected || r == session.ReasonFaceChanged {
			want = session.ReasonLivenessFailed
		}
		if got := r.Public(); got != want {
			t.Errorf("%s.Public() = %s, want %s", r, got, want)
		}
		if !r.Public().Valid() {
			t.Errorf("%s.Public() = %s is not a reason", r, r.Public())
		}
	}
}
