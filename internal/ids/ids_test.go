package ids

import "testing"

func TestIsUUID(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"0f8fad5b-d9cb-469f-a165-70867728950e", true},
		{"0F8FAD5B-D9CB-469F-A165-70867728950E", true},
		{"", false},
		{"0f8fad5bd9cb469fa16570867728950e", false},                // no dashes
		{"{0f8fad5b-d9cb-469f-a165-70867728950e}", false},          // braces
		{"urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e", false},   // URN
		{"0f8fad5b-d9cb-469f-a165-70867728950g", false},            // not hex
		{"0f8fad5b-d9cb-469f-a165_70867728950e", false},            // wrong separator
		{"0f8fad5b-d9cb-469f-a165-70867728950e' OR '1'='1", false}, // too long
	} {
		if got := IsUUID(tc.s); got != tc.want {
			t.Errorf("IsUUID(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}
