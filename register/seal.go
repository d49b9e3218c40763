package register

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
)

// KeySize is the length of the register key (AES-256).
const KeySize = 32

// sealer encrypts register photos and cached embeddings at rest with
// AES-256-GCM. The additional data binds each ciphertext to its citizen,
// column, model and photo hash, so sealed values cannot be moved between
// rows or columns without the open failing.
type sealer struct {
	aead cipher.AEAD
	id   string // KeyID of the key
}

func newSealer(key []byte) (*sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("register key: %d bytes, want %d", len(key), KeySize)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("register key: %w", err)
	}
	aead, err := cipher.NewGCM(b)
	if err != nil {
		return nil, fmt.Errorf("register key: %w", err)
	}
	return &sealer{aead: aead, id: KeyID(key)}, nil
}

// KeyID names a register key without revealing it: the first 16 hex digits
// of a domain-separated SHA-256. Rows store it, so a process started with
// the wrong key says so instead of failing to decrypt.
func KeyID(key []byte) string {
	h := sha256.Sum256(append([]byte("vidid register key id\x00"), key...))
	return hex.EncodeToString(h[:8])
}

func photoAAD(iin, photoSHA256 string) []byte {
	return []byte("vidid/register/photo\x00" + iin + "\x00" + photoSHA256)
}

func embeddingAAD(iin, model, photoSHA256 string) []byte {
	return []byte("vidid/register/embedding\x00" + iin + "\x00" + model + "\x00" + photoSHA256)
}

// seal returns nonce || ciphertext || tag.
func (s *sealer) seal(plain, aad []byte) ([]byte, error) {
	out := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return s.aead.Seal(out, out, plain, aad), nil
}

// open reverses seal; keyID is the key id stored with the value.
func (s *sealer) open(sealed, aad []byte, keyID string) ([]byte, error) {
	if keyID != s.id {
		return nil, fmt.Errorf("%w: sealed with key %s, this process has key %s (wrong register key or secrets folder?)", ErrSealed, keyID, s.id)
	}
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrSealed, len(sealed))
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed (altered, or moved from another row)", ErrSealed)
	}
	return plain, nil
}

// vectorBytes encodes an embedding as little-endian float32s.
func vectorBytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func bytesVector(b []byte) ([]float32, error) {
	if len(b) == 0 || len(b)%4 != 0 || len(b)/4 > MaxEmbeddingLen {
		return nil, fmt.Errorf("%w: embedding of %d bytes", ErrSealed, len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}
