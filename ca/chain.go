package ca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/assertion"
)

// CA certificate lifetimes.
const (
	rootValidity    = 20 // years
	issuingValidity = 10 // years
)

// chain is the CA's certificate chain and the issuing key. The root key
// stays sealed in the database: it is only needed to certify a new
// issuing CA, which this reference CA never does on its own.
type chain struct {
	root, issuing       *x509.Certificate
	rootPEM, issuingPEM []byte
	issuingKey          crypto.Signer
	createdAt           time.Time
}

func chainAAD(caID, role string) []byte { return []byte("vidid/ca_chains/v1/" + caID + "/" + role) }

// loadOrCreateChain returns the chain stored for cfg.ID, creating it first
// if there is none. Two processes starting at once may both generate a
// chain; INSERT … ON CONFLICT DO NOTHING keeps the first, and both then
// read that one back.
func loadOrCreateChain(ctx context.Context, pool *pgxpool.Pool, cfg Config, kek *assertion.KEK, now time.Time) (ch *chain, created bool, err error) {
	ch, err = loadChain(ctx, pool, cfg.ID, kek)
	if err == nil || !isNoRows(err) {
		return ch, false, err
	}
	rootPEM, rootKey, issuingPEM, issuingKey, err := newChain(cfg, now)
	if err != nil {
		return nil, false, err
	}
	sealedRoot, err := kek.Seal(rootKey, chainAAD(cfg.ID, "root"))
	if err != nil {
		return nil, false, err
	}
	sealedIssuing, err := kek.Seal(issuingKey, chainAAD(cfg.ID, "issuing"))
	if err != nil {
		return nil, false, err
	}
	tag, err := pool.Exec(ctx, `INSERT INTO ca_chains (ca_id, root_pem, root_key, issuing_pem, issuing_key, kek_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (ca_id) DO NOTHING`,
		cfg.ID, string(rootPEM), sealedRoot, string(issuingPEM), sealedIssuing, kek.ID(), now)
	if err != nil {
		return nil, false, fmt.Errorf("store CA chain: %w", err)
	}
	ch, err = loadChain(ctx, pool, cfg.ID, kek)
	return ch, err == nil && tag.RowsAffected() == 1, err
}

func loadChain(ctx context.Context, pool *pgxpool.Pool, caID string, kek *assertion.KEK) (*chain, error) {
	var rootPEM, issuingPEM, kekID string
	var sealed []byte
	var createdAt time.Time
	err := pool.QueryRow(ctx, `SELECT root_pem, issuing_pem, issuing_key, kek_id, created_at FROM ca_chains WHERE ca_id = $1`, caID).
		Scan(&rootPEM, &issuingPEM, &sealed, &kekID, &createdAt)
	if err != nil {
		return nil, err
	}
	if kekID != kek.ID() {
		return nil, fmt.Errorf("CA %s: %w: its keys are sealed under kek %s, the configured kek is %s", caID, assertion.ErrWrongKEK, kekID, kek.ID())
	}
	der, err := kek.Open(sealed, chainAAD(caID, "issuing"))
	if err != nil {
		return nil, fmt.Errorf("CA %s: issuing key: %w", caID, err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("CA %s: %w: issuing key: %v", caID, ErrChainInvalid, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("CA %s: %w: issuing key of type %T", caID, ErrChainInvalid, k)
	}
	root, err := parseCertPEM([]byte(rootPEM))
	if err != nil {
		return nil, fmt.Errorf("CA %s: %w: root: %v", caID, ErrChainInvalid, err)
	}
	issuing, err := parseCertPEM([]byte(issuingPEM))
	if err != nil {
		return nil, fmt.Errorf("CA %s: %w: issuing: %v", caID, ErrChainInvalid, err)
	}
	if err := issuing.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("CA %s: %w: issuing certificate not signed by the root: %v", caID, ErrChainInvalid, err)
	}
	if pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(issuing.PublicKey) {
		return nil, fmt.Errorf("CA %s: %w: issuing key does not match the issuing certificate", caID, ErrChainInvalid)
	}
	return &chain{root: root, issuing: issuing, rootPEM: []byte(rootPEM), issuingPEM: []byte(issuingPEM), issuingKey: signer, createdAt: createdAt}, nil
}

// newChain makes a root and an issuing CA, both ECDSA P-384, and returns
// their certificates (PEM) and private keys (PKCS#8 DER).
func newChain(cfg Config, now time.Time) (rootPEM, rootKey, issuingPEM, issuingKey []byte, err error) {
	rk, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("generate root key: %w", err)
	}
	ik, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("generate issuing key: %w", err)
	}
	start := now.Add(-time.Hour).Truncate(time.Second)
	rootSerial, err := randomSerial()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	rootTmpl := &x509.Certificate{
		SerialNumber:          rootSerial,
		Subject:               pkix.Name{CommonName: cfg.RootName, Organization: []string{cfg.Organization}, Country: []string{"KZ"}},
		NotBefore:             start,
		NotAfter:              start.AddDate(rootValidity, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rk.Public(), rk)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("create root certificate: %w", err)
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	issuingSerial, err := randomSerial()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	issuingTmpl := &x509.Certificate{
		SerialNumber:          issuingSerial,
		Subject:               pkix.Name{CommonName: cfg.IssuingName, Organization: []string{cfg.Organization}, Country: []string{"KZ"}},
		NotBefore:             start,
		NotAfter:              start.AddDate(issuingValidity, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	issuingDER, err := x509.CreateCertificate(rand.Reader, issuingTmpl, root, ik.Public(), rk)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("create issuing certificate: %w", err)
	}
	if rootKey, err = x509.MarshalPKCS8PrivateKey(rk); err != nil {
		return nil, nil, nil, nil, err
	}
	if issuingKey, err = x509.MarshalPKCS8PrivateKey(ik); err != nil {
		return nil, nil, nil, nil, err
	}
	return certPEM(rootDER), rootKey, certPEM(issuingDER), issuingKey, nil
}

// randomSerial returns a random positive serial of up to 128 bits.
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("serial: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func parseCertPEM(b []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("not a PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}
