// Package seal encrypts values at rest with AES-256-GCM: the register's
// photos and embeddings, attempt evidence, and private keys under a
// key-encryption key. A sealed value is prefix ‖ 12-byte random nonce ‖
// ciphertext ‖ tag; the additional data binds it to where it is stored, so
// a value moved to another row does not open. Keys carry an id (derived by
// the caller, and stored beside each value) so a wrong key is reported as
// such, and a Ring holds the current key with the previous ones during a
// rotation.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
)

// KeySize is the length of every key (AES-256).
const KeySize = 32

// ErrOpen: a sealed value does not open: too short, altered, sealed under
// another key or for another place. Callers wrap it in their own error.
var ErrOpen = errors.New("sealed value does not open")

// Key is one AES-256-GCM key with its id.
type Key struct {
	aead cipher.AEAD
	id   string
}

// New returns a Key for 32 bytes of key material, named id.
func New(key []byte, id string) (*Key, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%d bytes, want %d", len(key), KeySize)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &Key{aead: aead, id: id}, nil
}

// DomainID names a key without revealing it: the first 16 hex digits of
// SHA-256(domain ‖ 0x00 ‖ key). Each use has its own domain.
func DomainID(domain string, key []byte) string {
	h := sha256.New()
	h.Write([]byte(domain))
	h.Write([]byte{0})
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// ID is the key's id.
func (k *Key) ID() string { return k.id }

// Seal returns prefix ‖ nonce ‖ ciphertext ‖ tag, bound to aad.
func (k *Key) Seal(prefix, plain, aad []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	out := make([]byte, len(prefix)+ns, len(prefix)+ns+len(plain)+k.aead.Overhead())
	copy(out, prefix)
	nonce := out[len(prefix):]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return k.aead.Seal(out, nonce, plain, aad), nil
}

// Open reverses Seal for a value without its prefix (nonce ‖ ciphertext ‖
// tag) and the same aad; anything else gives ErrOpen.
func (k *Key) Open(sealed, aad []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(sealed) < ns+k.aead.Overhead() {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrOpen, len(sealed))
	}
	plain, err := k.aead.Open(nil, sealed[:ns], sealed[ns:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed (altered, another key, or moved from elsewhere)", ErrOpen)
	}
	return plain, nil
}

// Ring is the current key, which seals, and earlier keys that still open
// what was sealed under them until it has been resealed or purged.
type Ring struct {
	current *Key
	prev    map[string]*Key
}

// NewRing returns a ring; a previous key equal to the current one is
// ignored.
func NewRing(current *Key, previous ...*Key) *Ring {
	r := &Ring{current: current, prev: map[string]*Key{}}
	for _, p := range previous {
		if p.id != current.id {
			r.prev[p.id] = p
		}
	}
	return r
}

// NewDomainRing makes the ring of a store whose keys are named by
// DomainID(domain, key): key seals, previous (during a rotation) only
// open. Errors name what ("register key"), and "previous" for one of
// those.
func NewDomainRing(what, domain string, key []byte, previous ...[]byte) (*Ring, error) {
	mk := func(raw []byte) (*Key, error) {
		k, err := New(raw, DomainID(domain, raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return k, nil
	}
	cur, err := mk(key)
	if err != nil {
		return nil, err
	}
	var prev []*Key
	for _, raw := range previous {
		p, err := mk(raw)
		if err != nil {
			return nil, fmt.Errorf("previous %w", err)
		}
		prev = append(prev, p)
	}
	return NewRing(cur, prev...), nil
}

// Current is the key new values are sealed with.
func (r *Ring) Current() *Key { return r.current }

// Key returns the key with the given id: the current one or a previous.
func (r *Ring) Key(id string) (*Key, bool) {
	if id == r.current.id {
		return r.current, true
	}
	k, ok := r.prev[id]
	return k, ok
}

// IDs lists the current key's id, then the previous keys' ids in order.
func (r *Ring) IDs() []string {
	var prev []string
	for id := range r.prev {
		prev = append(prev, id)
	}
	slices.Sort(prev)
	return append([]string{r.current.id}, prev...)
}
