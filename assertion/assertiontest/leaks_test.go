package assertiontest

import (
	"encoding/base64"
	"reflect"
	"testing"
)

func TestLeaks(t *testing.T) {
	tok := func(payload string) string {
		return "e30." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".sig"
	}
	for _, tc := range []struct {
		payload string
		want    []string
	}{
		{`{"iat": 1, "exp": 2, "nbf": 1, "sub": "x", "vidid_evidence": {"policy_version": "v", "checks": {"passive": true}}}`, nil},
		{`{"iat": 1, "vidid_evidence": {"match_score": 0.83}}`, []string{".vidid_evidence.match_score", ".vidid_evidence.match_score"}},
		{`{"vidid_evidence": {"m": [0.5]}}`, []string{".vidid_evidence.m[0]"}},
		{`{"thresholdVersion": "x"}`, []string{".thresholdVersion"}},
	} {
		got, err := Leaks(tok(tc.payload))
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Leaks(%s) = %v, %v; want %v", tc.payload, got, err, tc.want)
		}
	}
	if _, err := Leaks("not.a-jws"); err == nil {
		t.Error("a malformed token must be an error")
	}
}
