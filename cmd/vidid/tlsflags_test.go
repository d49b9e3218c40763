package main

import (
	"errors"
	"testing"
)

func TestRequireHTTPS(t *testing.T) {
	for _, tc := range []struct {
		url  string
		demo bool
		ok   bool
	}{
		{"https://vidid.egov.kz", false, true},
		{"http://127.0.0.1:8080", false, true},
		{"http://localhost:8080", false, true},
		{"http://[::1]:8080", false, true},
		{"http://vidid.egov.kz", false, false},
		{"http://10.0.0.5:8080", false, false},
		{"http://vidid.example", true, true},
		{"ftp://vidid.egov.kz", false, false},
		{"not a url", false, false},
	} {
		err := requireHTTPS("--public-url", tc.url, tc.demo)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, errUsage)) {
			t.Errorf("%s (demo %v): %v, want ok=%v", tc.url, tc.demo, err, tc.ok)
		}
	}
	var tf tlsFlags
	tf.cert = "cert.pem"
	if _, _, err := tf.listen(nil); !errors.Is(err, errUsage) {
		t.Errorf("a certificate without a key: %v", err)
	}
}
