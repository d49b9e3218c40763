package assertion_test

import (
	"context"
	"testing"

	"vidid/assertion"
	"vidid/assertion/assertiontest"
	"vidid/internal/pgtest"
)

func BenchmarkIssue(b *testing.B) {
	for _, alg := range []string{"EdDSA", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			keys := mustKeys(b, alg)
			iss := mustIssuer(b, assertion.IssuerConfig{}, keys, nil)
			c := assertiontest.SampleClaims()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := iss.Issue(ctx, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheck is Verify without the database round trip.
func BenchmarkCheck(b *testing.B) {
	for _, alg := range []string{"EdDSA", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			keys := mustKeys(b, alg)
			tok := issue(b, mustIssuer(b, assertion.IssuerConfig{}, keys, nil), assertiontest.SampleClaims())
			v := mustVerifier(b, assertion.VerifierConfig{}, keys, nil, nil)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Check(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify includes the one-time use in PostgreSQL.
func BenchmarkVerify(b *testing.B) {
	pool := pgtest.New(b)
	keys := mustKeys(b, "EdDSA")
	iss := mustIssuer(b, assertion.IssuerConfig{}, keys, nil)
	v := mustVerifier(b, assertion.VerifierConfig{}, keys, assertion.NewPGTokens(pool), nil)
	ctx := context.Background()
	toks := make([]string, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		if len(toks) == 0 {
			b.StopTimer()
			for range cap(toks) {
				toks = append(toks, issue(b, iss, assertiontest.SampleClaims()))
			}
			b.StartTimer()
		}
		tok := toks[len(toks)-1]
		toks = toks[:len(toks)-1]
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
