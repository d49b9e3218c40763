package evidence

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// TestSealCompat pins the evidence key id and the sealed format (stored in
// attempt_evidence rows); the vector was sealed before the move to
// internal/seal.
func TestSealCompat(t *testing.T) {
	p, err := NewPG(nil, bytes.Repeat([]byte{0x22}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if p.KeyID() != "17780955dfa7ef11" {
		t.Fatalf("key id = %s, want 17780955dfa7ef11", p.KeyID())
	}
	sealed, _ := hex.DecodeString("4e2e008877f34d81245cfbf2a1ae68b62b84819d5bbe5db2c0f13470676214a3251ee3f3013425c69a57ebe1")
	plain, err := p.open(sealed, "17780955dfa7ef11", aad("7e7165f8-1006-4b10-97ab-fb3746fa5413", KindClip, 3))
	if err != nil || string(plain) != "jpeg frame bytes" {
		t.Fatalf("open the pinned vector: %q, %v", plain, err)
	}
}
