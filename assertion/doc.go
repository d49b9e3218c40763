// Package assertion issues and verifies vidid's signed identity
// assertions: the short-lived, single-use proof, handed to the certificate
// authority, that the applicant is the person the population register knows
// under an IIN.
//
// # Format
//
// A JWS in compact serialisation, header {"alg": "EdDSA" (or "ES256"),
// "kid", "typ": "vidid-assertion+jwt"}. Claims: iss (vidid's issuer URL),
// sub (the IIN), aud (the CA's id), iat, nbf = iat, exp ≤ iat + 5 min, jti
// (128 random bits), sid (verification session), txn, verified_claims shaped
// after OpenID Connect for Identity Assurance 1.0 (trust framework "kz_eds",
// one electronic_record evidence from the population register whose
// check_method is "bvr" for an automatic biometric match or "pvr" when a
// moderator decided) and vidid_evidence (decision policy version, embedder
// model, which liveness and injection checks ran, the challenges passed,
// moderator id; never a score: scores stay with the attempt txn names).
// Claims is the flat Go form; its MarshalJSON documents the wire shape.
//
// # Keys
//
// PGKeys keeps signing keys in PostgreSQL (assertion_keys) so replicas
// share them. Private keys are PKCS#8 sealed with AES-256-GCM under a
// 32-byte key-encryption key (KEK) that lives outside the database; the
// kid (the key's RFC 7638 thumbprint) is the additional data, and each row
// records which KEK sealed it so a wrong KEK is reported as such. A key's
// life: created and published in the JWKS at once; signs from activates_at
// (creation + PublishDelay, so relying parties that cache the JWKS fetch it
// before any token names it); retires when its successor activates; stays
// published for MaxLifetime + Grace after that, so every token it signed
// can still be verified. Rotate and EnsureKey take an advisory lock, so
// replicas may call them (or RotateIfOlder on a timer) concurrently. Each
// replica rereads the table every Refresh and picks the signer by its own
// clock, so all switch at the activation time. Ed25519 is the default:
// small, fast, deterministic signatures with no nonce to get wrong; ES256
// is supported for relying parties without EdDSA.
//
// # Verification
//
// Verifier follows step-ca's order: parse (compact form only, size-bounded;
// alg must be on the allow-list — "none" and HMAC never are; "crit" is
// refused; "typ" must be ours) → key by kid from a KeySource (RemoteKeys
// fetches the JWKS with caching and refetches on an unknown kid at most once
// per MinRefetch; StaticKeys; PGKeys) → signature → iss, aud, exp, nbf, iat
// with 1 min leeway and exp − iat ≤ 5 min → one-time use of the jti in
// PostgreSQL (INSERT … ON CONFLICT DO NOTHING; no row inserted is a replay)
// → the policy validators, returned as a list for the consumer to run (as
// step-ca's provisioners return sign options). Each failure wraps its own
// sentinel (ErrMalformed, ErrAlgNotAllowed, ErrUnknownKey, ErrBadSignature,
// ErrWrongIssuer, ErrWrongAudience, ErrExpired, ErrNotYetValid,
// ErrLifetimeTooLong, ErrReplayed; ErrPolicy from validators). go-jose
// parses and verifies signatures; the checks and their order are ours.
//
// Check is Verify without the one-time use, for a page that shows the
// applicant what they will enrol before the step that consumes the token.
// A consumer that records what it did with the assertion should consume it
// with UseTokenTx inside the same transaction, so either both are written
// or neither (the reference CA does).
package assertion
