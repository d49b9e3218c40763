package assertion_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"vidid/assertion"
	"vidid/assertion/assertiontest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestClaimsWireFormat pins the JSON a relying party receives (golden file)
// and checks the OIDC4IA paths it reads, then that parsing gives the same
// claims back.
func TestClaimsWireFormat(t *testing.T) {
	c := assertiontest.SampleClaims()
	c.Issuer, c.Subject, c.Audience = testIssuer, c.Person.IIN, []string{testAudience}
	c.IssuedAt, c.NotBefore, c.Expiry, c.VerifiedAt = t0, t0, t0.Add(5*time.Minute), t0.Add(-10*time.Second)
	c.ID, c.TrustFramework, c.Source = "AAAAAAAAAAAAAAAAAAAAAA", assertion.TrustFramework, assertion.DefaultSource
	got, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "claims.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestClaimsWireFormat -update)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		t.Fatalf("wire format changed (rerun with -update if intended):\n%s", got)
	}

	var m map[string]any
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatal(err)
	}
	paths := []struct {
		path []any
		want any
	}{
		{[]any{"sub"}, "900515400123"},
		{[]any{"aud"}, testAudience},
		{[]any{"sid"}, c.SessionID},
		{[]any{"verified_claims", "verification", "trust_framework"}, "kz_eds"},
		{[]any{"verified_claims", "verification", "verification_process"}, c.SessionID},
		{[]any{"verified_claims", "verification", "evidence", 0, "type"}, "electronic_record"},
		{[]any{"verified_claims", "verification", "evidence", 0, "check_details", 0, "check_method"}, "bvr"},
		{[]any{"verified_claims", "verification", "evidence", 0, "check_details", 0, "organization"}, "vidid"},
		{[]any{"verified_claims", "verification", "evidence", 0, "check_details", 0, "txn"}, "att-0001"},
		{[]any{"verified_claims", "verification", "evidence", 0, "record", "type"}, "population_register"},
		{[]any{"verified_claims", "claims", "birthdate"}, "1990-05-15"},
		{[]any{"verified_claims", "claims", "iin"}, "900515400123"},
		{[]any{"vidid_evidence", "checks", "injection"}, true},
		{[]any{"vidid_evidence", "embedder_model"}, "dlib_face_recognition_resnet_model_v1"},
	}
	for _, p := range paths {
		var cur any = m
		for _, k := range p.path {
			switch k := k.(type) {
			case string:
				cur = cur.(map[string]any)[k]
			case int:
				cur = cur.([]any)[k]
			}
		}
		if cur != p.want {
			t.Errorf("%v = %v, want %v", p.path, cur, p.want)
		}
	}

	var back assertion.Claims
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", back, c)
	}
}

func TestIssue(t *testing.T) {
	clock := assertiontest.NewClock(t0.Add(300 * time.Millisecond))
	keys := mustKeys(t, "EdDSA")
	iss := mustIssuer(t, assertion.IssuerConfig{Lifetime: 2 * time.Minute}, keys, clock)
	tok, jti, err := iss.Issue(context.Background(), assertiontest.SampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	var h map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(hb, &h); err != nil {
		t.Fatal(err)
	}
	if h["alg"] != "EdDSA" || h["typ"] != assertion.Type || h["kid"] != keys.Signer().KID {
		t.Fatalf("header %v", h)
	}
	v := mustVerifier(t, assertion.VerifierConfig{}, keys, assertiontest.NewTokens(), clock)
	got, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	c := got.Claims
	if c.ID != jti || len(jti) != 22 {
		t.Fatalf("jti %q, returned %q", c.ID, jti)
	}
	if raw, _ := base64.RawURLEncoding.DecodeString(jti); len(raw) != 16 {
		t.Fatalf("jti is %d bytes, want 16", len(raw))
	}
	if !c.IssuedAt.Equal(t0) || !c.NotBefore.Equal(t0) || !c.Expiry.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("times iat %s nbf %s exp %s", c.IssuedAt, c.NotBefore, c.Expiry)
	}
	if c.Issuer != testIssuer || !reflect.DeepEqual(c.Audience, []string{testAudience}) || c.Subject != c.Person.IIN {
		t.Fatalf("iss %q aud %v sub %q", c.Issuer, c.Audience, c.Subject)
	}
	if c.TrustFramework != "kz_eds" || c.Source != assertion.DefaultSource || !c.VerifiedAt.Equal(t0) {
		t.Fatalf("defaults: %q %q %s", c.TrustFramework, c.Source, c.VerifiedAt)
	}

	// What the applicant's browser carries holds no score (they stay with
	// the attempt, referenced by txn).
	if leaks, err := assertiontest.Leaks(tok); err != nil || len(leaks) > 0 {
		t.Fatalf("the assertion's payload gives away %v (%v)", leaks, err)
	}

	// Every assertion gets its own jti.
	_, jti2, err := iss.Issue(context.Background(), assertiontest.SampleClaims())
	if err != nil || jti2 == jti {
		t.Fatalf("second jti %q (%v)", jti2, err)
	}
}

func TestIssueRefusesBadClaims(t *testing.T) {
	keys := mustKeys(t, "EdDSA")
	iss := mustIssuer(t, assertion.IssuerConfig{}, keys, assertiontest.NewClock(t0))
	cases := []struct {
		name   string
		change func(c *assertion.Claims)
	}{
		{"invalid IIN", func(c *assertion.Claims) { c.Person.IIN = "900515400124" }},
		{"sub differs from IIN", func(c *assertion.Claims) { c.Subject = "851102303454" }},
		{"no session", func(c *assertion.Claims) { c.SessionID = "" }},
		{"session id with spaces", func(c *assertion.Claims) { c.SessionID = "a b" }},
		{"unknown method", func(c *assertion.Claims) { c.Method = "face" }},
		{"pvr without moderator", func(c *assertion.Claims) { c.Method = assertion.MethodPVR }},
		{"bvr naming a moderator", func(c *assertion.Claims) { c.Evidence.ModeratorID = "mod-1" }},
		{"no family name", func(c *assertion.Claims) { c.Person.FamilyName = "  " }},
		{"no given name", func(c *assertion.Claims) { c.Person.GivenName = "" }},
		{"no birth date", func(c *assertion.Claims) { c.Person.BirthDate = time.Time{} }},
		{"control character in a name", func(c *assertion.Claims) { c.Person.GivenName = "A\nB" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := assertiontest.SampleClaims()
			tc.change(&c)
			tok, _, err := iss.Issue(context.Background(), c)
			if !errors.Is(err, assertion.ErrInvalidClaims) || tok != "" {
				t.Fatalf("want ErrInvalidClaims and no token, got %v", err)
			}
		})
	}
	t.Run("pvr with moderator is fine", func(t *testing.T) {
		c := assertiontest.SampleClaims()
		c.Method, c.Evidence.ModeratorID = assertion.MethodPVR, "mod-1"
		if _, _, err := iss.Issue(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	})
}

func TestNewIssuerConfig(t *testing.T) {
	keys := mustKeys(t, "EdDSA")
	cases := []struct {
		name string
		cfg  assertion.IssuerConfig
		want error
	}{
		{"lifetime above the 5 min cap", assertion.IssuerConfig{Issuer: testIssuer, Audience: "ca", Lifetime: 6 * time.Minute}, assertion.ErrLifetimeTooLong},
		{"issuer not a URL", assertion.IssuerConfig{Issuer: "vidid", Audience: "ca"}, nil},
		{"no audience", assertion.IssuerConfig{Issuer: testIssuer}, nil},
		{"negative lifetime", assertion.IssuerConfig{Issuer: testIssuer, Audience: "ca", Lifetime: -time.Second}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := assertion.NewIssuer(tc.cfg, keys, nil)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("got %v", err)
			}
		})
	}
	if _, err := assertion.NewIssuer(assertion.IssuerConfig{Issuer: testIssuer, Audience: "ca", Lifetime: 5 * time.Minute}, keys, nil); err != nil {
		t.Fatalf("exactly the cap: %v", err)
	}
}

func TestKEK(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	kek, err := assertion.NewKEK(key)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := assertion.NewKEK(bytes.Repeat([]byte{8}, 32))
	if kek.ID() == other.ID() || len(kek.ID()) != 16 {
		t.Fatalf("ids %q %q", kek.ID(), other.ID())
	}
	secret := []byte("private key bytes")
	sealed, err := kek.Seal(secret, []byte("kid-1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) {
		t.Fatal("sealed blob contains the plaintext")
	}
	again, _ := kek.Seal(secret, []byte("kid-1"))
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals are identical: nonce reused")
	}
	if pt, err := kek.Open(sealed, []byte("kid-1")); err != nil || !bytes.Equal(pt, secret) {
		t.Fatalf("open: %q %v", pt, err)
	}
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	for name, tc := range map[string]struct {
		kek    *assertion.KEK
		sealed []byte
		aad    string
	}{
		"other kek":     {other, sealed, "kid-1"},
		"other aad":     {kek, sealed, "kid-2"},
		"altered bytes": {kek, flipped, "kid-1"},
		"truncated":     {kek, sealed[:10], "kid-1"},
		"empty":         {kek, nil, "kid-1"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := tc.kek.Open(tc.sealed, []byte(tc.aad)); !errors.Is(err, assertion.ErrWrongKEK) {
				t.Fatalf("want ErrWrongKEK, got %v", err)
			}
		})
	}
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := assertion.NewKEK(make([]byte, n)); !errors.Is(err, assertion.ErrBadKEK) {
			t.Fatalf("%d-byte kek: %v", n, err)
		}
	}
}
