package assertion

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"vidid/internal/seal"
)

// sealVersion is the first byte of every sealed blob: the format is
// version ‖ 12-byte nonce ‖ AES-256-GCM ciphertext and tag.
const sealVersion = 1

// KEK is a key-encryption key: private keys (assertion signing keys, the
// CA's keys) are stored sealed under it with AES-256-GCM (internal/seal).
// The serve and ca serve commands read its 32 bytes from a file or the
// environment; it never goes into the database. Each sealed blob is bound
// to where it is stored through the additional data (e.g. the kid), so
// swapping rows does not open either.
type KEK struct {
	key *seal.Key
}

// NewKEK returns a KEK for a 32-byte key.
func NewKEK(key []byte) (*KEK, error) {
	if len(key) != seal.KeySize {
		return nil, fmt.Errorf("%w (got %d)", ErrBadKEK, len(key))
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("vidid kek id v1"))
	k, err := seal.New(key, hex.EncodeToString(mac.Sum(nil)[:8]))
	if err != nil {
		return nil, fmt.Errorf("kek: %w", err)
	}
	return &KEK{key: k}, nil
}

// ID names the key without revealing it (16 hex digits, an HMAC of a
// constant): stored beside sealed data so a wrong key is reported as such.
func (k *KEK) ID() string { return k.key.ID() }

// Seal encrypts plaintext bound to aad with a fresh random nonce.
func (k *KEK) Seal(plaintext, aad []byte) ([]byte, error) {
	return k.key.Seal([]byte{sealVersion}, plaintext, aad)
}

// Open decrypts what Seal produced with the same aad. Anything else — another
// KEK, other aad, altered bytes — fails with ErrWrongKEK.
func (k *KEK) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 1 || sealed[0] != sealVersion {
		return nil, fmt.Errorf("%w: not a sealed blob (version %d format)", ErrWrongKEK, sealVersion)
	}
	pt, err := k.key.Open(sealed[1:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w (kek %s): %v", ErrWrongKEK, k.ID(), err)
	}
	return pt, nil
}
