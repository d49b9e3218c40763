package rp_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"vidid/rp"
)

func TestVerifySignature(t *testing.T) {
	const secret = "vcbs_0123456789abcdef"
	body := []byte(`{"id":"evt_1","type":"session.decided","data":{"state":"matched"}}`)
	sent := time.Unix(1_750_000_000, 0)
	good := rp.Sign(secret, sent, body)
	tests := []struct {
		name      string
		secret    string
		header    string
		body      []byte
		now       time.Time
		wantError error
	}{
		{"good", secret, good, body, sent.Add(10 * time.Second), nil},
		{"good at the tolerance edge", secret, good, body, sent.Add(5 * time.Minute), nil},
		{"tampered body", secret, good, []byte(strings.Replace(string(body), "matched", "approved", 1)), sent, rp.ErrInvalidSignature},
		{"wrong secret", "vcbs_other", good, body, sent, rp.ErrInvalidSignature},
		{"old timestamp (replay)", secret, good, body, sent.Add(5*time.Minute + time.Second), rp.ErrSignatureExpired},
		{"timestamp from the future", secret, good, body, sent.Add(-6 * time.Minute), rp.ErrSignatureExpired},
		{"timestamp swapped in", secret, strings.Replace(good, "t=1750000000", "t=1750000100", 1), body, sent.Add(100 * time.Second), rp.ErrInvalidSignature},
		{"rotated secret: second v1 matches", secret, "t=1750000000,v1=" + strings.Repeat("00", 32) + "," + good[len("t=1750000000,"):], body, sent, nil},
		{"unknown scheme ignored", secret, good + ",v0=abc", body, sent, nil},
		{"no v1", secret, "t=1750000000", body, sent, rp.ErrInvalidSignature},
		{"no t", secret, good[len("t=1750000000,"):], body, sent, rp.ErrInvalidSignature},
		{"two timestamps", secret, "t=1," + good, body, sent, rp.ErrInvalidSignature},
		{"v1 not hex", secret, "t=1750000000,v1=zz", body, sent, rp.ErrInvalidSignature},
		{"v1 short", secret, "t=1750000000,v1=abcd", body, sent, rp.ErrInvalidSignature},
		{"empty", secret, "", body, sent, rp.ErrInvalidSignature},
		{"garbage", secret, "Bearer xyz", body, sent, rp.ErrInvalidSignature},
		{"negative time", secret, "t=-5,v1=" + strings.Repeat("00", 32), body, sent, rp.ErrInvalidSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := rp.VerifySignature(tc.secret, tc.header, tc.body, tc.now, 5*time.Minute)
			if tc.wantError == nil && err != nil || tc.wantError != nil && !errors.Is(err, tc.wantError) {
				t.Fatalf("VerifySignature = %v, want %v", err, tc.wantError)
			}
		})
	}
}

func TestSignFormat(t *testing.T) {
	h := rp.Sign("k", time.Unix(42, 0), []byte("body"))
	// HMAC-SHA256("k", "42.body"), computed independently with openssl:
	// printf '42.body' | openssl dgst -sha256 -hmac k
	const want = "t=42,v1=b659920af00f6ceb47785a65af6c6f2536fedfb07c8c4e6b8b99175f100fb165"
	if h != want {
		t.Fatalf("Sign = %q, want %q", h, want)
	}
}

func FuzzVerifySignature(f *testing.F) {
	body := []byte(`{"a":1}`)
	f.Add(rp.Sign("s", time.Unix(100, 0), body), body)
	f.Add("t=1,v1=00,v1=", []byte{})
	f.Add(",,,=,", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, b []byte) {
		err := rp.VerifySignature("s", header, b, time.Unix(100, 0), time.Minute)
		if err == nil {
			// Accepted: the header must hold the true MAC for its own t.
			m := regexp.MustCompile(`(?:^|,)\s*t=(\d+)`).FindStringSubmatch(header)
			if m == nil {
				t.Fatalf("accepted a header without t: %q", header)
			}
			h := hmac.New(sha256.New, []byte("s"))
			h.Write([]byte(m[1] + "."))
			h.Write(b)
			if !strings.Contains(strings.ToLower(header), "v1="+hex.EncodeToString(h.Sum(nil))) {
				t.Fatalf("accepted a header without the right MAC: %q", header)
			}
		}
		if err != nil && !errors.Is(err, rp.ErrInvalidSignature) && !errors.Is(err, rp.ErrSignatureExpired) {
			t.Fatalf("unexpected error type: %v", err)
		}
	})
}

func BenchmarkVerifySignature(b *testing.B) {
	body := []byte(strings.Repeat(`{"state":"matched"}`, 20))
	now := time.Unix(1_750_000_000, 0)
	h := rp.Sign("vcbs_secret", now, body)
	for b.Loop() {
		if err := rp.VerifySignature("vcbs_secret", h, body, now, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
