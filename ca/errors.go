package ca

import "errors"

// Sentinel errors of the CA. Assertion failures come wrapped from package
// assertion (assertion.ErrReplayed, assertion.ErrExpired, …).
var (
	// ErrWeakPassword: the key-store password breaks the rules (see
	// CheckPassword); the wrapped *PasswordError says which.
	ErrWeakPassword = errors.New("key store password too weak")
	// ErrBadCSR: the certificate request is not one PEM-encoded PKCS#10
	// request, or its signature does not verify.
	ErrBadCSR = errors.New("bad certificate request")
	// ErrUnsupportedKey: the request's public key is of a type or size the
	// CA does not certify (RSA 2048–4096 and ECDSA P-256/P-384 only).
	ErrUnsupportedKey = errors.New("unsupported public key")
	// ErrChainInvalid: the stored CA chain is damaged or does not belong
	// together (an issuing key that does not match its certificate, …).
	ErrChainInvalid = errors.New("stored CA chain invalid")
	// ErrCAExpiring: the issuing CA expires before a new certificate would.
	ErrCAExpiring = errors.New("issuing CA expires too soon")
)
