// Package assertiontest has in-memory stand-ins for the assertion key store
// and token register, and a settable clock, for unit tests and examples
// that need no database. They are single-process only: a real deployment
// uses assertion.PGKeys and assertion.PGTokens.
package assertiontest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"vidid/assertion"
)

// Keys is a KeyStore and KeySource holding one signing key (and any keys
// added with Add, which are published but do not sign).
type Keys struct {
	mu     sync.Mutex
	signer assertion.SigningKey
	set    jose.JSONWebKeySet
}

var (
	_ assertion.KeyStore  = (*Keys)(nil)
	_ assertion.KeySource = (*Keys)(nil)
)

// NewKeys makes a fresh key for alg.
func NewKeys(alg jose.SignatureAlgorithm) (*Keys, error) {
	k, err := assertion.GenerateKey(alg)
	if err != nil {
		return nil, err
	}
	return &Keys{signer: k, set: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.PublicJWK()}}}, nil
}

// SigningKey returns the signing key.
func (k *Keys) SigningKey(context.Context) (assertion.SigningKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.signer, nil
}

// PublicKeys returns the published keys.
func (k *Keys) PublicKeys(context.Context) (jose.JSONWebKeySet, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), k.set.Keys...)}, nil
}

// Key looks up a published key.
func (k *Keys) Key(_ context.Context, kid string) (jose.JSONWebKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if ks := k.set.Key(kid); len(ks) > 0 {
		return ks[0], nil
	}
	return jose.JSONWebKey{}, fmt.Errorf("%w: kid %q", assertion.ErrUnknownKey, kid)
}

// Signer returns the signing key (for hand-crafting tokens in tests).
func (k *Keys) Signer() assertion.SigningKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.signer
}

// Tokens is an in-memory TokenUser.
type Tokens struct {
	mu   sync.Mutex
	used map[string]assertion.TokenUse
}

var _ assertion.TokenUser = (*Tokens)(nil)

// NewTokens returns an empty register.
func NewTokens() *Tokens { return &Tokens{used: map[string]assertion.TokenUse{}} }

// UseToken records u, or fails with ErrReplayed.
func (t *Tokens) UseToken(_ context.Context, u assertion.TokenUse) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.used[u.JTI]; ok {
		return fmt.Errorf("%w (jti %s)", assertion.ErrReplayed, u.JTI)
	}
	t.used[u.JTI] = u
	return nil
}

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the current reading.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set sets the reading.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// SampleClaims returns claims for an automatic (bvr) match of a valid
// demo IIN, for tests and examples.
func SampleClaims() assertion.Claims {
	return assertion.Claims{
		SessionID: "3f1c2a9e-5d7b-4c1e-9a0f-6b2d8e4c1a77",
		Txn:       "att-0001",
		Method:    assertion.MethodBVR,
		Person: assertion.Person{
			GivenName:  "Айгерим",
			FamilyName: "Сапарова",
			MiddleName: "Нурлановна",
			BirthDate:  time.Date(1990, 5, 15, 0, 0, 0, 0, time.UTC),
			IIN:        "900515400123",
		},
		Evidence: assertion.Evidence{
			PolicyVersion: "2025-01",
			Model:         "dlib_face_recognition_resnet_model_v1",
			Checks:        assertion.Checks{Passive: true, ActiveChallenges: true, Injection: true},
			Challenges:    []string{"turn_left", "blink"},
		},
	}
}

// Leaks decodes an assertion's payload as anyone holding the token can (the
// applicant's browser posts it to the CA) and lists what in it could serve
// as a score: the path of every number other than the JWT times (iat, nbf,
// exp), and of every key that names a score or a threshold. An assertion
// vidid issues must give none.
func Leaks(token string) ([]string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a compact JWS: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				p := path + "." + k
				if l := strings.ToLower(k); strings.Contains(l, "score") || strings.Contains(l, "threshold") {
					out = append(out, p)
				}
				walk(p, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case float64:
			if path != ".iat" && path != ".nbf" && path != ".exp" {
				out = append(out, path)
			}
		}
	}
	walk("", v)
	sort.Strings(out)
	return out, nil
}
