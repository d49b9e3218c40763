package assertion

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// RemoteKeysConfig configures RemoteKeys.
type RemoteKeysConfig struct {
	// URL of the issuer's JWKS, e.g. https://vidid.example.kz/.well-known/jwks.json.
	URL string
	// Client fetches it; default a client with a 10 s timeout.
	Client *http.Client
	// TTL is how long a fetched set is used before fetching again; default 5 min.
	TTL time.Duration
	// MinRefetch spaces fetches: a kid missing from the cached set (a key
	// just rotated in) triggers a fetch at most once per MinRefetch, and so
	// does a failed fetch; default 30 s.
	MinRefetch time.Duration
	// MaxBytes bounds the JWKS document; default 1 MiB.
	MaxBytes int64
}

// RemoteKeys is a KeySource reading the issuer's JWKS over HTTP, with
// caching. Lookups are serialised while a fetch runs. When a refetch fails
// the last good set keeps being used.
type RemoteKeys struct {
	cfg   RemoteKeysConfig
	clock Clock

	mu          sync.Mutex
	set         *jose.JSONWebKeySet
	fetchedAt   time.Time // last successful fetch
	attemptedAt time.Time // last fetch, successful or not
	lastErr     error
}

var _ KeySource = (*RemoteKeys)(nil)

// NewRemoteKeys checks cfg and returns a RemoteKeys; nothing is fetched yet.
func NewRemoteKeys(cfg RemoteKeysConfig, clock Clock) (*RemoteKeys, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("remote keys: URL must be an http(s) URL, got %q", cfg.URL)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 5 * time.Minute
	}
	if cfg.MinRefetch <= 0 {
		cfg.MinRefetch = 30 * time.Second
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 1 << 20
	}
	return &RemoteKeys{cfg: cfg, clock: orSystem(clock)}, nil
}

// Key returns the key with this kid, fetching the JWKS when there is no
// set yet, when the set is older than TTL, or (at most once per MinRefetch)
// when the kid is not in it.
func (r *RemoteKeys) Key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	mayFetch := r.attemptedAt.IsZero() || now.Sub(r.attemptedAt) >= r.cfg.MinRefetch || now.Before(r.attemptedAt)
	stale := r.set == nil || now.Sub(r.fetchedAt) >= r.cfg.TTL
	if stale && mayFetch {
		r.fetch(ctx, now)
		mayFetch = false
	}
	if r.set == nil {
		return jose.JSONWebKey{}, fmt.Errorf("%w: %w", ErrKeysUnavailable, r.lastErr)
	}
	key, err := lookup(*r.set, kid)
	if errors.Is(err, ErrUnknownKey) && mayFetch {
		r.fetch(ctx, now)
		key, err = lookup(*r.set, kid)
	}
	return key, err
}

// Refresh fetches the JWKS now (e.g. at startup, to fail early).
func (r *RemoteKeys) Refresh(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fetch(ctx, r.clock.Now())
	return r.lastErr
}

// fetch replaces the set on success and records the error otherwise.
func (r *RemoteKeys) fetch(ctx context.Context, now time.Time) {
	r.attemptedAt = now
	set, err := r.get(ctx)
	if err != nil {
		r.lastErr = fmt.Errorf("fetch jwks %s: %w", r.cfg.URL, err)
		return
	}
	r.set, r.fetchedAt, r.lastErr = &set, now, nil
}

func (r *RemoteKeys) get(ctx context.Context) (jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.cfg.URL, nil)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return jose.JSONWebKeySet{}, fmt.Errorf("status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.cfg.MaxBytes+1))
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	if int64(len(body)) > r.cfg.MaxBytes {
		return jose.JSONWebKeySet{}, fmt.Errorf("larger than %d bytes", r.cfg.MaxBytes)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return jose.JSONWebKeySet{}, fmt.Errorf("not a JWK set: %w", err)
	}
	return publicSet(set)
}

// JWKSProvider is what JWKSHandler serves: PGKeys, or anything else that
// renders a JWKS document.
type JWKSProvider interface {
	JWKS(ctx context.Context) ([]byte, error)
}

// JWKSHandler serves the JWKS (GET/HEAD) with a short public cache
// lifetime, well below the publish delay of new keys.
func JWKSHandler(p JWKSProvider, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		b, err := p.JWKS(req.Context())
		if err != nil {
			if log != nil {
				log.ErrorContext(req.Context(), "serve jwks", "err", err)
			}
			http.Error(w, "keys unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(b)
	})
}
