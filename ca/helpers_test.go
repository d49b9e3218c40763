package ca_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/assertion"
	"vidid/assertion/assertiontest"
	"vidid/ca"
	"vidid/ca/catest"
	"vidid/internal/pgtest"
)

const (
	testIssuer = catest.Issuer
	testCA     = catest.CAID
)

var testKEK = bytes.Repeat([]byte{0x5a}, 32)

// fixture is a vidid issuer and a CA sharing one test database, the CA
// finding the issuer's keys through its JWKS over HTTP.
type fixture struct {
	pool   *pgxpool.Pool
	clock  *assertiontest.Clock
	keys   *assertion.PGKeys
	issuer *assertion.Issuer
	vidid  *catest.Vidid
	ca     *ca.Authority
	jwks   string // URL
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool := pgtest.New(t)
	// Real time: openssl checks validity against the wall clock.
	clock := assertiontest.NewClock(time.Now())
	v := catest.NewVidid(t, pool, clock)
	f := &fixture{pool: pool, clock: clock, keys: v.Keys, issuer: v.Issuer, vidid: v, jwks: v.JWKS}
	f.ca = f.newAuthority(t, pool, testKEK)
	return f
}

func (f *fixture) newAuthority(t *testing.T, pool *pgxpool.Pool, kek []byte) *ca.Authority {
	t.Helper()
	a, err := f.tryAuthority(pool, kek)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *fixture) tryAuthority(pool *pgxpool.Pool, kek []byte) (*ca.Authority, error) {
	return catest.Authority(pool, f.jwks, f.clock, kek)
}

func (f *fixture) token(t *testing.T, change ...func(*assertion.Claims)) string {
	t.Helper()
	return f.vidid.Token(t, change...)
}

func (f *fixture) countCerts(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM ca_certificates`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// openssl runs the system openssl and returns its standard output.
func openssl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("these tests need the openssl command (Debian package openssl): %v", err)
	}
	cmd := exec.Command(bin, args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return out.String(), &opensslError{err, stderr.String()}
	}
	return out.String(), nil
}

type opensslError struct {
	err    error
	stderr string
}

func (e *opensslError) Error() string { return e.err.Error() + ": " + e.stderr }

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// pemBlocks splits PEM text into its blocks.
func pemBlocks(b []byte) []*pem.Block {
	var out []*pem.Block
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return out
		}
		out = append(out, blk)
	}
}

func csrPEM(t *testing.T, key crypto.Signer, cn string) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn, SerialNumber: "IIN000000000000"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func assertionSample() assertion.Claims { return assertiontest.SampleClaims() }

// signClaims signs claims as-is (no checks) with the issuer's key.
func signClaims(t *testing.T, sk assertion.SigningKey, c assertion.Claims) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType(assertion.Type).WithHeader("kid", sk.KID)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: sk.Algorithm, Key: sk.Key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
