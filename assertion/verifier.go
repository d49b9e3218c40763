package assertion

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"vidid/idnum"
)

// MaxTokenBytes bounds the size of a token the verifier will parse.
const MaxTokenBytes = 8 << 10

// DefaultLeeway is the clock skew allowed on exp, nbf and iat.
const DefaultLeeway = time.Minute

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// Issuer is the expected "iss" (vidid's issuer URL).
	Issuer string
	// Audience is this consumer's id, which "aud" must contain.
	Audience string
	// Algorithms is the allow-list; default DefaultAlgorithms (EdDSA, ES256).
	// "none" and HMAC algorithms are never allowed.
	Algorithms []jose.SignatureAlgorithm
	// Leeway is the clock skew allowed on exp, nbf and iat; default 1 min.
	Leeway time.Duration
	// MaxLifetime bounds exp − iat; default (and at most) MaxLifetime.
	MaxLifetime time.Duration
	// Policy is the list of validators returned with every verified
	// assertion; nil means DefaultPolicy(). Pass an empty non-nil slice for none.
	Policy []Validator
}

// TokenUser records that an assertion was used, atomically: UseToken
// returns ErrReplayed when the jti was recorded before. PGTokens is the
// shared implementation.
type TokenUser interface {
	UseToken(ctx context.Context, u TokenUse) error
}

// TokenUse is one consumption of an assertion.
type TokenUse struct {
	JTI      string
	Subject  string
	Audience string
	Expiry   time.Time
	UsedAt   time.Time // zero: the database's now()
}

// Verified is an assertion that passed verification.
type Verified struct {
	Claims    Claims
	KeyID     string
	Algorithm jose.SignatureAlgorithm
	// Audience is the audience it was verified for (the consumer's id).
	Audience string
	// Validators are the policy checks the consumer must run on the
	// claims before acting on them (Validate runs them all), in the manner
	// of step-ca's sign options.
	Validators []Validator
}

// Validate runs every policy validator, returning the first refusal
// (wrapping ErrPolicy).
func (v *Verified) Validate() error {
	for _, val := range v.Validators {
		if err := val.Validate(&v.Claims); err != nil {
			return err
		}
	}
	return nil
}

// Use is the TokenUse that consumes v.
func (v *Verified) Use(at time.Time) TokenUse {
	return TokenUse{JTI: v.Claims.ID, Subject: v.Claims.Subject, Audience: v.Audience, Expiry: v.Claims.Expiry, UsedAt: at}
}

// Verifier checks assertions in a fixed order, as step-ca checks its
// tokens: parse → key by kid → signature → iss, aud, exp, nbf, iat (with
// leeway) and lifetime → one-time use (Verify only) → policy validators,
// returned as a list. Each failure wraps its own sentinel error.
type Verifier struct {
	cfg    VerifierConfig
	keys   KeySource
	tokens TokenUser
	clock  Clock
}

// NewVerifier checks cfg and returns a Verifier. tokens may be nil for a
// verifier that only Checks (Verify then fails); clock may be nil.
func NewVerifier(cfg VerifierConfig, keys KeySource, tokens TokenUser, clock Clock) (*Verifier, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, fmt.Errorf("assertion verifier: Issuer and Audience are required")
	}
	if keys == nil {
		return nil, fmt.Errorf("assertion verifier: no key source")
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = DefaultAlgorithms
	}
	for _, a := range cfg.Algorithms {
		if a != EdDSA && a != ES256 {
			return nil, fmt.Errorf("assertion verifier: algorithm %q is not supported (EdDSA, ES256)", a)
		}
	}
	cfg.Algorithms = slices.Clone(cfg.Algorithms)
	switch {
	case cfg.Leeway == 0:
		cfg.Leeway = DefaultLeeway
	case cfg.Leeway < 0 || cfg.Leeway > 5*time.Minute:
		return nil, fmt.Errorf("assertion verifier: leeway %s outside 0–5 min", cfg.Leeway)
	}
	switch {
	case cfg.MaxLifetime == 0:
		cfg.MaxLifetime = MaxLifetime
	case cfg.MaxLifetime < 0 || cfg.MaxLifetime > MaxLifetime:
		return nil, fmt.Errorf("assertion verifier: max lifetime %s outside 0–%s", cfg.MaxLifetime, MaxLifetime)
	}
	if cfg.Policy == nil {
		cfg.Policy = DefaultPolicy()
	}
	return &Verifier{cfg: cfg, keys: keys, tokens: tokens, clock: orSystem(clock)}, nil
}

// Audience returns the audience this verifier accepts.
func (v *Verifier) Audience() string { return v.cfg.Audience }

// Now returns the verifier's clock reading.
func (v *Verifier) Now() time.Time { return v.clock.Now() }

// Verify checks token and consumes it (UseToken): a second Verify of the
// same token fails with ErrReplayed, whichever replica runs it.
func (v *Verifier) Verify(ctx context.Context, token string) (*Verified, error) {
	if v.tokens == nil {
		return nil, fmt.Errorf("verify assertion: this verifier has no token store (use Check)")
	}
	ver, err := v.check(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := v.tokens.UseToken(ctx, ver.Use(v.clock.Now())); err != nil {
		return nil, fmt.Errorf("verify assertion: %w", err)
	}
	return ver, nil
}

// Check does everything Verify does except consuming the token: for a page
// that shows the applicant what they are about to enrol, before the step
// that consumes it.
func (v *Verifier) Check(ctx context.Context, token string) (*Verified, error) {
	return v.check(ctx, token)
}

// header is what the verifier reads from the protected header before
// handing the token to go-jose (which checks alg against the allow-list
// again).
type header struct {
	Alg, Kid, Typ *string
	Crit          bool
}

// parseHeader reads the parameters by their exact names (encoding/json
// struct decoding would also match "ALG" or "Crit").
func parseHeader(raw []byte) (*header, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, errors.New("header is not a JSON object")
	}
	var h header
	for name, dst := range map[string]**string{"alg": &h.Alg, "kid": &h.Kid, "typ": &h.Typ} {
		v, ok := m[name]
		if !ok {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("header %s is not a string", name)
		}
		*dst = &s
	}
	_, h.Crit = m["crit"]
	return &h, nil
}

func (v *Verifier) check(ctx context.Context, token string) (*Verified, error) {
	// 1. Parse.
	h, jws, err := v.parse(token)
	if err != nil {
		return nil, err
	}
	alg := jose.SignatureAlgorithm(*h.Alg)

	// 2. Key by kid.
	key, err := v.keys.Key(ctx, *h.Kid)
	if err != nil {
		return nil, fmt.Errorf("verify assertion: %w", err)
	}

	// 3. Signature.
	if key.Algorithm != "" && key.Algorithm != string(alg) {
		return nil, fmt.Errorf("verify assertion: %w: key %s is for %s, the token says %s", ErrBadSignature, key.KeyID, key.Algorithm, alg)
	}
	if !algFits(alg, key.Key) {
		return nil, fmt.Errorf("verify assertion: %w: key %s cannot verify %s", ErrBadSignature, key.KeyID, alg)
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, fmt.Errorf("verify assertion: %w (kid %s)", ErrBadSignature, key.KeyID)
	}

	// 4. Claims.
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("verify assertion: %w: claims: %v", ErrMalformed, err)
	}
	if err := v.checkClaims(&c); err != nil {
		return nil, fmt.Errorf("verify assertion: %w", err)
	}
	return &Verified{Claims: c, KeyID: key.KeyID, Algorithm: alg, Audience: v.cfg.Audience, Validators: slices.Clone(v.cfg.Policy)}, nil
}

func (v *Verifier) parse(token string) (*header, *jose.JSONWebSignature, error) {
	malformed := func(format string, args ...any) error {
		return fmt.Errorf("verify assertion: %w: "+format, append([]any{ErrMalformed}, args...)...)
	}
	if len(token) > MaxTokenBytes {
		return nil, nil, malformed("%d bytes, the limit is %d", len(token), MaxTokenBytes)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, malformed("want JWS compact serialisation (3 dot-separated parts), got %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, nil, malformed("header is not base64url")
	}
	h, err := parseHeader(raw)
	if err != nil {
		return nil, nil, malformed("%v", err)
	}
	if h.Alg == nil {
		return nil, nil, malformed("header has no alg")
	}
	if !slices.Contains(v.cfg.Algorithms, jose.SignatureAlgorithm(*h.Alg)) {
		return nil, nil, fmt.Errorf("verify assertion: %w: %q (allowed: %v)", ErrAlgNotAllowed, safe(*h.Alg), v.cfg.Algorithms)
	}
	if h.Crit {
		return nil, nil, malformed("critical header parameters (crit) are not accepted")
	}
	if h.Typ == nil || !(strings.EqualFold(*h.Typ, Type) || strings.EqualFold(*h.Typ, "application/"+Type)) {
		return nil, nil, malformed("typ must be %q", Type)
	}
	if h.Kid == nil || *h.Kid == "" || len(*h.Kid) > 128 {
		return nil, nil, malformed("header has no usable kid")
	}
	if parts[1] == "" || parts[2] == "" {
		return nil, nil, malformed("empty payload or signature")
	}
	jws, err := jose.ParseSignedCompact(token, v.cfg.Algorithms)
	if err != nil {
		return nil, nil, malformed("%v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, nil, malformed("want exactly one signature")
	}
	return h, jws, nil
}

// checkClaims checks the registered claims in step-ca's order.
func (v *Verifier) checkClaims(c *Claims) error {
	switch {
	case c.Issuer == "", c.Subject == "", len(c.Audience) == 0, c.ID == "",
		c.IssuedAt.IsZero(), c.NotBefore.IsZero(), c.Expiry.IsZero():
		return fmt.Errorf("%w: iss, sub, aud, iat, nbf, exp and jti are all required", ErrMalformed)
	case !jtiPattern.MatchString(c.ID):
		return fmt.Errorf("%w: jti is not 16–128 base64url characters", ErrMalformed)
	}
	if c.Issuer != v.cfg.Issuer {
		return fmt.Errorf("%w: %q", ErrWrongIssuer, safe(c.Issuer))
	}
	if !c.HasAudience(v.cfg.Audience) {
		return fmt.Errorf("%w: want %q", ErrWrongAudience, v.cfg.Audience)
	}
	now := v.clock.Now()
	leeway := v.cfg.Leeway
	if now.After(c.Expiry.Add(leeway)) {
		return fmt.Errorf("%w: at %s", ErrExpired, c.Expiry.Format(time.RFC3339))
	}
	if now.Add(leeway).Before(c.NotBefore) {
		return fmt.Errorf("%w: nbf %s", ErrNotYetValid, c.NotBefore.Format(time.RFC3339))
	}
	if now.Add(leeway).Before(c.IssuedAt) {
		return fmt.Errorf("%w: issued in the future (iat %s)", ErrNotYetValid, c.IssuedAt.Format(time.RFC3339))
	}
	if !c.Expiry.After(c.IssuedAt) || c.NotBefore.After(c.Expiry) {
		return fmt.Errorf("%w: exp must follow iat and nbf", ErrMalformed)
	}
	if life := c.Expiry.Sub(c.IssuedAt); life > v.cfg.MaxLifetime {
		return fmt.Errorf("%w: %s, the limit is %s", ErrLifetimeTooLong, life, v.cfg.MaxLifetime)
	}
	return nil
}

// safe shortens and sanitises an attacker-chosen string for an error message.
func safe(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// Validator is one policy check on verified claims. Failures wrap ErrPolicy.
type Validator interface {
	Validate(c *Claims) error
}

// ValidatorFunc adapts a function to Validator.
type ValidatorFunc func(c *Claims) error

// Validate calls f.
func (f ValidatorFunc) Validate(c *Claims) error { return f(c) }

// DefaultPolicy is the policy of a vidid assertion consumer: the kz_eds
// trust framework, the subject a valid IIN equal to the person's, a known
// check method (a moderator decision naming the moderator), the person
// named, and a session id.
func DefaultPolicy() []Validator {
	return []Validator{
		RequireTrustFramework(TrustFramework),
		RequireSubjectIIN(),
		RequireMethods(MethodBVR, MethodPVR),
		RequirePerson(),
	}
}

// RequireTrustFramework refuses claims under another trust framework.
func RequireTrustFramework(tf string) Validator {
	return ValidatorFunc(func(c *Claims) error {
		if c.TrustFramework != tf {
			return fmt.Errorf("%w: trust framework %q, want %q", ErrPolicy, safe(c.TrustFramework), tf)
		}
		return nil
	})
}

// RequireSubjectIIN refuses a subject that is not a valid IIN or differs
// from verified_claims.claims.iin.
func RequireSubjectIIN() Validator {
	return ValidatorFunc(func(c *Claims) error {
		if err := idnum.ValidateIIN(c.Subject); err != nil {
			return fmt.Errorf("%w: sub: %w", ErrPolicy, err)
		}
		if c.Person.IIN != c.Subject {
			return fmt.Errorf("%w: sub and verified_claims.claims.iin differ", ErrPolicy)
		}
		return nil
	})
}

// RequireMethods refuses check methods outside ms; a pvr decision must
// name its moderator.
func RequireMethods(ms ...CheckMethod) Validator {
	return ValidatorFunc(func(c *Claims) error {
		if !slices.Contains(ms, c.Method) {
			return fmt.Errorf("%w: check method %q not accepted", ErrPolicy, safe(string(c.Method)))
		}
		if c.Method == MethodPVR && c.Evidence.ModeratorID == "" {
			return fmt.Errorf("%w: a moderator decision without a moderator id", ErrPolicy)
		}
		return nil
	})
}

// RequirePerson refuses claims without family and given name or without a
// session id.
func RequirePerson() Validator {
	return ValidatorFunc(func(c *Claims) error {
		if strings.TrimSpace(c.Person.FamilyName) == "" || strings.TrimSpace(c.Person.GivenName) == "" {
			return fmt.Errorf("%w: the person's family and given names are required", ErrPolicy)
		}
		if c.SessionID == "" {
			return fmt.Errorf("%w: no verification session id", ErrPolicy)
		}
		return nil
	})
}

// IsVerificationError reports whether err is one of the verification
// failures (the token's fault), as opposed to an infrastructure error.
func IsVerificationError(err error) bool {
	for _, s := range []error{ErrMalformed, ErrAlgNotAllowed, ErrUnknownKey, ErrBadSignature, ErrWrongIssuer,
		ErrWrongAudience, ErrExpired, ErrNotYetValid, ErrLifetimeTooLong, ErrReplayed, ErrPolicy} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
