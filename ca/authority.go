package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"vidid/assertion"
	"vidid/audit"
	"vidid/idnum"
)

// Defaults.
const (
	DefaultRootName     = "vidid Demo Root CA"
	DefaultIssuingName  = "vidid Demo Issuing CA"
	DefaultOrganization = "vidid Demo"
	// DefaultP12Iterations is the PBKDF2-HMAC-SHA-256 iteration count of the
	// key store: the applicant's password is all that protects the key, so
	// OWASP's 2023 figure for PBKDF2-HMAC-SHA-256 instead of go-pkcs12's
	// 2048. Encoding a key store then takes ≈0.43 s on one core here
	// (against 1.4 ms at 2048); opening it costs the applicant the same once.
	DefaultP12Iterations = 600_000
	// MaxCSRBytes bounds a PEM certificate request.
	MaxCSRBytes = 64 << 10
	// applicantRSABits is the size of keys the CA generates for key stores.
	applicantRSABits = 2048
)

// Method says how the applicant's key was made.
type Method string

const (
	MethodKeyStore Method = "keystore" // the CA generated the key and returned a PKCS#12
	MethodCSR      Method = "csr"      // the applicant sent a certificate request
)

// Config configures an Authority.
type Config struct {
	// ID is this CA's id: the audience its assertions must carry, and the
	// key of its chain in ca_chains.
	ID string
	// KEK is the 32-byte key-encryption key the CA's private keys are
	// sealed under (the same AES-256-GCM scheme as assertion keys).
	KEK []byte
	// Names of the CA certificates made on first start.
	RootName, IssuingName, Organization string
	// P12Iterations: see DefaultP12Iterations.
	P12Iterations int
	// Audit, when set, receives assertion_consumed and certificate_issued
	// records in the same transaction that records the certificate.
	Audit *audit.Log
}

// Authority is the reference CA: it turns a verified identity assertion
// into a certificate. Safe for concurrent use.
type Authority struct {
	cfg      Config
	pool     *pgxpool.Pool
	verifier *assertion.Verifier
	clock    assertion.Clock
	log      *slog.Logger
	chain    *chain
	p12      *pkcs12.Encoder
}

var caIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// New loads the CA chain for cfg.ID from the database, creating it on first
// start, and returns the Authority. verifier must accept assertions for
// cfg.ID (its audience); the Authority consumes them itself (see Enroll).
// clock may be nil.
func New(ctx context.Context, cfg Config, pool *pgxpool.Pool, verifier *assertion.Verifier, clock assertion.Clock, log *slog.Logger) (*Authority, error) {
	if !caIDPattern.MatchString(cfg.ID) {
		return nil, fmt.Errorf("ca: ID %q must be 1–128 characters of A-Z a-z 0-9 . _ : -", cfg.ID)
	}
	if verifier == nil || verifier.Audience() != cfg.ID {
		return nil, fmt.Errorf("ca: the verifier must accept the audience %q", cfg.ID)
	}
	if pool == nil {
		return nil, fmt.Errorf("ca: no database pool")
	}
	kek, err := assertion.NewKEK(cfg.KEK)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	cfg.KEK = nil
	if cfg.RootName == "" {
		cfg.RootName = DefaultRootName
	}
	if cfg.IssuingName == "" {
		cfg.IssuingName = DefaultIssuingName
	}
	if cfg.Organization == "" {
		cfg.Organization = DefaultOrganization
	}
	if cfg.P12Iterations == 0 {
		cfg.P12Iterations = DefaultP12Iterations
	}
	if cfg.P12Iterations < 2048 {
		return nil, fmt.Errorf("ca: P12Iterations %d is below 2048", cfg.P12Iterations)
	}
	if clock == nil {
		clock = assertion.SystemClock
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ch, created, err := loadOrCreateChain(ctx, pool, cfg, kek, clock.Now().UTC())
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	if created {
		log.InfoContext(ctx, "created CA chain", "ca", cfg.ID, "root", ch.root.Subject.CommonName, "issuing", ch.issuing.Subject.CommonName)
	}
	return &Authority{cfg: cfg, pool: pool, verifier: verifier, clock: clock, log: log, chain: ch,
		p12: pkcs12.Modern.WithIterations(cfg.P12Iterations)}, nil
}

// ID returns the CA's id.
func (a *Authority) ID() string { return a.cfg.ID }

// Root returns the root CA certificate.
func (a *Authority) Root() *x509.Certificate { return a.chain.root }

// Issuing returns the issuing CA certificate.
func (a *Authority) Issuing() *x509.Certificate { return a.chain.issuing }

// ChainPEM returns the issuing then the root CA certificate, PEM.
func (a *Authority) ChainPEM() []byte {
	return append(append([]byte(nil), a.chain.issuingPEM...), a.chain.rootPEM...)
}

// RootPEM returns the root CA certificate, PEM.
func (a *Authority) RootPEM() []byte { return append([]byte(nil), a.chain.rootPEM...) }

// Check verifies the assertion without consuming it and runs its policy
// validators; an assertion already used is reported (ErrReplayed) so the
// applicant learns it before choosing a password.
func (a *Authority) Check(ctx context.Context, token string) (*assertion.Verified, error) {
	ver, err := a.verifier.Check(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := ver.Validate(); err != nil {
		return nil, fmt.Errorf("verify assertion: %w", err)
	}
	var used bool
	if err := a.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM assertion_jti WHERE jti = $1)`, ver.Claims.ID).Scan(&used); err != nil {
		return nil, fmt.Errorf("look up assertion use: %w", err)
	}
	if used {
		return nil, fmt.Errorf("verify assertion: %w (jti %s)", assertion.ErrReplayed, ver.Claims.ID)
	}
	return ver, nil
}

// Enroll verifies the assertion, generates the applicant's key pair
// (RSA-2048), issues their certificate and returns both in a PKCS#12 key
// store encrypted under password, with the chain. The assertion is
// consumed in the same transaction that records the certificate: a failure
// anywhere leaves neither (the applicant may retry with the same
// assertion while it lasts), and a second Enroll with it fails with
// assertion.ErrReplayed. A password breaking the rules fails with
// ErrWeakPassword before anything is generated or consumed.
func (a *Authority) Enroll(ctx context.Context, token, password string) (p12 []byte, cert *x509.Certificate, err error) {
	ver, err := a.Check(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckPassword(password, ver.Claims.Subject); err != nil {
		return nil, nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, applicantRSABits)
	if err != nil {
		return nil, nil, fmt.Errorf("generate applicant key: %w", err)
	}
	cert, err = a.sign(ver, &key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	p12, err = a.p12.Encode(key, cert, []*x509.Certificate{a.chain.issuing, a.chain.root}, password)
	if err != nil {
		return nil, nil, fmt.Errorf("encode key store: %w", err)
	}
	if err := a.record(ctx, ver, cert, MethodKeyStore); err != nil {
		return nil, nil, err
	}
	return p12, cert, nil
}

// EnrollCSR verifies the assertion and certifies the public key of a PEM
// PKCS#10 request whose signature proves possession of the key. The subject
// comes from the assertion; whatever the request names is ignored. It
// returns the certificate and the issuing CA certificate, PEM. Bad
// requests fail with ErrBadCSR, unsupported keys with ErrUnsupportedKey;
// neither consumes the assertion.
func (a *Authority) EnrollCSR(ctx context.Context, token string, csrPEM []byte) (chainPEM []byte, cert *x509.Certificate, err error) {
	ver, err := a.Check(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	csr, err := ParseCSR(csrPEM)
	if err != nil {
		return nil, nil, err
	}
	cert, err = a.sign(ver, csr.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	if err := a.record(ctx, ver, cert, MethodCSR); err != nil {
		return nil, nil, err
	}
	return append(certPEM(cert.Raw), a.chain.issuingPEM...), cert, nil
}

// ParseCSR reads one PEM certificate request, checks its signature and its
// key (RSA 2048–4096 bits, ECDSA P-256 or P-384).
func ParseCSR(b []byte) (*x509.CertificateRequest, error) {
	if len(b) > MaxCSRBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBadCSR, MaxCSRBytes)
	}
	block, rest := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrBadCSR)
	}
	if block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST" {
		return nil, fmt.Errorf("%w: PEM block is %q, want CERTIFICATE REQUEST", ErrBadCSR, block.Type)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("%w: more than one PEM block", ErrBadCSR)
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCSR, err)
	}
	if err := checkKey(csr.PublicKey); err != nil {
		return nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: signature does not verify: %v", ErrBadCSR, err)
	}
	return csr, nil
}

func checkKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < 2048 || n > 4096 {
			return fmt.Errorf("%w: RSA key of %d bits (want 2048–4096)", ErrUnsupportedKey, n)
		}
		return nil
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() || k.Curve == elliptic.P384() {
			return nil
		}
		return fmt.Errorf("%w: ECDSA curve %s (want P-256 or P-384)", ErrUnsupportedKey, k.Curve.Params().Name)
	case nil:
		return fmt.Errorf("%w: the request's key algorithm is unknown", ErrUnsupportedKey)
	}
	return fmt.Errorf("%w: %T keys are not certified (want RSA or ECDSA)", ErrUnsupportedKey, pub)
}

// Attribute types of the subject (X.520).
var (
	oidSurname   = asn1.ObjectIdentifier{2, 5, 4, 4}
	oidGivenName = asn1.ObjectIdentifier{2, 5, 4, 42}
)

// Subject returns the certificate subject for a verified person, in the
// style of Kazakhstan's national CA: CN "SURNAME GIVENNAME", SN, GN,
// SERIALNUMBER "IIN" + iin, C KZ, names in upper case.
func Subject(p assertion.Person) pkix.Name {
	family := strings.ToUpper(strings.TrimSpace(p.FamilyName))
	given := strings.ToUpper(strings.TrimSpace(p.GivenName))
	return pkix.Name{
		Country:      []string{"KZ"},
		SerialNumber: "IIN" + p.IIN,
		CommonName:   family + " " + given,
		ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: oidSurname, Value: family},
			{Type: oidGivenName, Value: given},
		},
	}
}

// sign issues the end-entity certificate for ver's person and pub.
func (a *Authority) sign(ver *assertion.Verified, pub crypto.PublicKey) (*x509.Certificate, error) {
	c := ver.Claims
	if err := idnum.ValidateIIN(c.Subject); err != nil || c.Person.IIN != c.Subject {
		return nil, fmt.Errorf("sign: %w: subject is not the person's IIN", assertion.ErrPolicy)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	// Backdated a minute for relying parties whose clocks run slow.
	notBefore := a.clock.Now().UTC().Truncate(time.Second).Add(-time.Minute)
	notAfter := notBefore.AddDate(1, 0, 0)
	if notAfter.After(a.chain.issuing.NotAfter) {
		return nil, fmt.Errorf("sign: %w: it ends %s", ErrCAExpiring, a.chain.issuing.NotAfter.Format(time.DateOnly))
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               Subject(c.Person),
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
		SubjectKeyId:          ski,
		AuthorityKeyId:        a.chain.issuing.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.chain.issuing, pub, a.chain.issuingKey)
	if err != nil {
		return nil, fmt.Errorf("sign certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// subjectKeyID is RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("subject key id: %w", err)
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:], nil
}

// record consumes the assertion and stores the certificate, atomically.
func (a *Authority) record(ctx context.Context, ver *assertion.Verified, cert *x509.Certificate, m Method) error {
	now := a.clock.Now().UTC()
	err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		if err := assertion.UseTokenTx(ctx, tx, ver.Use(now)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO ca_certificates
			(serial, ca_id, iin, subject, not_before, not_after, assertion_jti, method, pem, issued_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			cert.SerialNumber.Text(16), a.cfg.ID, ver.Claims.Subject, cert.Subject.String(),
			cert.NotBefore, cert.NotAfter, ver.Claims.ID, string(m), string(certPEM(cert.Raw)), now)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "ca_certificates_assertion_jti_key" {
			// The jti register was purged, but a certificate for this
			// assertion exists: still a replay.
			return fmt.Errorf("%w (jti %s)", assertion.ErrReplayed, ver.Claims.ID)
		}
		if err != nil || a.cfg.Audit == nil {
			return err
		}
		// Audit records go last: Append serialises the chain until commit.
		if _, err := a.cfg.Audit.Append(ctx, tx, audit.Entry{Kind: audit.KindAssertionConsumed, SessionID: ver.Claims.SessionID,
			Subject: ver.Claims.Subject, Data: map[string]any{"jti": ver.Claims.ID, "ca": a.cfg.ID, "check_method": string(ver.Claims.Method)}}); err != nil {
			return err
		}
		_, err = a.cfg.Audit.Append(ctx, tx, audit.Entry{Kind: audit.KindCertificateIssued, SessionID: ver.Claims.SessionID,
			Subject: ver.Claims.Subject, Data: map[string]any{"serial": cert.SerialNumber.Text(16), "ca": a.cfg.ID, "method": string(m),
				"not_after": cert.NotAfter.UTC().Format(time.RFC3339)}})
		return err
	})
	if err != nil {
		if errors.Is(err, assertion.ErrReplayed) {
			return fmt.Errorf("enroll: %w", err)
		}
		return fmt.Errorf("record certificate: %w", err)
	}
	a.log.InfoContext(ctx, "certificate issued", "ca", a.cfg.ID, "serial", cert.SerialNumber.Text(16),
		"iin", idnum.MaskIIN(ver.Claims.Subject), "jti", ver.Claims.ID, "method", string(m),
		"check_method", string(ver.Claims.Method), "session", ver.Claims.SessionID)
	return nil
}

// Issued is one certificate the CA issued.
type Issued struct {
	Serial       string // hex
	IIN          string
	Subject      string
	NotBefore    time.Time
	NotAfter     time.Time
	AssertionJTI string
	Method       Method
	PEM          []byte
	IssuedAt     time.Time
}

// Certificates returns the certificates issued to iin, oldest first.
func (a *Authority) Certificates(ctx context.Context, iin string) ([]Issued, error) {
	if err := idnum.ValidateIIN(iin); err != nil {
		return nil, err
	}
	rows, err := a.pool.Query(ctx, `SELECT serial, iin, subject, not_before, not_after, assertion_jti, method, pem, issued_at
		FROM ca_certificates WHERE ca_id = $1 AND iin = $2 ORDER BY issued_at, serial`, a.cfg.ID, iin)
	if err != nil {
		return nil, fmt.Errorf("list certificates: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Issued, error) {
		var is Issued
		var m, p string
		err := r.Scan(&is.Serial, &is.IIN, &is.Subject, &is.NotBefore, &is.NotAfter, &is.AssertionJTI, &m, &p, &is.IssuedAt)
		is.Method, is.PEM = Method(m), []byte(p)
		return is, err
	})
	if err != nil {
		return nil, fmt.Errorf("list certificates: %w", err)
	}
	return out, nil
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
