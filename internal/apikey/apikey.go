// Package apikey makes and parses the bearer secrets vidid hands out
// (relying-party API keys, moderator access tokens): "<prefix><id>_<secret>"
// with a 16-hex-digit public id and a 64-hex-digit random secret, of which
// only the SHA-256 is stored. The secret has 256 bits of entropy, so a fast
// hash is enough: there is nothing to brute-force.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

const (
	idBytes     = 8  // id: 16 hex digits
	secretBytes = 32 // secret: 64 hex digits
)

// New returns a fresh id, the full key to hand out once, and the hash to
// store.
func New(prefix string) (id, key string, hash []byte) {
	id, secret := RandomHex(idBytes), RandomHex(secretBytes)
	return id, prefix + id + "_" + secret, Hash(secret)
}

// Parse splits a key made by New with the same prefix and returns its id
// and the hash of its secret; ok is false for anything malformed.
func Parse(prefix, key string) (id string, hash []byte, ok bool) {
	rest, found := strings.CutPrefix(key, prefix)
	if !found {
		return "", nil, false
	}
	id, secret, found := strings.Cut(rest, "_")
	if !found || !IsHex(id, 2*idBytes) || !IsHex(secret, 2*secretBytes) {
		return "", nil, false
	}
	return id, Hash(secret), true
}

// Hash is the stored form of a secret.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Equal compares two hashes in constant time.
func Equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// IsID reports whether s has the form of an id made by New.
func IsID(s string) bool { return IsHex(s, 2*idBytes) }

// IsHex reports whether s is exactly n lower-case hex digits.
func IsHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// RandomHex returns n random bytes in hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥1.24 crashes instead)
	return hex.EncodeToString(b)
}
