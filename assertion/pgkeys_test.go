package assertion_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/assertion"
	"vidid/assertion/assertiontest"
	"vidid/internal/pgtest"
)

var testKEK = bytes.Repeat([]byte{0x42}, 32)

func newPGKeys(t *testing.T, pool *pgxpool.Pool, cfg assertion.PGKeysConfig, clock assertion.Clock) *assertion.PGKeys {
	t.Helper()
	if cfg.KEK == nil {
		cfg.KEK = testKEK
	}
	k, err := assertion.NewPGKeys(pool, cfg, clock)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func kids(t *testing.T, k *assertion.PGKeys) []string {
	t.Helper()
	set, err := k.PublicKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, key := range set.Keys {
		if !key.IsPublic() {
			t.Fatalf("key %s in the JWKS is not public", key.KeyID)
		}
		out = append(out, key.KeyID)
	}
	slices.Sort(out)
	return out
}

func signerKID(t *testing.T, k *assertion.PGKeys) string {
	t.Helper()
	s, err := k.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.KID
}

func TestPGKeysEnsureKeyConcurrent(t *testing.T) {
	pool := pgtest.New(t)
	clock := assertiontest.NewClock(t0)
	const replicas = 6
	var (
		wg      sync.WaitGroup
		created = make([]bool, replicas)
		got     = make([]string, replicas)
		errs    = make([]error, replicas)
	)
	for i := range replicas {
		k := newPGKeys(t, pool, assertion.PGKeysConfig{}, clock)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, created[i], errs[i] = k.EnsureKey(context.Background())
			if errs[i] == nil {
				s, err := k.SigningKey(context.Background())
				got[i], errs[i] = s.KID, err
			}
		}()
	}
	wg.Wait()
	n := 0
	for i := range replicas {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		if created[i] {
			n++
		}
		if got[i] != got[0] {
			t.Fatalf("replicas sign with different keys: %v", got)
		}
	}
	if n != 1 {
		t.Fatalf("%d replicas created a key, want 1", n)
	}
	var rows int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM assertion_keys`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("%d key rows (%v), want 1", rows, err)
	}
}

func TestPGKeysNoKey(t *testing.T) {
	k := newPGKeys(t, pgtest.New(t), assertion.PGKeysConfig{}, assertiontest.NewClock(t0))
	if _, err := k.SigningKey(context.Background()); !errors.Is(err, assertion.ErrNoSigningKey) {
		t.Fatalf("want ErrNoSigningKey, got %v", err)
	}
	b, err := k.JWKS(context.Background())
	if err != nil || string(b) != `{"keys":[]}` {
		t.Fatalf("empty jwks: %s %v", b, err)
	}
}

// TestPGKeysRotation walks a key through its life on two replicas sharing
// the table: published before it signs, signing after the publish delay,
// the old key verifiable until its last token has expired plus grace.
func TestPGKeysRotation(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	clock := assertiontest.NewClock(t0)
	cfg := assertion.PGKeysConfig{PublishDelay: 2 * time.Minute, Refresh: 30 * time.Second, Grace: 10 * time.Minute}
	a := newPGKeys(t, pool, cfg, clock) // replica A rotates
	b := newPGKeys(t, pool, cfg, clock) // replica B only signs and serves the JWKS
	oldKID, _, err := a.EnsureKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	issA := mustIssuer(t, assertion.IssuerConfig{}, a, clock)
	issB := mustIssuer(t, assertion.IssuerConfig{}, b, clock)
	if got := signerKID(t, b); got != oldKID {
		t.Fatalf("replica B signs with %s, want %s", got, oldKID)
	}

	clock.Advance(time.Hour)
	if got := signerKID(t, b); got != oldKID { // B reads the table now, before the rotation
		t.Fatalf("replica B signs with %s", got)
	}
	newKID, err := a.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rotatedAt := clock.Now()

	// Before the publish delay: A still signs with the old key but already
	// publishes both; B learns of the new key within Refresh.
	if got := signerKID(t, a); got != oldKID {
		t.Fatalf("signer right after rotate: %s, want the old key", got)
	}
	if got, want := kids(t, a), sorted(oldKID, newKID); !slices.Equal(got, want) {
		t.Fatalf("jwks after rotate: %v, want %v", got, want)
	}
	tokOld := issue(t, issB, assertiontest.SampleClaims()) // B has not seen the new key yet
	clock.Advance(cfg.Refresh)
	if got, want := kids(t, b), sorted(oldKID, newKID); !slices.Equal(got, want) {
		t.Fatalf("replica B's jwks after refresh: %v, want %v", got, want)
	}
	if got := signerKID(t, b); got != oldKID {
		t.Fatalf("B signs with the new key before it activates")
	}

	// At activation both replicas switch.
	clock.Set(rotatedAt.Add(cfg.PublishDelay))
	if a, b := signerKID(t, a), signerKID(t, b); a != newKID || b != newKID {
		t.Fatalf("after the publish delay A signs with %s, B with %s; want %s", a, b, newKID)
	}
	tokNew := issue(t, issA, assertiontest.SampleClaims())

	// A CA verifying through B's key source accepts both tokens.
	v := mustVerifier(t, assertion.VerifierConfig{}, b, assertiontest.NewTokens(), clock)
	clock.Advance(30 * time.Second) // tokOld is 3 min old: still inside its 5 min
	for name, tok := range map[string]string{"old key": tokOld, "new key": tokNew} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("%s token: %v", name, err)
		}
	}

	// The old key stays published until retirement + MaxLifetime + Grace.
	retired := rotatedAt.Add(cfg.PublishDelay)
	clock.Set(retired.Add(assertion.MaxLifetime + cfg.Grace - time.Second))
	if got := kids(t, b); !slices.Contains(got, oldKID) {
		t.Fatalf("old key withdrawn early: %v", got)
	}
	clock.Set(retired.Add(assertion.MaxLifetime + cfg.Grace))
	if got := kids(t, b); !slices.Equal(got, []string{newKID}) {
		t.Fatalf("jwks after the old key's retention: %v, want only %s", got, newKID)
	}
	n, err := a.Prune(ctx)
	if err != nil || n != 1 {
		t.Fatalf("prune removed %d keys (%v), want 1", n, err)
	}
	if got := signerKID(t, a); got != newKID {
		t.Fatalf("signer after prune: %s", got)
	}
}

func TestPGKeysRotateIfOlder(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	clock := assertiontest.NewClock(t0)
	k := newPGKeys(t, pool, assertion.PGKeysConfig{}, clock)
	first, rotated, err := k.RotateIfOlder(ctx, 24*time.Hour)
	if err != nil || !rotated || first == "" {
		t.Fatalf("empty table: kid %q rotated %v err %v", first, rotated, err)
	}
	if got := signerKID(t, k); got != first {
		t.Fatalf("first key does not sign at once: %s", got)
	}
	clock.Advance(23 * time.Hour)
	if _, rotated, err := k.RotateIfOlder(ctx, 24*time.Hour); err != nil || rotated {
		t.Fatalf("young key rotated (%v)", err)
	}
	clock.Advance(time.Hour)
	// Several replicas on their timer at once: one rotation.
	var wg sync.WaitGroup
	var mu sync.Mutex
	count := 0
	for range 4 {
		r := newPGKeys(t, pool, assertion.PGKeysConfig{}, clock)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, rotated, err := r.RotateIfOlder(ctx, 24*time.Hour)
			if err != nil {
				t.Error(err)
			}
			if rotated {
				mu.Lock()
				count++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if count != 1 {
		t.Fatalf("%d replicas rotated, want 1", count)
	}
}

func TestPGKeysAtRest(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	clock := assertiontest.NewClock(t0)
	k := newPGKeys(t, pool, assertion.PGKeysConfig{Algorithm: assertion.ES256}, clock)
	kid, _, err := k.EnsureKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := k.SigningKey(ctx)
	if err != nil || s.Algorithm != assertion.ES256 {
		t.Fatalf("signing key %v %v", s.Algorithm, err)
	}

	t.Run("row holds no private key in clear", func(t *testing.T) {
		var pub, sealed []byte
		if err := pool.QueryRow(ctx, `SELECT public_jwk::text, private_key FROM assertion_keys WHERE kid = $1`, kid).Scan(&pub, &sealed); err != nil {
			t.Fatal(err)
		}
		var jwk map[string]any
		if err := json.Unmarshal(pub, &jwk); err != nil {
			t.Fatal(err)
		}
		if _, ok := jwk["d"]; ok {
			t.Fatal("public_jwk has the private scalar")
		}
		privJSON, err := json.Marshal(jose.JSONWebKey{Key: s.Key, KeyID: kid})
		if err != nil {
			t.Fatal(err)
		}
		var priv map[string]any
		if err := json.Unmarshal(privJSON, &priv); err != nil {
			t.Fatal(err)
		}
		d, err := base64.RawURLEncoding.DecodeString(priv["d"].(string))
		if err != nil || len(d) != 32 {
			t.Fatalf("private scalar: %v", err)
		}
		if bytes.Contains(sealed, d) {
			t.Fatal("sealed key contains the private scalar")
		}
	})

	t.Run("another KEK cannot sign but JWKS still serves", func(t *testing.T) {
		other := newPGKeys(t, pool, assertion.PGKeysConfig{KEK: bytes.Repeat([]byte{1}, 32)}, clock)
		if _, err := other.SigningKey(ctx); !errors.Is(err, assertion.ErrWrongKEK) {
			t.Fatalf("want ErrWrongKEK, got %v", err)
		}
		if got := kids(t, other); !slices.Equal(got, []string{kid}) {
			t.Fatalf("jwks %v", got)
		}
	})

	t.Run("sealed key moved to another row does not open", func(t *testing.T) {
		clock.Advance(time.Hour)
		newKID, err := k.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `UPDATE assertion_keys SET private_key = (SELECT private_key FROM assertion_keys WHERE kid = $1) WHERE kid = $2`, kid, newKID); err != nil {
			t.Fatal(err)
		}
		clock.Advance(3 * time.Minute)
		fresh := newPGKeys(t, pool, assertion.PGKeysConfig{}, clock)
		if _, err := fresh.SigningKey(ctx); !errors.Is(err, assertion.ErrWrongKEK) {
			t.Fatalf("want ErrWrongKEK for a swapped row, got %v", err)
		}
	})
}

func TestNewPGKeysConfig(t *testing.T) {
	pool := pgtest.New(t)
	for name, cfg := range map[string]assertion.PGKeysConfig{
		"short kek":       {KEK: make([]byte, 16)},
		"RS256":           {KEK: testKEK, Algorithm: jose.RS256},
		"grace too short": {KEK: testKEK, Refresh: time.Minute, Grace: time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := assertion.NewPGKeys(pool, cfg, nil); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}
