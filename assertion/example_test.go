package assertion_test

import (
	"context"
	"errors"
	"fmt"

	"vidid/assertion"
	"vidid/assertion/assertiontest"
)

// Example issues an assertion for a matched applicant and verifies it as
// the CA does. In production the keys are assertion.PGKeys, the CA finds
// them with assertion.RemoteKeys at vidid's JWKS URL, and used tokens are
// recorded with assertion.PGTokens.
func Example() {
	ctx := context.Background()
	keys, err := assertiontest.NewKeys(assertion.EdDSA)
	if err != nil {
		panic(err)
	}
	issuer, err := assertion.NewIssuer(assertion.IssuerConfig{
		Issuer:   "https://vidid.example.kz",
		Audience: "vidid-demo-ca",
	}, keys, nil)
	if err != nil {
		panic(err)
	}
	token, _, err := issuer.Issue(ctx, assertion.Claims{
		SessionID: "5b0e6a4c-2f7d-4e8a-9c1b-3d5f7a9e1c2b",
		Txn:       "attempt-17",
		Method:    assertion.MethodBVR,
		Person:    assertiontest.SampleClaims().Person,
		Evidence:  assertion.Evidence{PolicyVersion: "2025-01", Model: "dlib-resnet-v1"},
	})
	if err != nil {
		panic(err)
	}

	verifier, err := assertion.NewVerifier(assertion.VerifierConfig{
		Issuer:   "https://vidid.example.kz",
		Audience: "vidid-demo-ca",
	}, keys, assertiontest.NewTokens(), nil)
	if err != nil {
		panic(err)
	}
	v, err := verifier.Verify(ctx, token)
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Claims.Person.FamilyName, v.Claims.Person.GivenName, v.Claims.Subject, v.Claims.Method)
	fmt.Println("policy:", v.Validate())

	_, err = verifier.Verify(ctx, token)
	fmt.Println("second use refused:", errors.Is(err, assertion.ErrReplayed))
	// Output:
	// Сапарова Айгерим 900515400123 bvr
	// policy: <nil>
	// second use refused: true
}
