package assertion

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// sealVersion is the first byte of every sealed blob: the format is
// version ‖ 12-byte nonce ‖ AES-256-GCM ciphertext and tag.
const sealVersion = 1

// KEK is a key-encryption key: private keys (assertion signing keys, the
// CA's keys) are stored sealed under it with AES-256-GCM. The serve and
// ca serve commands read its 32 bytes from a file or the environment; it
// never goes into the database. Each sealed blob is bound to where it is
// stored through the additional data (e.g. the kid), so swapping rows does
// not open either.
type KEK struct {
	aead cipher.AEAD
	id   string
}

// NewKEK returns a KEK for a 32-byte key.
func NewKEK(key []byte) (*KEK, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("%w (got %d)", ErrBadKEK, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("kek: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("kek: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("vidid kek id v1"))
	return &KEK{aead: aead, id: hex.EncodeToString(mac.Sum(nil)[:8])}, nil
}

// ID names the key without revealing it (16 hex digits, an HMAC of a
// constant): stored beside sealed data so a wrong key is reported as such.
func (k *KEK) ID() string { return k.id }

// Seal encrypts plaintext bound to aad with a fresh random nonce.
func (k *KEK) Seal(plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, 1+k.aead.NonceSize(), 1+k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return k.aead.Seal(out, out[1:], plaintext, aad), nil
}

// Open decrypts what Seal produced with the same aad. Anything else — another
// KEK, other aad, altered bytes — fails with ErrWrongKEK.
func (k *KEK) Open(sealed, aad []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(sealed) < 1+ns+k.aead.Overhead() || sealed[0] != sealVersion {
		return nil, fmt.Errorf("%w: not a sealed blob (version %d format)", ErrWrongKEK, sealVersion)
	}
	pt, err := k.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w (kek %s)", ErrWrongKEK, k.id)
	}
	return pt, nil
}
