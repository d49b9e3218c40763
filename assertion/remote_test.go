package assertion_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"vidid/assertion"
	"vidid/assertion/assertiontest"
)

// jwksServer serves a mutable key set and counts requests.
type jwksServer struct {
	mu     sync.Mutex
	set    jose.JSONWebKeySet
	status int
	body   string // served instead of the set when non-empty
	hits   atomic.Int32
}

func (s *jwksServer) JWKS(context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != 0 {
		return nil, errors.New("down")
	}
	if s.body != "" {
		return []byte(s.body), nil
	}
	return json.Marshal(s.set)
}

func (s *jwksServer) add(k jose.JSONWebKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set.Keys = append(s.set.Keys, k)
}

func (s *jwksServer) fail(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = 0
	if on {
		s.status = 500
	}
}

func startJWKS(t *testing.T, keys ...assertion.SigningKey) (*jwksServer, string) {
	t.Helper()
	s := &jwksServer{}
	for _, k := range keys {
		s.add(k.PublicJWK())
	}
	h := assertion.JWKSHandler(s, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return s, srv.URL + "/.well-known/jwks.json"
}

func TestRemoteKeys(t *testing.T) {
	ctx := context.Background()
	k1 := mustKeys(t, "EdDSA").Signer()
	k2 := mustKeys(t, "ES256").Signer()
	srv, url := startJWKS(t, k1)
	clock := assertiontest.NewClock(t0)
	r, err := assertion.NewRemoteKeys(assertion.RemoteKeysConfig{URL: url, TTL: 5 * time.Minute, MinRefetch: 30 * time.Second}, clock)
	if err != nil {
		t.Fatal(err)
	}
	step := func(name string, kid string, wantErr error, wantHits int32) {
		t.Helper()
		key, err := r.Key(ctx, kid)
		if wantErr == nil && (err != nil || key.KeyID != kid || !key.IsPublic()) {
			t.Fatalf("%s: key %q public=%v err %v", name, key.KeyID, key.IsPublic(), err)
		}
		if wantErr != nil && !errors.Is(err, wantErr) {
			t.Fatalf("%s: want %v, got %v", name, wantErr, err)
		}
		if got := srv.hits.Load(); got != wantHits {
			t.Fatalf("%s: %d fetches, want %d", name, got, wantHits)
		}
	}
	step("first lookup fetches", k1.KID, nil, 1)
	step("cached", k1.KID, nil, 1)
	step("unknown kid right after a fetch: no fetch", "nope", assertion.ErrUnknownKey, 1)
	clock.Advance(30 * time.Second)
	step("unknown kid refetches", "nope", assertion.ErrUnknownKey, 2)
	step("unknown kid again within MinRefetch: no fetch", "nope", assertion.ErrUnknownKey, 2)

	srv.add(k2.PublicJWK()) // the issuer rotates
	step("new kid within MinRefetch is not fetched yet", k2.KID, assertion.ErrUnknownKey, 2)
	clock.Advance(30 * time.Second)
	step("new kid after MinRefetch", k2.KID, nil, 3)

	clock.Advance(5 * time.Minute)
	srv.fail(true)
	step("TTL passed, issuer down: stale set still serves", k1.KID, nil, 4)
	step("failed fetch is not retried at once", k1.KID, nil, 4)
	clock.Advance(30 * time.Second)
	srv.fail(false)
	step("retried after MinRefetch", k1.KID, nil, 5)
}

func TestRemoteKeysUnavailable(t *testing.T) {
	for name, body := range map[string]string{
		"down":            "",
		"not json":        "<html>",
		"symmetric key":   `{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0"}]}`,
		"key without kid": `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`,
		"oversized":       `{"keys":[],"pad":"` + strings.Repeat("x", 2<<20) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv, url := startJWKS(t)
			if name == "down" {
				srv.fail(true)
			} else {
				srv.body = body
			}
			r, err := assertion.NewRemoteKeys(assertion.RemoteKeysConfig{URL: url}, assertiontest.NewClock(t0))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Key(context.Background(), "k"); !errors.Is(err, assertion.ErrKeysUnavailable) {
				t.Fatalf("want ErrKeysUnavailable, got %v", err)
			}
		})
	}
}

// TestVerifyThroughJWKS: the whole path a CA uses, an issuer's key served
// over HTTP and verified with RemoteKeys.
func TestVerifyThroughJWKS(t *testing.T) {
	keys := mustKeys(t, "EdDSA")
	_, url := startJWKS(t, keys.Signer())
	clock := assertiontest.NewClock(t0)
	rk, err := assertion.NewRemoteKeys(assertion.RemoteKeysConfig{URL: url}, clock)
	if err != nil {
		t.Fatal(err)
	}
	tok := issue(t, mustIssuer(t, assertion.IssuerConfig{}, keys, clock), assertiontest.SampleClaims())
	v := mustVerifier(t, assertion.VerifierConfig{}, rk, assertiontest.NewTokens(), clock)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
}

func TestJWKSHandler(t *testing.T) {
	keys := mustKeys(t, "EdDSA")
	srv, url := startJWKS(t, keys.Signer())
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/jwk-set+json" || resp.Header.Get("Cache-Control") == "" {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || len(set.Keys) != 1 || !set.Keys[0].IsPublic() {
		t.Fatalf("set %+v %v", set, err)
	}
	srv.fail(true)
	resp2, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("keys down: status %d", resp2.StatusCode)
	}
	resp3, err := http.Post(url, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp3.Body.Close()
	if resp3.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: status %d", resp3.StatusCode)
	}
}
