// Package ca is the reference certificate authority that consumes vidid's
// identity assertions, standing in for the national CA: it verifies an
// assertion, generates (or accepts a request for) the applicant's key and
// issues a signing certificate naming the person the register knows.
//
// # Chain
//
// On first start New creates a root CA ("vidid Demo Root CA") and an
// issuing CA ("vidid Demo Issuing CA"), both ECDSA P-384, C=KZ, and stores
// them in PostgreSQL (table ca_chains, one row per CA id). Postgres rather
// than files under var/ca: the CA already needs the database (the
// single-use register of assertions and the record of issued
// certificates); a row inserted with ON CONFLICT DO NOTHING makes creation
// idempotent and safe when two CA processes start at once, on one host or
// several, where files would need locking and would not be shared; and
// backups cover keys and records together. The private keys are PKCS#8
// sealed with AES-256-GCM under a 32-byte key-encryption key (KEK) from
// the configuration, as assertion signing keys are (assertion.KEK), with
// the CA id and role as additional data; a different KEK is reported as
// assertion.ErrWrongKEK, never silently replaced by a new chain. Only the
// issuing key is opened at start; the root key stays sealed (a production
// root would be offline).
//
// # Enrolment
//
// Enroll and EnrollCSR run Check (the assertion verifier with signature via
// the JWKS, audience = this CA's id, expiry, then the policy validators,
// and a look-up that reports an already-used assertion early), then build
// the certificate, and only then consume the assertion: UseTokenTx and the
// ca_certificates row are written in one transaction, so a certificate is
// recorded if and only if its assertion is consumed, and a concurrent second
// use of the same assertion loses on the jti primary key
// (assertion.ErrReplayed). ca_certificates.assertion_jti is unique as a
// second guard.
//
// Certificates: subject CN "SURNAME GIVENNAME", SN, GN (upper case, as the
// national CA writes them), SERIALNUMBER "IIN"+iin, C=KZ — all from the
// assertion, never from a request; key usage digitalSignature +
// contentCommitment (non-repudiation); extended key usage emailProtection
// and clientAuth; one year; a random 128-bit serial; subject and authority
// key identifiers.
//
// Keys the CA generates are RSA-2048: every consumer of PKCS#12 files and
// signing certificates (Windows and macOS key stores, Java, Adobe, older
// S/MIME clients, the NCALayer-style tooling applicants already use) takes
// RSA, while ECDSA support is still uneven there; key generation costs
// about 0.1–0.3 s, which an enrolment affords. The key store is a
// go-pkcs12 Modern file (PBES2, PBKDF2-HMAC-SHA-256, AES-256-CBC, HMAC-SHA-256
// MAC; readable by OpenSSL ≥ 1.1.1) with DefaultP12Iterations rounds instead
// of 2048, because the applicant's password is all that protects the key.
// The private key is never stored. Requests (EnrollCSR) may carry RSA
// 2048–4096 or ECDSA P-256/P-384 keys.
//
// Password rules (CheckPassword): at least 8 characters, at most 128 bytes,
// printable, not one repeated character or a straight run, not containing
// the IIN; a refusal is ErrWeakPassword with a *PasswordError naming the
// rule.
package ca
