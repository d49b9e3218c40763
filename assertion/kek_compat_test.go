package assertion

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// TestKEKCompat pins the KEK id and the sealed format (version byte,
// nonce, ciphertext), which stored signing keys and CA keys use; the
// vector was sealed before the move to internal/seal.
func TestKEKCompat(t *testing.T) {
	k, err := NewKEK(bytes.Repeat([]byte{0x33}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if k.ID() != "7776319ddf218941" {
		t.Fatalf("ID = %s, want 7776319ddf218941", k.ID())
	}
	sealed, _ := hex.DecodeString("0187d91a9e1e25fd255581bc6436a4ede6321cf2e9acb5024107cbbcf02fe5c1a122e18b352b1f742dbbfa4b")
	plain, err := k.Open(sealed, []byte("kid-123"))
	if err != nil || string(plain) != "private key der" {
		t.Fatalf("open the pinned vector: %q, %v", plain, err)
	}
}
