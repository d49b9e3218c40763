package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// tokenBytes is the capture token's entropy; the token is its base64url form.
const tokenBytes = 32

func newToken() (string, []byte) {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // never fails
	t := base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(t))
	return t, h[:]
}

func hashToken(t string) ([]byte, bool) {
	if len(t) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return nil, false
	}
	if _, err := base64.RawURLEncoding.DecodeString(t); err != nil {
		return nil, false
	}
	h := sha256.Sum256([]byte(t))
	return h[:], true
}
