package assertion_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"vidid/assertion"
	"vidid/assertion/assertiontest"
	"vidid/internal/pgtest"
)

type verifyEnv struct {
	clock  *assertiontest.Clock
	keys   *assertiontest.Keys // EdDSA: the verifier's key source
	issuer *assertion.Issuer   // signs with keys, iss testIssuer, aud testAudience
}

func TestVerify(t *testing.T) {
	stores := []struct {
		name   string
		tokens func(t *testing.T) assertion.TokenUser
	}{
		{"memory", func(*testing.T) assertion.TokenUser { return assertiontest.NewTokens() }},
		{"postgres", func(t *testing.T) assertion.TokenUser { return assertion.NewPGTokens(pgtest.New(t)) }},
	}
	cases := []struct {
		name  string
		token func(t *testing.T, e *verifyEnv) string
		cfg   func(c *assertion.VerifierConfig)
		at    time.Duration // when Verify runs, after t0
		twice bool          // verify twice and check the second result
		want  error
	}{
		{name: "valid", want: nil},
		{name: "valid at the end of the leeway", at: 5*time.Minute + 59*time.Second, want: nil},
		{name: "valid a little before iat (clock skew)", at: -59 * time.Second, want: nil},
		{name: "replayed", twice: true, want: assertion.ErrReplayed},
		{name: "expired", at: 6*time.Minute + time.Second, want: assertion.ErrExpired},
		{name: "not yet valid", at: -2 * time.Minute, want: assertion.ErrNotYetValid},
		{name: "wrong audience", cfg: func(c *assertion.VerifierConfig) { c.Audience = "another-ca" }, want: assertion.ErrWrongAudience},
		{name: "wrong issuer", cfg: func(c *assertion.VerifierConfig) { c.Issuer = "https://evil.example" }, want: assertion.ErrWrongIssuer},
		{
			name: "tampered payload",
			token: func(t *testing.T, e *verifyEnv) string {
				parts := strings.Split(issue(t, e.issuer, assertiontest.SampleClaims()), ".")
				payload, err := base64.RawURLEncoding.DecodeString(parts[1])
				if err != nil {
					t.Fatal(err)
				}
				changed := strings.Replace(string(payload), `"family_name":"Сапарова"`, `"family_name":"Иванова"`, 1)
				if changed == string(payload) {
					t.Fatal("tamper: family name not found in payload")
				}
				return parts[0] + "." + b64([]byte(changed)) + "." + parts[2]
			},
			want: assertion.ErrBadSignature,
		},
		{
			name: "alg none",
			token: func(t *testing.T, e *verifyEnv) string {
				return craft(t, header("none", e.keys.Signer().KID), claimsMap(t, t0), nil)
			},
			want: assertion.ErrAlgNotAllowed,
		},
		{
			name: "alg none spelt None",
			token: func(t *testing.T, e *verifyEnv) string {
				return craft(t, header("None", e.keys.Signer().KID), claimsMap(t, t0), nil)
			},
			want: assertion.ErrAlgNotAllowed,
		},
		{
			name: "alg HS256 (key confusion)",
			token: func(t *testing.T, e *verifyEnv) string {
				return craft(t, header("HS256", e.keys.Signer().KID), claimsMap(t, t0), nil) + "c2ln"
			},
			want: assertion.ErrAlgNotAllowed,
		},
		{
			name: "ES256 when only EdDSA is allowed",
			token: func(t *testing.T, e *verifyEnv) string {
				k := mustKeys(t, "ES256").Signer()
				return craft(t, header("ES256", k.KID), claimsMap(t, t0), &k)
			},
			cfg:  func(c *assertion.VerifierConfig) { c.Algorithms = []jose.SignatureAlgorithm{assertion.EdDSA} },
			want: assertion.ErrAlgNotAllowed,
		},
		{
			name: "unknown kid",
			token: func(t *testing.T, e *verifyEnv) string {
				k := mustKeys(t, "EdDSA").Signer()
				return craft(t, header("EdDSA", k.KID), claimsMap(t, t0), &k)
			},
			want: assertion.ErrUnknownKey,
		},
		{
			name: "wrong key under the right kid",
			token: func(t *testing.T, e *verifyEnv) string {
				k := mustKeys(t, "EdDSA").Signer()
				return craft(t, header("EdDSA", e.keys.Signer().KID), claimsMap(t, t0), &k)
			},
			want: assertion.ErrBadSignature,
		},
		{
			name: "ES256 header on an EdDSA kid",
			token: func(t *testing.T, e *verifyEnv) string {
				k := mustKeys(t, "ES256").Signer()
				return craft(t, header("ES256", e.keys.Signer().KID), claimsMap(t, t0), &k)
			},
			want: assertion.ErrBadSignature,
		},
		{
			name: "lifetime too long",
			token: func(t *testing.T, e *verifyEnv) string {
				m := claimsMap(t, t0)
				m["exp"] = t0.Add(time.Hour).Unix()
				k := e.keys.Signer()
				return craft(t, header("EdDSA", k.KID), m, &k)
			},
			want: assertion.ErrLifetimeTooLong,
		},
		{
			name: "crit header",
			token: func(t *testing.T, e *verifyEnv) string {
				h := header("EdDSA", e.keys.Signer().KID)
				h["crit"] = []string{"exp"}
				h["exp"] = 1
				k := e.keys.Signer()
				return craft(t, h, claimsMap(t, t0), &k)
			},
			want: assertion.ErrMalformed,
		},
		{
			name: "untyped JWT",
			token: func(t *testing.T, e *verifyEnv) string {
				h := header("EdDSA", e.keys.Signer().KID)
				h["typ"] = "JWT"
				k := e.keys.Signer()
				return craft(t, h, claimsMap(t, t0), &k)
			},
			want: assertion.ErrMalformed,
		},
		{
			name: "JSON serialisation instead of compact",
			token: func(t *testing.T, e *verifyEnv) string {
				parts := strings.Split(issue(t, e.issuer, assertiontest.SampleClaims()), ".")
				b, _ := json.Marshal(map[string]string{"protected": parts[0], "payload": parts[1], "signature": parts[2]})
				return string(b)
			},
			want: assertion.ErrMalformed,
		},
		{
			name:  "empty",
			token: func(*testing.T, *verifyEnv) string { return "" },
			want:  assertion.ErrMalformed,
		},
		{
			name: "missing jti",
			token: func(t *testing.T, e *verifyEnv) string {
				m := claimsMap(t, t0)
				delete(m, "jti")
				k := e.keys.Signer()
				return craft(t, header("EdDSA", k.KID), m, &k)
			},
			want: assertion.ErrMalformed,
		},
		{
			name: "signed garbage payload",
			token: func(t *testing.T, e *verifyEnv) string {
				k := e.keys.Signer()
				return craft(t, header("EdDSA", k.KID), []byte("not json"), &k)
			},
			want: assertion.ErrMalformed,
		},
		{
			name: "audience list naming this CA among others",
			token: func(t *testing.T, e *verifyEnv) string {
				m := claimsMap(t, t0)
				m["aud"] = []string{"someone-else", testAudience}
				k := e.keys.Signer()
				return craft(t, header("EdDSA", k.KID), m, &k)
			},
			want: nil,
		},
	}

	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			tokens := st.tokens(t)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					clock := assertiontest.NewClock(t0)
					keys := mustKeys(t, "EdDSA")
					e := &verifyEnv{clock: clock, keys: keys, issuer: mustIssuer(t, assertion.IssuerConfig{}, keys, clock)}
					token := ""
					if tc.token != nil {
						token = tc.token(t, e)
					} else {
						token = issue(t, e.issuer, assertiontest.SampleClaims())
					}
					cfg := assertion.VerifierConfig{Issuer: testIssuer, Audience: testAudience}
					if tc.cfg != nil {
						tc.cfg(&cfg)
					}
					v := mustVerifier(t, cfg, keys, tokens, clock)
					clock.Set(t0.Add(tc.at))
					ctx := context.Background()
					got, err := v.Verify(ctx, token)
					if tc.twice {
						if err != nil {
							t.Fatalf("first verify: %v", err)
						}
						got, err = v.Verify(ctx, token)
					}
					assertOnly(t, err, tc.want)
					if tc.want != nil {
						if got != nil {
							t.Fatal("a rejected token still returned claims")
						}
						return
					}
					if u := got.Use(t0); u.Audience != testAudience || u.JTI != got.Claims.ID {
						t.Fatalf("consumption records audience %q jti %q", u.Audience, u.JTI)
					}
					if got.Claims.Subject != "900515400123" || got.Claims.Person.FamilyName != "Сапарова" || got.KeyID != keys.Signer().KID {
						t.Fatalf("verified claims: sub %q family %q kid %q", got.Claims.Subject, got.Claims.Person.FamilyName, got.KeyID)
					}
					if err := got.Validate(); err != nil {
						t.Fatalf("default policy refused a valid assertion: %v", err)
					}
				})
			}
		})
	}
}

// TestCheckDoesNotConsume: Check leaves the token usable; Verify then uses it once.
func TestCheckDoesNotConsume(t *testing.T) {
	clock := assertiontest.NewClock(t0)
	keys := mustKeys(t, "EdDSA")
	tok := issue(t, mustIssuer(t, assertion.IssuerConfig{}, keys, clock), assertiontest.SampleClaims())
	v := mustVerifier(t, assertion.VerifierConfig{}, keys, assertiontest.NewTokens(), clock)
	ctx := context.Background()
	for i := range 3 {
		if _, err := v.Check(ctx, tok); err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
	}
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("verify after checks: %v", err)
	}
	_, err := v.Check(ctx, tok) // Check does not consult the register of used tokens
	assertOnly(t, err, nil)
	_, err = v.Verify(ctx, tok)
	assertOnly(t, err, assertion.ErrReplayed)
}

func TestVerifyES256(t *testing.T) {
	clock := assertiontest.NewClock(t0)
	keys := mustKeys(t, "ES256")
	tok := issue(t, mustIssuer(t, assertion.IssuerConfig{}, keys, clock), assertiontest.SampleClaims())
	if !strings.HasPrefix(tok, b64([]byte(`{"alg":"ES256"`))) {
		t.Fatalf("header: %s", strings.Split(tok, ".")[0])
	}
	got, err := mustVerifier(t, assertion.VerifierConfig{}, keys, assertiontest.NewTokens(), clock).Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Algorithm != assertion.ES256 {
		t.Fatalf("algorithm %s", got.Algorithm)
	}
}

func TestPolicy(t *testing.T) {
	keys := mustKeys(t, "EdDSA")
	k := keys.Signer()
	cases := []struct {
		name   string
		change func(m map[string]any)
		want   error
	}{
		{"default claims pass", func(map[string]any) {}, nil},
		{"other trust framework", func(m map[string]any) { verification(m)["trust_framework"] = "eidas" }, assertion.ErrPolicy},
		{"unknown check method", func(m map[string]any) { checkDetail(m)["check_method"] = "vcrypt" }, assertion.ErrPolicy},
		{"pvr without moderator", func(m map[string]any) { checkDetail(m)["check_method"] = "pvr" }, assertion.ErrPolicy},
		{"pvr with moderator", func(m map[string]any) {
			checkDetail(m)["check_method"] = "pvr"
			m["vidid_evidence"].(map[string]any)["moderator_id"] = "mod-7"
		}, nil},
		{"sub not an IIN", func(m map[string]any) { m["sub"] = "123" }, assertion.ErrPolicy},
		{"sub differs from claims.iin", func(m map[string]any) { m["sub"] = "851102303454" }, assertion.ErrPolicy},
		{"no family name", func(m map[string]any) { personOf(m)["family_name"] = " " }, assertion.ErrPolicy},
		{"no session", func(m map[string]any) { delete(m, "sid") }, assertion.ErrPolicy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := assertiontest.NewClock(t0)
			m := claimsMap(t, t0)
			tc.change(m)
			v := mustVerifier(t, assertion.VerifierConfig{}, keys, assertiontest.NewTokens(), clock)
			got, err := v.Verify(context.Background(), craft(t, header("EdDSA", k.KID), m, &k))
			if err != nil {
				t.Fatalf("verify (policy is the consumer's step): %v", err)
			}
			if len(got.Validators) == 0 {
				t.Fatal("no validators returned")
			}
			assertOnly(t, got.Validate(), tc.want)
		})
	}
}

func verification(m map[string]any) map[string]any {
	return m["verified_claims"].(map[string]any)["verification"].(map[string]any)
}

func checkDetail(m map[string]any) map[string]any {
	ev := verification(m)["evidence"].([]any)[0].(map[string]any)
	return ev["check_details"].([]any)[0].(map[string]any)
}

func personOf(m map[string]any) map[string]any {
	return m["verified_claims"].(map[string]any)["claims"].(map[string]any)
}

// TestVerifyConcurrentReplay: 50 goroutines present the same token to
// Postgres-backed verifiers (as 50 CA requests would); exactly one wins.
func TestVerifyConcurrentReplay(t *testing.T) {
	pool := pgtest.New(t)
	clock := assertiontest.NewClock(t0)
	keys := mustKeys(t, "EdDSA")
	tok := issue(t, mustIssuer(t, assertion.IssuerConfig{}, keys, clock), assertiontest.SampleClaims())
	const n = 50
	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		errs     = make([]error, n)
		verifier = mustVerifier(t, assertion.VerifierConfig{}, keys, assertion.NewPGTokens(pool), clock)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = verifier.Verify(context.Background(), tok)
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, assertion.ErrReplayed):
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d verifications succeeded, want exactly 1", ok, n)
	}
	var rows int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM assertion_jti`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Fatalf("assertion_jti has %d rows, want 1", rows)
	}
}

func TestPGTokensPurge(t *testing.T) {
	pool := pgtest.New(t)
	tokens := assertion.NewPGTokens(pool)
	ctx := context.Background()
	for i, exp := range []time.Time{t0.Add(-time.Hour), t0.Add(-time.Minute), t0.Add(time.Minute)} {
		u := assertion.TokenUse{JTI: strings.Repeat(string(rune('a'+i)), 22), Subject: "900515400123", Audience: testAudience, Expiry: exp, UsedAt: t0}
		if err := tokens.UseToken(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	n, err := tokens.Purge(ctx, t0.Add(-2*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("purge: %d rows, %v; want 1", n, err)
	}
	// The purged token is past exp, so the verifier refuses it before it
	// could be replayed; the live ones are still recorded.
	err = tokens.UseToken(ctx, assertion.TokenUse{JTI: strings.Repeat("c", 22), Expiry: t0.Add(time.Minute)})
	assertOnly(t, err, assertion.ErrReplayed)
}

func TestNewVerifierConfig(t *testing.T) {
	keys := mustKeys(t, "EdDSA")
	cases := []struct {
		name string
		cfg  assertion.VerifierConfig
	}{
		{"no issuer", assertion.VerifierConfig{Audience: "a"}},
		{"no audience", assertion.VerifierConfig{Issuer: testIssuer}},
		{"HS256 allowed", assertion.VerifierConfig{Issuer: testIssuer, Audience: "a", Algorithms: []jose.SignatureAlgorithm{jose.HS256}}},
		{"none allowed", assertion.VerifierConfig{Issuer: testIssuer, Audience: "a", Algorithms: []jose.SignatureAlgorithm{"none"}}},
		{"lifetime above the cap", assertion.VerifierConfig{Issuer: testIssuer, Audience: "a", MaxLifetime: time.Hour}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := assertion.NewVerifier(tc.cfg, keys, nil, nil); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	v := mustVerifier(t, assertion.VerifierConfig{}, keys, nil, nil)
	if _, err := v.Verify(context.Background(), "x"); err == nil || !strings.Contains(err.Error(), "no token store") {
		t.Fatalf("verify without a token store: %v", err)
	}
}

// FuzzVerify feeds arbitrary strings to the verifier: it must never panic,
// never accept a token it did not see signed, and classify every rejection
// under one of its sentinels.
func FuzzVerify(f *testing.F) {
	clock := assertiontest.NewClock(t0)
	keys := mustKeys(f, "EdDSA")
	iss := mustIssuer(f, assertion.IssuerConfig{}, keys, clock)
	valid := issue(f, iss, assertiontest.SampleClaims())
	k := keys.Signer()
	f.Add(valid)
	f.Add(craft(f, header("none", k.KID), claimsMap(f, t0), nil))
	f.Add(craft(f, header("EdDSA", k.KID), []byte("{}"), &k))
	f.Add(craft(f, map[string]any{"alg": "EdDSA"}, []byte("{}"), &k))
	f.Add("a.b.c")
	f.Add("..")
	f.Add("eyJhbGciOiJFZERTQSJ9..")
	f.Add(strings.Repeat("A", 9000))
	parts := strings.Split(valid, ".")
	f.Fuzz(func(t *testing.T, token string) {
		v := mustVerifier(t, assertion.VerifierConfig{}, keys, assertiontest.NewTokens(), clock)
		got, err := v.Verify(context.Background(), token)
		if err == nil {
			// Only the issued token itself (maybe with a re-encoded but
			// equivalent signature part, which base64 decoding tolerates
			// in its final bits) may verify.
			p := strings.Split(token, ".")
			if len(p) != 3 || p[0] != parts[0] || p[1] != parts[1] || got == nil {
				t.Fatalf("accepted a token that was never issued: %q", token)
			}
			return
		}
		matched := false
		for _, s := range verificationErrors {
			if errors.Is(err, s) {
				matched = true
			}
		}
		if !matched {
			t.Fatalf("unclassified error %v", err)
		}
	})
}
