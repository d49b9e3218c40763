package assertion

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// IssuerConfig configures an Issuer.
type IssuerConfig struct {
	// Issuer is vidid's issuer URL ("iss"), e.g. https://vidid.example.kz.
	Issuer string
	// Audience is the default "aud": the CA's id. Claims.Audience overrides it.
	Audience string
	// Lifetime is exp − iat; default and maximum MaxLifetime (5 min).
	Lifetime time.Duration
}

// Issuer signs identity assertions with the key store's current key.
type Issuer struct {
	cfg   IssuerConfig
	keys  KeyStore
	clock Clock

	mu      sync.Mutex
	signers map[string]jose.Signer // by kid; keys never change under a kid
}

// NewIssuer checks cfg and returns an Issuer. clock may be nil (system clock).
func NewIssuer(cfg IssuerConfig, keys KeyStore, clock Clock) (*Issuer, error) {
	if u, err := url.Parse(cfg.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("assertion issuer: Issuer must be an http(s) URL, got %q", cfg.Issuer)
	}
	if cfg.Audience == "" {
		return nil, fmt.Errorf("assertion issuer: Audience (the CA's id) is required")
	}
	switch {
	case cfg.Lifetime == 0:
		cfg.Lifetime = MaxLifetime
	case cfg.Lifetime < 0:
		return nil, fmt.Errorf("assertion issuer: negative lifetime %s", cfg.Lifetime)
	case cfg.Lifetime > MaxLifetime:
		return nil, fmt.Errorf("assertion issuer: %w: %s exceeds the %s cap", ErrLifetimeTooLong, cfg.Lifetime, MaxLifetime)
	case cfg.Lifetime < 10*time.Second:
		return nil, fmt.Errorf("assertion issuer: lifetime %s is too short to reach the CA", cfg.Lifetime)
	}
	if keys == nil {
		return nil, fmt.Errorf("assertion issuer: no key store")
	}
	return &Issuer{cfg: cfg, keys: keys, clock: orSystem(clock), signers: map[string]jose.Signer{}}, nil
}

// Issue signs c as a JWS compact token and returns it with its jti. It
// sets iss, iat, nbf (= iat), exp (iat + lifetime), jti (128 random bits),
// aud when c.Audience is empty, sub from the person's IIN when empty, txn
// from the jti when empty, the verification time from iat when zero, and the
// fixed trust framework and source. Claims it must not sign (a bad IIN,
// no session id or names, an unknown check method, a moderator decision
// without a moderator) are refused with ErrInvalidClaims.
func (i *Issuer) Issue(ctx context.Context, c Claims) (token string, jti string, err error) {
	now := i.clock.Now().UTC().Truncate(time.Second)
	jti, err = newJTI()
	if err != nil {
		return "", "", err
	}
	c.Issuer = i.cfg.Issuer
	if len(c.Audience) == 0 {
		c.Audience = []string{i.cfg.Audience}
	}
	if c.Subject == "" {
		c.Subject = c.Person.IIN
	}
	c.IssuedAt, c.NotBefore, c.Expiry, c.ID = now, now, now.Add(i.cfg.Lifetime), jti
	if c.Txn == "" {
		c.Txn = jti
	}
	if c.VerifiedAt.IsZero() {
		c.VerifiedAt = now
	}
	c.VerifiedAt = c.VerifiedAt.UTC().Truncate(time.Second)
	c.TrustFramework = TrustFramework
	if c.Source == "" {
		c.Source = DefaultSource
	}
	c.Person.FamilyName = strings.TrimSpace(c.Person.FamilyName)
	c.Person.GivenName = strings.TrimSpace(c.Person.GivenName)
	c.Person.MiddleName = strings.TrimSpace(c.Person.MiddleName)
	if err := c.checkIssuable(); err != nil {
		return "", "", err
	}

	key, err := i.keys.SigningKey(ctx)
	if err != nil {
		return "", "", fmt.Errorf("issue assertion: %w", err)
	}
	signer, err := i.signer(key)
	if err != nil {
		return "", "", err
	}
	payload, err := c.MarshalJSON()
	if err != nil {
		return "", "", fmt.Errorf("issue assertion: encode claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", "", fmt.Errorf("issue assertion: sign with %s: %w", key.KID, err)
	}
	token, err = jws.CompactSerialize()
	if err != nil {
		return "", "", fmt.Errorf("issue assertion: serialise: %w", err)
	}
	return token, jti, nil
}

func (i *Issuer) signer(k SigningKey) (jose.Signer, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if s, ok := i.signers[k.KID]; ok {
		return s, nil
	}
	if !algFits(k.Algorithm, k.Key) {
		return nil, fmt.Errorf("issue assertion: key %s does not fit algorithm %s", k.KID, k.Algorithm)
	}
	opts := (&jose.SignerOptions{}).WithType(Type).WithHeader(jose.HeaderKey("kid"), k.KID)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Algorithm, Key: k.Key}, opts)
	if err != nil {
		return nil, fmt.Errorf("issue assertion: signer for %s: %w", k.KID, err)
	}
	if len(i.signers) > 16 { // old kids after many rotations
		clear(i.signers)
	}
	i.signers[k.KID] = s
	return s, nil
}

// newJTI returns 128 random bits, base64url (22 characters).
func newJTI() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("jti: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
