// Package catest builds what tests of the CA and its HTTP server share: a
// vidid assertion issuer with its JWKS served over HTTP, and a CA that finds
// the issuer's keys through that JWKS, both on one test database.
package catest

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/assertion"
	"vidid/assertion/assertiontest"
	"vidid/ca"
)

// The issuer and the CA id the fixtures use.
const (
	Issuer = "https://vidid.example.kz"
	CAID   = "vidid-demo-ca"
)

// Vidid is the issuing side: signing keys in Postgres, an issuer for
// audience CAID and the URL of its JWKS.
type Vidid struct {
	Keys   *assertion.PGKeys
	Issuer *assertion.Issuer
	JWKS   string
}

// NewVidid sets up the issuing side on pool with clock.
func NewVidid(t testing.TB, pool *pgxpool.Pool, clock *assertiontest.Clock) *Vidid {
	t.Helper()
	keys, err := assertion.NewPGKeys(pool, assertion.PGKeysConfig{KEK: bytes.Repeat([]byte{1}, 32)}, clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := keys.EnsureKey(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(assertion.JWKSHandler(keys, nil))
	t.Cleanup(srv.Close)
	issuer, err := assertion.NewIssuer(assertion.IssuerConfig{Issuer: Issuer, Audience: CAID}, keys, clock)
	if err != nil {
		t.Fatal(err)
	}
	return &Vidid{Keys: keys, Issuer: issuer, JWKS: srv.URL}
}

// Token issues an assertion from assertiontest.SampleClaims, changed by
// change.
func (v *Vidid) Token(t testing.TB, change ...func(*assertion.Claims)) string {
	t.Helper()
	c := assertiontest.SampleClaims()
	for _, ch := range change {
		ch(&c)
	}
	tok, _, err := v.Issuer.Issue(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Authority opens the CA CAID on pool with kek, verifying assertions
// against the JWKS at jwks.
func Authority(pool *pgxpool.Pool, jwks string, clock *assertiontest.Clock, kek []byte) (*ca.Authority, error) {
	remote, err := assertion.NewRemoteKeys(assertion.RemoteKeysConfig{URL: jwks}, clock)
	if err != nil {
		return nil, err
	}
	v, err := assertion.NewVerifier(assertion.VerifierConfig{Issuer: Issuer, Audience: CAID}, remote, assertion.NewPGTokens(pool), clock)
	if err != nil {
		return nil, err
	}
	return ca.New(context.Background(), ca.Config{ID: CAID, KEK: kek}, pool, v, clock, slog.New(slog.DiscardHandler))
}
