package apikey

import (
	"strings"
	"testing"
)

func TestNewParse(t *testing.T) {
	id, key, hash := New("vmod_")
	gotID, gotHash, ok := Parse("vmod_", key)
	if !ok || gotID != id || !Equal(gotHash, hash) {
		t.Fatalf("Parse(New()) = %q, %x, %v; want %q, %x", gotID, gotHash, ok, id, hash)
	}
	if _, key2, _ := New("vmod_"); key2 == key {
		t.Fatal("two keys are equal")
	}
	secret := key[len("vmod_")+17:]
	for _, bad := range []string{
		"", key[:len(key)-1], "vidid_" + key[len("vmod_"):], strings.ToUpper(key), key + "0",
		"vmod_" + id + secret, "vmod_" + id + "_" + strings.Repeat("g", 64), "vmod__" + secret,
	} {
		if _, _, ok := Parse("vmod_", bad); ok {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if !IsID(id) || IsID(id+"0") || IsID(strings.ToUpper(id)) {
		t.Error("IsID wrong")
	}
}

func FuzzParse(f *testing.F) {
	_, key, _ := New("p_")
	f.Add(key)
	f.Add("p_0123456789abcdef_")
	f.Fuzz(func(t *testing.T, s string) {
		id, hash, ok := Parse("p_", s)
		if ok && (!IsID(id) || len(hash) != 32 || !strings.HasPrefix(s, "p_"+id+"_")) {
			t.Fatalf("Parse(%q) = %q, %x", s, id, hash)
		}
	})
}
