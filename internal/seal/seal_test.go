package seal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
)

func key(t *testing.T, b byte) *Key {
	t.Helper()
	raw := bytes.Repeat([]byte{b}, KeySize)
	k, err := New(raw, DomainID("test", raw))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k, other := key(t, 1), key(t, 2)
	sealed, err := k.Seal([]byte{9}, []byte("photo"), []byte("row 1"))
	if err != nil {
		t.Fatal(err)
	}
	if sealed[0] != 9 || len(sealed) != 1+12+len("photo")+16 {
		t.Fatalf("sealed layout: % x", sealed)
	}
	if again, _ := k.Seal(nil, []byte("photo"), []byte("row 1")); bytes.Equal(again, sealed[1:]) {
		t.Fatal("two seals are equal: the nonce is not fresh")
	}
	if got, err := k.Open(sealed[1:], []byte("row 1")); err != nil || string(got) != "photo" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	flipped := bytes.Clone(sealed[1:])
	flipped[len(flipped)-1] ^= 1
	for name, tc := range map[string]struct {
		k      *Key
		sealed []byte
		aad    string
	}{
		"other row": {k, sealed[1:], "row 2"}, "other key": {other, sealed[1:], "row 1"},
		"altered": {k, flipped, "row 1"}, "short": {k, sealed[1:20], "row 1"}, "empty": {k, nil, "row 1"},
	} {
		if _, err := tc.k.Open(tc.sealed, []byte(tc.aad)); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: %v, want ErrOpen", name, err)
		}
	}
	if _, err := New(make([]byte, 16), "x"); err == nil {
		t.Error("a 16-byte key was accepted")
	}
}

func TestDomainID(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, KeySize)
	h := sha256.Sum256(append([]byte("vidid register key id\x00"), raw...))
	if got, want := DomainID("vidid register key id", raw), hex.EncodeToString(h[:8]); got != want {
		t.Fatalf("DomainID = %s, want %s", got, want)
	}
	if DomainID("a", raw) == DomainID("b", raw) {
		t.Fatal("domains do not separate ids")
	}
}

func TestRing(t *testing.T) {
	cur, old, older := key(t, 1), key(t, 2), key(t, 3)
	r := NewRing(cur, older, old, cur)
	if r.Current() != cur {
		t.Fatal("current")
	}
	for _, k := range []*Key{cur, old, older} {
		if got, ok := r.Key(k.ID()); !ok || got != k {
			t.Errorf("Key(%s) not found", k.ID())
		}
	}
	if _, ok := r.Key("0000000000000000"); ok {
		t.Error("an unknown id was found")
	}
	ids := r.IDs()
	if len(ids) != 3 || ids[0] != cur.ID() || !slices.IsSorted(ids[1:]) {
		t.Errorf("IDs = %v", ids)
	}
}

func TestNewDomainRing(t *testing.T) {
	cur, old := bytes.Repeat([]byte{1}, KeySize), bytes.Repeat([]byte{2}, KeySize)
	r, err := NewDomainRing("test key", "test domain", cur, old)
	if err != nil {
		t.Fatal(err)
	}
	if r.Current().ID() != DomainID("test domain", cur) {
		t.Errorf("current id %s", r.Current().ID())
	}
	if _, ok := r.Key(DomainID("test domain", old)); !ok {
		t.Error("the previous key is not in the ring")
	}
	if _, err := NewDomainRing("test key", "d", cur[:16]); err == nil || !strings.HasPrefix(err.Error(), "test key: ") {
		t.Errorf("short key: %v", err)
	}
	if _, err := NewDomainRing("test key", "d", cur, old[:16]); err == nil || !strings.HasPrefix(err.Error(), "previous test key: ") {
		t.Errorf("short previous key: %v", err)
	}
}
