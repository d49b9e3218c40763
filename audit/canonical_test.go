package audit

import (
	"encoding/json"
	"testing"
)

func TestCanonicalJSON(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"keys sorted, space removed", `{ "b": 1, "a": [true, null, "x"] }`, `{"a":[true,null,"x"],"b":1}`},
		{"nested keys sorted", `{"z":{"y":1,"x":2}}`, `{"z":{"x":2,"y":1}}`},
		{"exponent expanded", `{"n":1e3}`, `{"n":1000}`},
		{"negative exponent", `{"n":2.5E-3}`, `{"n":0.0025}`},
		{"trailing zeros dropped", `{"n":1.500}`, `{"n":1.5}`},
		{"minus zero", `{"n":-0.0}`, `{"n":0}`},
		{"big integer kept exactly", `{"n":123456789012345678901234567890}`, `{"n":123456789012345678901234567890}`},
		{"float64 noise kept exactly", `{"n":0.30000000000000004}`, `{"n":0.30000000000000004}`},
		{"unicode escapes decoded", `{"s":"\u0410\u0431"}`, `{"s":"Аб"}`},
		{"html escaped like encoding/json", `{"s":"<a&b>"}`, `{"s":"\u003ca\u0026b\u003e"}`},
		{"key order is bytewise", `{"é":1,"z":2,"A":3}`, `{"A":3,"z":2,"é":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := canonicalJSON([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("canonicalJSON(%s) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestCanonicalJSONRejects(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a":1} {"b":2}`, `{"n":1e999999}`, `{"n":1e-401}`, `nul`} {
		t.Run(in, func(t *testing.T) {
			if got, err := canonicalJSON([]byte(in)); err == nil {
				t.Errorf("canonicalJSON(%q) = %s, want an error", in, got)
			}
		})
	}
}

// FuzzCanonicalJSON: canonicalisation never panics, is idempotent and
// yields valid JSON that decodes to the same Go value.
func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1.5e2,"x",null]`, `{"b":{"c":[true,false]},"a":-0.001}`, `"\ud800"`, `1E+2`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := canonicalJSON(in)
		if err != nil {
			return
		}
		if !json.Valid(c) {
			t.Fatalf("canonical form %q of %q is not valid JSON", c, in)
		}
		c2, err := canonicalJSON(c)
		if err != nil || string(c2) != string(c) {
			t.Fatalf("not idempotent: %q → %q → %q (%v)", in, c, c2, err)
		}
	})
}
