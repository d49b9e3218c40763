package assertion

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"

	jose "github.com/go-jose/go-jose/v4"
)

// Signature algorithms an assertion may use. EdDSA (Ed25519) is the default
// for new keys; ES256 is there for relying parties whose JOSE libraries lack
// EdDSA.
const (
	EdDSA = jose.EdDSA
	ES256 = jose.ES256
)

// DefaultAlgorithms is the verifier's default allow-list.
var DefaultAlgorithms = []jose.SignatureAlgorithm{EdDSA, ES256}

// SigningKey is the key an issuer signs with now.
type SigningKey struct {
	KID       string
	Algorithm jose.SignatureAlgorithm
	Key       crypto.Signer // ed25519.PrivateKey or *ecdsa.PrivateKey (P-256)
}

// KeyStore holds the assertion signing keys. SigningKey returns the key to
// sign with at this moment; PublicKeys the set relying parties must accept
// (the signer, keys about to become it, and retired keys whose tokens may
// still be live). PG is the shared implementation; assertiontest has an
// in-memory one for unit tests.
type KeyStore interface {
	SigningKey(ctx context.Context) (SigningKey, error)
	PublicKeys(ctx context.Context) (jose.JSONWebKeySet, error)
}

// KeySource finds a verification key by its "kid". StaticKeys, RemoteKeys
// (a JWKS URL) and PGKeys implement it. An absent kid is ErrUnknownKey;
// failing to obtain keys at all is ErrKeysUnavailable.
type KeySource interface {
	Key(ctx context.Context, kid string) (jose.JSONWebKey, error)
}

// GenerateKey makes a new signing key for alg (EdDSA or ES256) with its kid
// set to the key's RFC 7638 thumbprint (SHA-256, base64url).
func GenerateKey(alg jose.SignatureAlgorithm) (SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return SigningKey{}, fmt.Errorf("%w: cannot make %q keys (want EdDSA or ES256)", ErrAlgNotAllowed, alg)
	}
	if err != nil {
		return SigningKey{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	kid, err := thumbprint(priv.Public())
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKey{KID: kid, Algorithm: alg, Key: priv}, nil
}

// PublicJWK returns the public half of k as a JWK with kid, alg and use.
func (k SigningKey) PublicJWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Key.Public(), KeyID: k.KID, Algorithm: string(k.Algorithm), Use: "sig"}
}

func thumbprint(pub crypto.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: pub}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// algFits reports whether key can make alg signatures.
func algFits(alg jose.SignatureAlgorithm, key any) bool {
	switch k := key.(type) {
	case ed25519.PublicKey, ed25519.PrivateKey:
		return alg == EdDSA
	case *ecdsa.PublicKey:
		return alg == ES256 && k.Curve == elliptic.P256()
	case *ecdsa.PrivateKey:
		return alg == ES256 && k.Curve == elliptic.P256()
	}
	return false
}

// StaticKeys is a fixed set of verification keys (configuration, tests).
type StaticKeys struct {
	set jose.JSONWebKeySet
}

var _ KeySource = (*StaticKeys)(nil)

// NewStaticKeys keeps the public halves of set's keys. Every key needs a kid.
func NewStaticKeys(set jose.JSONWebKeySet) (*StaticKeys, error) {
	out, err := publicSet(set)
	if err != nil {
		return nil, err
	}
	return &StaticKeys{set: out}, nil
}

// ParseJWKS parses a JSON Web Key Set document into StaticKeys.
func ParseJWKS(b []byte) (*StaticKeys, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("parse jwks: %w", err)
	}
	return NewStaticKeys(set)
}

// Key returns the key with this kid (the first, should a set repeat one).
func (s *StaticKeys) Key(_ context.Context, kid string) (jose.JSONWebKey, error) {
	return lookup(s.set, kid)
}

// Set returns a copy of the public keys.
func (s *StaticKeys) Set() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: slices.Clone(s.set.Keys)}
}

func lookup(set jose.JSONWebKeySet, kid string) (jose.JSONWebKey, error) {
	if ks := set.Key(kid); len(ks) > 0 {
		return ks[0], nil
	}
	return jose.JSONWebKey{}, fmt.Errorf("%w: kid %q", ErrUnknownKey, kid)
}

// publicSet checks a key set and strips private parts.
func publicSet(set jose.JSONWebKeySet) (jose.JSONWebKeySet, error) {
	out := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(set.Keys))}
	for i, k := range set.Keys {
		if k.KeyID == "" {
			return jose.JSONWebKeySet{}, fmt.Errorf("jwks: key %d has no kid", i)
		}
		if k.Use != "" && k.Use != "sig" {
			continue // an encryption key: never a verification key
		}
		pub := k.Public()
		if !pub.Valid() {
			return jose.JSONWebKeySet{}, fmt.Errorf("jwks: key %q is not a usable public key", k.KeyID)
		}
		out.Keys = append(out.Keys, pub)
	}
	return out, nil
}
