package reason

import "testing"

func TestPublicHidesWhichCheck(t *testing.T) {
	for _, c := range All {
		p := c.Public()
		if !p.Valid() {
			t.Errorf("%s.Public() = %q, not a code", c, p)
		}
		switch c {
		case InjectionSuspected, FaceChanged:
			if p != LivenessFailed {
				t.Errorf("%s.Public() = %s, want liveness_failed", c, p)
			}
		default:
			if p != c {
				t.Errorf("%s.Public() = %s, want itself", c, p)
			}
		}
	}
	if Code("typo").Valid() || Code("").Valid() {
		t.Error("unknown codes must not be valid")
	}
}
