package assertion_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"vidid/assertion"
	"vidid/assertion/assertiontest"
)

const (
	testIssuer   = "https://vidid.example.kz"
	testAudience = "vidid-demo-ca"
)

// t0 is the fixed start of every test's clock.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// verificationErrors are the sentinels each rejection must match exactly one of.
var verificationErrors = []error{
	assertion.ErrMalformed, assertion.ErrAlgNotAllowed, assertion.ErrUnknownKey, assertion.ErrBadSignature,
	assertion.ErrWrongIssuer, assertion.ErrWrongAudience, assertion.ErrExpired, assertion.ErrNotYetValid,
	assertion.ErrLifetimeTooLong, assertion.ErrReplayed, assertion.ErrPolicy, assertion.ErrKeysUnavailable,
}

// assertOnly fails unless err matches want and no other verification sentinel.
func assertOnly(t testing.TB, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("want success, got %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("want %v, got %v", want, err)
	}
	for _, other := range verificationErrors {
		if other != want && errors.Is(err, other) {
			t.Fatalf("error %q matches %v as well as %v", err, other, want)
		}
	}
}

func mustKeys(t testing.TB, alg string) *assertiontest.Keys {
	t.Helper()
	k, err := assertiontest.NewKeys(algOf(alg))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func algOf(s string) jose.SignatureAlgorithm { return jose.SignatureAlgorithm(s) }

func mustIssuer(t testing.TB, cfg assertion.IssuerConfig, keys assertion.KeyStore, clock assertion.Clock) *assertion.Issuer {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = testIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = testAudience
	}
	iss, err := assertion.NewIssuer(cfg, keys, clock)
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

func mustVerifier(t testing.TB, cfg assertion.VerifierConfig, keys assertion.KeySource, tokens assertion.TokenUser, clock assertion.Clock) *assertion.Verifier {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = testIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = testAudience
	}
	v, err := assertion.NewVerifier(cfg, keys, tokens, clock)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func issue(t testing.TB, iss *assertion.Issuer, c assertion.Claims) string {
	t.Helper()
	tok, _, err := iss.Issue(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// claimsMap returns the wire claims of a token issued now by a valid issuer,
// as a map to alter before crafting.
func claimsMap(t testing.TB, now time.Time) map[string]any {
	t.Helper()
	c := assertiontest.SampleClaims()
	c.Issuer, c.Subject, c.Audience = testIssuer, c.Person.IIN, []string{testAudience}
	c.IssuedAt, c.NotBefore, c.Expiry = now, now, now.Add(5*time.Minute)
	c.ID = base64.RawURLEncoding.EncodeToString(randBytes(16))
	c.TrustFramework, c.Source, c.VerifiedAt = assertion.TrustFramework, assertion.DefaultSource, now
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// craft builds a compact JWS by hand: any header, any claims, signed by key
// (no signature at all when key is nil).
func craft(t testing.TB, header map[string]any, claims any, key *assertion.SigningKey) string {
	t.Helper()
	hb, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	var pb []byte
	switch c := claims.(type) {
	case []byte:
		pb = c
	default:
		if pb, err = json.Marshal(claims); err != nil {
			t.Fatal(err)
		}
	}
	input := b64(hb) + "." + b64(pb)
	if key == nil {
		return input + "."
	}
	var sig []byte
	switch k := key.Key.(type) {
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(input))
	case *ecdsa.PrivateKey:
		h := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	default:
		t.Fatalf("craft: key type %T", key.Key)
	}
	return input + "." + b64(sig)
}

func header(alg, kid string) map[string]any {
	return map[string]any{"alg": alg, "kid": kid, "typ": assertion.Type}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
