package assertion

import "errors"

// Sentinel errors. Every failure of Check and Verify wraps exactly one of
// the verification errors below (test with errors.Is), so a consumer can map
// each to its own response; the wrapping message adds detail that is safe
// to log (never the token or the full IIN).
var (
	// ErrMalformed: not a JWS compact serialisation of an assertion (wrong
	// shape or encoding, oversized, unexpected "typ", a "crit" header, a
	// missing or ill-formed claim).
	ErrMalformed = errors.New("malformed assertion")
	// ErrAlgNotAllowed: the header names an algorithm outside the verifier's
	// allow-list, including "none".
	ErrAlgNotAllowed = errors.New("assertion algorithm not allowed")
	// ErrUnknownKey: no published key has the header's "kid".
	ErrUnknownKey = errors.New("assertion signed by an unknown key")
	// ErrBadSignature: the signature does not verify with the key named by "kid".
	ErrBadSignature = errors.New("assertion signature invalid")
	// ErrWrongIssuer: "iss" is not the expected issuer.
	ErrWrongIssuer = errors.New("assertion from an unexpected issuer")
	// ErrWrongAudience: "aud" does not name this consumer.
	ErrWrongAudience = errors.New("assertion meant for another audience")
	// ErrExpired: "exp" (plus leeway) has passed.
	ErrExpired = errors.New("assertion expired")
	// ErrNotYetValid: "nbf" or "iat" (minus leeway) is still in the future.
	ErrNotYetValid = errors.New("assertion not yet valid")
	// ErrLifetimeTooLong: "exp" lies more than the maximum lifetime after "iat".
	ErrLifetimeTooLong = errors.New("assertion lifetime too long")
	// ErrReplayed: the assertion ("jti") was already used.
	ErrReplayed = errors.New("assertion already used")
	// ErrPolicy: a policy validator refused the verified claims (trust
	// framework, check method, subject).
	ErrPolicy = errors.New("assertion refused by policy")
	// ErrKeysUnavailable: the verification keys could not be fetched (JWKS
	// endpoint down or returning garbage) and none are cached.
	ErrKeysUnavailable = errors.New("assertion verification keys unavailable")
)

// Errors of the issuing side and of key storage.
var (
	// ErrInvalidClaims: Issue was given claims it must not sign (bad IIN,
	// missing session id or names, unknown check method, …).
	ErrInvalidClaims = errors.New("invalid assertion claims")
	// ErrNoSigningKey: the key store holds no key that may sign now.
	ErrNoSigningKey = errors.New("no active assertion signing key")
	// ErrBadKEK: the key-encryption key is not 32 bytes.
	ErrBadKEK = errors.New("key-encryption key must be 32 bytes")
	// ErrWrongKEK: sealed data does not open under the configured
	// key-encryption key (another key, or the data was altered).
	ErrWrongKEK = errors.New("sealed key does not open with this key-encryption key")
)
