package rp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the HTTP header that carries a callback's signature.
const SignatureHeader = "Vidid-Signature"

// EventIDHeader carries the callback's event id (stable across retries).
const EventIDHeader = "Vidid-Event-Id"

// Sign returns the Vidid-Signature value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<unix seconds>.<body>")>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// maxHeaderLen bounds the header VerifySignature parses.
const maxHeaderLen = 4096

// VerifySignature checks a Vidid-Signature header against the raw request
// body, for receivers of callbacks. It accepts the header when one of its
// v1 values is the HMAC of "<t>.<body>" under secret (several v1 values
// allow secret rotation) and t is within tolerance of now in either
// direction. It returns an error wrapping ErrInvalidSignature or
// ErrSignatureExpired. Compare the event id to those already processed to
// drop retried duplicates.
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if len(header) > maxHeaderLen {
		return fmt.Errorf("%w: header too long", ErrInvalidSignature)
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%w: malformed element %q", ErrInvalidSignature, truncate(part))
		}
		switch k {
		case "t":
			if ts != "" {
				return fmt.Errorf("%w: more than one timestamp", ErrInvalidSignature)
			}
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return fmt.Errorf("%w: v1 is not a hex SHA-256 MAC", ErrInvalidSignature)
			}
			sigs = append(sigs, sig)
		default: // unknown schemes are ignored, for forward compatibility
		}
	}
	if ts == "" || len(sigs) == 0 {
		return fmt.Errorf("%w: need t= and v1=", ErrInvalidSignature)
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || unix <= 0 {
		return fmt.Errorf("%w: bad timestamp", ErrInvalidSignature)
	}
	want := mac(secret, ts, body)
	ok := false
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("%w: no matching v1 signature", ErrInvalidSignature)
	}
	// Checked after the MAC so that an attacker learns nothing about
	// timestamps from forged headers.
	sent := time.Unix(unix, 0)
	if d := now.Sub(sent); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: sent %s, now %s", ErrSignatureExpired, sent.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
