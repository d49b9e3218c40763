package register

import (
	"encoding/binary"
	"fmt"
	"math"

	"vidid/internal/seal"
)

// KeySize is the length of the register key (AES-256).
const KeySize = seal.KeySize

// The register seals photos and cached embeddings at rest with
// AES-256-GCM (internal/seal). The additional data binds each ciphertext to
// its citizen, column, model and photo hash, so sealed values cannot be
// moved between rows or columns without the open failing.

// keyIDDomain separates register key ids from other keys' ids.
const keyIDDomain = "vidid register key id"

// KeyID names a register key without revealing it: the first 16 hex digits
// of a domain-separated SHA-256. Rows store it, so a process started with
// the wrong key says so instead of failing to decrypt.
func KeyID(key []byte) string { return seal.DomainID(keyIDDomain, key) }

func photoAAD(iin, photoSHA256 string) []byte {
	return []byte("vidid/register/photo\x00" + iin + "\x00" + photoSHA256)
}

func embeddingAAD(iin, model, photoSHA256 string) []byte {
	return []byte("vidid/register/embedding\x00" + iin + "\x00" + model + "\x00" + photoSHA256)
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
