package assertion

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// keysLockKey serialises EnsureKey/Rotate across replicas ("vidi" + "akey").
const keysLockKey int64 = 0x76696469_616b6579

// PGKeysConfig configures PGKeys.
type PGKeysConfig struct {
	// KEK is the 32-byte key-encryption key the private keys are sealed under.
	KEK []byte
	// Algorithm of keys made by EnsureKey and Rotate; default EdDSA.
	Algorithm jose.SignatureAlgorithm
	// PublishDelay is how long a rotated-in key is published in the JWKS
	// before it signs, so relying parties that cache the JWKS see it
	// first; default 2 min.
	PublishDelay time.Duration
	// Refresh is how long a replica reuses what it read from the table
	// before reading again; default 30 s. Keep it below PublishDelay so
	// every replica switches to a new key when it activates.
	Refresh time.Duration
	// Grace is how long a retired key stays in the JWKS beyond the longest
	// lifetime of a token it signed (MaxLifetime); default 10 min. It covers
	// verifier leeway and a replica still signing with a stale view, so it
	// must be at least Refresh + DefaultLeeway.
	Grace time.Duration
}

// PGKeys keeps the assertion signing keys in PostgreSQL (table
// assertion_keys), shared by every replica. See the package documentation
// for the lifecycle. Safe for concurrent use.
type PGKeys struct {
	pool  *pgxpool.Pool
	cfg   PGKeysConfig
	kek   *KEK
	clock Clock

	mu       sync.Mutex
	rows     []keyRow // by activates_at, kid
	loadedAt time.Time
	loaded   bool
	forcedAt time.Time                // last reread for an unknown kid
	privs    map[string]crypto.Signer // decrypted, by kid
}

// minForce spaces rereads triggered by unknown kids, which anyone can send.
const minForce = 5 * time.Second

var (
	_ KeyStore  = (*PGKeys)(nil)
	_ KeySource = (*PGKeys)(nil)
)

type keyRow struct {
	kid         string
	alg         jose.SignatureAlgorithm
	pub         jose.JSONWebKey
	sealed      []byte
	kekID       string
	createdAt   time.Time
	activatesAt time.Time
	retiresAt   *time.Time
}

// NewPGKeys checks cfg and returns a PGKeys on pool. It does not touch the
// database: call EnsureKey once at startup.
func NewPGKeys(pool *pgxpool.Pool, cfg PGKeysConfig, clock Clock) (*PGKeys, error) {
	kek, err := NewKEK(cfg.KEK)
	if err != nil {
		return nil, fmt.Errorf("assertion keys: %w", err)
	}
	cfg.KEK = nil // held by kek only
	if cfg.Algorithm == "" {
		cfg.Algorithm = EdDSA
	}
	if cfg.Algorithm != EdDSA && cfg.Algorithm != ES256 {
		return nil, fmt.Errorf("assertion keys: algorithm %q not supported (EdDSA, ES256)", cfg.Algorithm)
	}
	if cfg.PublishDelay == 0 {
		cfg.PublishDelay = 2 * time.Minute
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = 30 * time.Second
	}
	if cfg.Grace == 0 {
		cfg.Grace = 10 * time.Minute
	}
	if cfg.PublishDelay < 0 || cfg.Refresh < 0 {
		return nil, fmt.Errorf("assertion keys: negative publish delay or refresh")
	}
	if cfg.Grace < cfg.Refresh+DefaultLeeway {
		return nil, fmt.Errorf("assertion keys: grace %s must be at least refresh + leeway (%s)", cfg.Grace, cfg.Refresh+DefaultLeeway)
	}
	if pool == nil {
		return nil, fmt.Errorf("assertion keys: no database pool")
	}
	return &PGKeys{pool: pool, cfg: cfg, kek: kek, clock: orSystem(clock), privs: map[string]crypto.Signer{}}, nil
}

// retention is how long after retirement a key stays published.
func (k *PGKeys) retention() time.Duration { return MaxLifetime + k.cfg.Grace }

// EnsureKey makes the first signing key, active at once, when the table
// holds no key that signs now or will; otherwise it does nothing. Safe to
// call from every replica at startup: an advisory lock lets one create.
func (k *PGKeys) EnsureKey(ctx context.Context) (kid string, created bool, err error) {
	err = k.locked(ctx, func(tx pgx.Tx, now time.Time) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM assertion_keys WHERE retires_at IS NULL)`).Scan(&exists); err != nil {
			return fmt.Errorf("look for a signing key: %w", err)
		}
		if exists {
			return nil
		}
		kid, err = k.insert(ctx, tx, now, now)
		created = err == nil
		return err
	})
	return kid, created, err
}

// Rotate makes a new key that becomes the signer PublishDelay from now;
// every key without a retirement time retires then. Verifiers see the new
// key in the JWKS at once, and the old one until its last token has
// expired plus Grace: no token is ever signed by a key they cannot fetch.
func (k *PGKeys) Rotate(ctx context.Context) (kid string, err error) {
	err = k.locked(ctx, func(tx pgx.Tx, now time.Time) error {
		kid, err = k.rotate(ctx, tx, now)
		return err
	})
	return kid, err
}

// RotateIfOlder rotates when the newest key was created maxAge or longer
// ago (or makes the first key when there is none). Run it periodically on
// every replica: the lock makes one of them rotate.
func (k *PGKeys) RotateIfOlder(ctx context.Context, maxAge time.Duration) (kid string, rotated bool, err error) {
	err = k.locked(ctx, func(tx pgx.Tx, now time.Time) error {
		var newest *time.Time
		if err := tx.QueryRow(ctx, `SELECT max(created_at) FROM assertion_keys`).Scan(&newest); err != nil {
			return fmt.Errorf("read newest key: %w", err)
		}
		switch {
		case newest == nil:
			kid, err = k.insert(ctx, tx, now, now)
		case now.Sub(*newest) >= maxAge:
			kid, err = k.rotate(ctx, tx, now)
		default:
			return nil
		}
		rotated = err == nil
		return err
	})
	return kid, rotated, err
}

func (k *PGKeys) rotate(ctx context.Context, tx pgx.Tx, now time.Time) (string, error) {
	activates := now.Add(k.cfg.PublishDelay)
	kid, err := k.insert(ctx, tx, now, activates)
	if err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, `UPDATE assertion_keys SET retires_at = $1 WHERE retires_at IS NULL AND kid <> $2`, activates, kid); err != nil {
		return "", fmt.Errorf("retire old keys: %w", err)
	}
	return kid, nil
}

// locked runs fn in a transaction holding the keys advisory lock, then
// drops the cached view so the change is seen at once by this replica.
func (k *PGKeys) locked(ctx context.Context, fn func(tx pgx.Tx, now time.Time) error) error {
	err := pgx.BeginFunc(ctx, k.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, keysLockKey); err != nil {
			return fmt.Errorf("lock assertion keys: %w", err)
		}
		return fn(tx, k.clock.Now().UTC())
	})
	k.mu.Lock()
	k.loaded = false
	k.mu.Unlock()
	if err != nil {
		return fmt.Errorf("assertion keys: %w", err)
	}
	return nil
}

func (k *PGKeys) insert(ctx context.Context, tx pgx.Tx, created, activates time.Time) (string, error) {
	key, err := GenerateKey(k.cfg.Algorithm)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key.Key)
	if err != nil {
		return "", fmt.Errorf("encode private key: %w", err)
	}
	sealed, err := k.kek.Seal(der, keyAAD(key.KID))
	if err != nil {
		return "", err
	}
	pub, err := json.Marshal(key.PublicJWK())
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO assertion_keys (kid, alg, public_jwk, private_key, kek_id, created_at, activates_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, key.KID, string(key.Algorithm), pub, sealed, k.kek.ID(), created, activates)
	if err != nil {
		return "", fmt.Errorf("store key %s: %w", key.KID, err)
	}
	return key.KID, nil
}

func keyAAD(kid string) []byte { return []byte("vidid/assertion_keys/v1/" + kid) }

// view returns the cached rows, reading the table when the cache is older
// than Refresh (or force).
func (k *PGKeys) view(ctx context.Context, force bool) ([]keyRow, time.Time, error) {
	now := k.clock.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.loaded && !force && now.Sub(k.loadedAt) < k.cfg.Refresh && !now.Before(k.loadedAt) {
		return k.rows, now, nil
	}
	rows, err := k.pool.Query(ctx, `SELECT kid, alg, public_jwk, private_key, kek_id, created_at, activates_at, retires_at
		FROM assertion_keys WHERE retires_at IS NULL OR retires_at > $1 ORDER BY activates_at, kid`, now.Add(-k.retention()))
	if err != nil {
		return nil, now, fmt.Errorf("assertion keys: read: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (keyRow, error) {
		var kr keyRow
		var alg string
		var pub []byte
		if err := r.Scan(&kr.kid, &alg, &pub, &kr.sealed, &kr.kekID, &kr.createdAt, &kr.activatesAt, &kr.retiresAt); err != nil {
			return kr, err
		}
		kr.alg = jose.SignatureAlgorithm(alg)
		if err := json.Unmarshal(pub, &kr.pub); err != nil {
			return kr, fmt.Errorf("public key of %s: %w", kr.kid, err)
		}
		return kr, nil
	})
	if err != nil {
		return nil, now, fmt.Errorf("assertion keys: read: %w", err)
	}
	k.rows, k.loadedAt, k.loaded = list, now, true
	return list, now, nil
}

// SigningKey returns the key that signs now: of the keys whose activation
// time has come, the latest.
func (k *PGKeys) SigningKey(ctx context.Context) (SigningKey, error) {
	rows, now, err := k.view(ctx, false)
	if err != nil {
		return SigningKey{}, err
	}
	var cur *keyRow
	for i := range rows {
		if !rows[i].activatesAt.After(now) {
			cur = &rows[i]
		}
	}
	if cur == nil {
		return SigningKey{}, fmt.Errorf("%w (run EnsureKey at startup)", ErrNoSigningKey)
	}
	priv, err := k.private(cur)
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKey{KID: cur.kid, Algorithm: cur.alg, Key: priv}, nil
}

func (k *PGKeys) private(r *keyRow) (crypto.Signer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if p, ok := k.privs[r.kid]; ok {
		return p, nil
	}
	if r.kekID != k.kek.ID() {
		return nil, fmt.Errorf("assertion key %s: %w: sealed under kek %s, configured kek is %s", r.kid, ErrWrongKEK, r.kekID, k.kek.ID())
	}
	der, err := k.kek.Open(r.sealed, keyAAD(r.kid))
	if err != nil {
		return nil, fmt.Errorf("assertion key %s: %w", r.kid, err)
	}
	p, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("assertion key %s: decode: %w", r.kid, err)
	}
	signer, ok := p.(crypto.Signer)
	if !ok || !algFits(r.alg, signer) {
		return nil, fmt.Errorf("assertion key %s: stored key does not fit %s", r.kid, r.alg)
	}
	if tp, err := thumbprint(signer.Public()); err != nil || tp != r.kid {
		return nil, fmt.Errorf("assertion key %s: the sealed key is not the key its kid names", r.kid)
	}
	k.privs[r.kid] = signer
	return signer, nil
}

// PublicKeys returns the published set: keys that sign now or will, and
// retired keys until their retention ends.
func (k *PGKeys) PublicKeys(ctx context.Context) (jose.JSONWebKeySet, error) {
	rows, now, err := k.view(ctx, false)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	return k.published(rows, now), nil
}

func (k *PGKeys) published(rows []keyRow, now time.Time) jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	// Newest first: relying parties that try keys in order hit the signer sooner.
	for _, r := range slices.Backward(rows) {
		if r.retiresAt != nil && !now.Before(r.retiresAt.Add(k.retention())) {
			continue
		}
		set.Keys = append(set.Keys, r.pub)
	}
	return set
}

// JWKS returns PublicKeys as a JSON Web Key Set document.
func (k *PGKeys) JWKS(ctx context.Context) ([]byte, error) {
	set, err := k.PublicKeys(ctx)
	if err != nil {
		return nil, err
	}
	return json.Marshal(set)
}

// Key returns the published key kid (KeySource). An unknown kid rereads the
// table, at most once per 5 s, in case another replica has just rotated.
func (k *PGKeys) Key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	set, err := k.PublicKeys(ctx)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	key, err := lookup(set, kid)
	if !errors.Is(err, ErrUnknownKey) {
		return key, err
	}
	k.mu.Lock()
	now := k.clock.Now()
	may := k.forcedAt.IsZero() || now.Sub(k.forcedAt) >= minForce || now.Before(k.forcedAt)
	if may {
		k.forcedAt = now
	}
	k.mu.Unlock()
	if !may {
		return key, err
	}
	rows, now, rerr := k.view(ctx, true)
	if rerr != nil {
		return jose.JSONWebKey{}, fmt.Errorf("%w: %w", ErrKeysUnavailable, rerr)
	}
	return lookup(k.published(rows, now), kid)
}

// Prune deletes keys whose retention has ended.
func (k *PGKeys) Prune(ctx context.Context) (int64, error) {
	cutoff := k.clock.Now().Add(-k.retention())
	tag, err := k.pool.Exec(ctx, `DELETE FROM assertion_keys WHERE retires_at IS NOT NULL AND retires_at <= $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("assertion keys: prune: %w", err)
	}
	k.mu.Lock()
	k.loaded = false
	k.mu.Unlock()
	return tag.RowsAffected(), nil
}
