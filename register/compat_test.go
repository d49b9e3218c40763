package register

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// TestSealCompat pins the register key id and the sealed format: rows in
// existing databases store both, so neither may change. The vector was
// sealed by the register's own sealer before it moved to internal/seal.
func TestSealCompat(t *testing.T) {
	key := bytes.Repeat([]byte{0x11}, KeySize)
	if got := KeyID(key); got != "3dbae89f0350b716" {
		t.Fatalf("KeyID = %s, want 3dbae89f0350b716", got)
	}
	sealed, _ := hex.DecodeString("7b4be40ad35df181709908c8c3b01a998940974a7bf9042e6cf0c2e41d1407ccdd771a43bd72a80f643d69d9638305c6")
	s, err := NewPG(nil, key)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := s.open(sealed, photoAAD("900517450427", "abc"), "3dbae89f0350b716")
	if err != nil || string(plain) != "register photo bytes" {
		t.Fatalf("open the pinned vector: %q, %v", plain, err)
	}
}
