package rp

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/internal/apikey"
)

const (
	keyPrefix            = "vidid_"
	secretBytes          = 32 // callback secret: 64 hex digits
	callbackSecretPrefix = "vcbs_"
	maxNameLen           = 200
	maxHosts             = 32
)

// Client is a relying party as the rest of vidid sees it (no secrets).
type Client struct {
	ID   string
	Name string
	// AllowedCallbackHosts are the hosts (lower case, optionally with
	// :port) that callback and return URLs may point to.
	AllowedCallbackHosts []string
	CreatedAt            time.Time
	Disabled             bool
	// Scopes widen what the key may see (ScopeAnalyst).
	Scopes []string
}

// ScopeAnalyst lets a client's /v1/verify calls see scores and thresholds
// and why a comparison could not be made.
const ScopeAnalyst = "analyst"

// Scopes are the scopes a client can be given.
var Scopes = []string{ScopeAnalyst}

// HasScope reports whether the client holds scope.
func (c Client) HasScope(scope string) bool { return slices.Contains(c.Scopes, scope) }

// QueryRower is the read side of a pool, connection or transaction.
type QueryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Clients manages relying-party clients in the rp_clients table.
type Clients struct {
	pool *pgxpool.Pool
	// dummy is compared against when the id is unknown, so that unknown
	// ids and wrong secrets take the same path.
	dummy []byte
}

// NewClients returns the client registry backed by pool.
func NewClients(pool *pgxpool.Pool) *Clients {
	d := sha256.Sum256([]byte("vidid unknown client"))
	return &Clients{pool: pool, dummy: d[:]}
}

// Create registers a relying party and returns its id, its API key and its
// callback secret. The key and secret are shown only here: the key is
// stored as a hash, so a lost key means a new client.
func (c *Clients) Create(ctx context.Context, name string, allowedCallbackHosts []string) (clientID, apiKey, callbackSecret string, err error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > maxNameLen {
		return "", "", "", fmt.Errorf("%w: name must be 1..%d characters", ErrInvalidClient, maxNameLen)
	}
	hosts, err := normaliseHosts(allowedCallbackHosts)
	if err != nil {
		return "", "", "", err
	}
	clientID, apiKey, hash := apikey.New(keyPrefix)
	callbackSecret = callbackSecretPrefix + apikey.RandomHex(secretBytes)
	_, err = c.pool.Exec(ctx, `
		INSERT INTO rp_clients (id, name, api_key_hash, callback_secret, allowed_callback_hosts)
		VALUES ($1, $2, $3, $4, $5)`, clientID, name, hash, callbackSecret, hosts)
	if err != nil {
		return "", "", "", fmt.Errorf("insert relying party: %w", err)
	}
	return clientID, apiKey, callbackSecret, nil
}

// SetScopes replaces a client's scopes (each one of Scopes).
func (c *Clients) SetScopes(ctx context.Context, id string, scopes []string) error {
	for _, sc := range scopes {
		if !slices.Contains(Scopes, sc) {
			return fmt.Errorf("%w: unknown scope %q (known: %v)", ErrInvalidClient, sc, Scopes)
		}
	}
	if scopes == nil {
		scopes = []string{}
	}
	tag, err := c.pool.Exec(ctx, `UPDATE rp_clients SET scopes = $2 WHERE id = $1`, id, scopes)
	if err != nil {
		return fmt.Errorf("set scopes: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Authenticate returns the client an API key belongs to, or an error
// wrapping ErrUnauthorized when the key is malformed, unknown, wrong or
// belongs to a disabled client.
func (c *Clients) Authenticate(ctx context.Context, apiKey string) (Client, error) {
	id, sum, ok := apikey.Parse(keyPrefix, apiKey)
	if !ok {
		return Client{}, fmt.Errorf("%w: malformed api key", ErrUnauthorized)
	}
	var cl Client
	var stored []byte
	var disabledAt *time.Time
	err := c.pool.QueryRow(ctx, `
		SELECT id, name, allowed_callback_hosts, created_at, disabled_at, api_key_hash, scopes
		FROM rp_clients WHERE id = $1`, id).
		Scan(&cl.ID, &cl.Name, &cl.AllowedCallbackHosts, &cl.CreatedAt, &disabledAt, &stored, &cl.Scopes)
	found := true
	if errors.Is(err, pgx.ErrNoRows) {
		found, stored = false, c.dummy
	} else if err != nil {
		return Client{}, fmt.Errorf("look up relying party: %w", err)
	}
	match := apikey.Equal(sum, stored)
	if !found || !match || disabledAt != nil {
		return Client{}, ErrUnauthorized
	}
	return cl, nil
}

// Get returns a client by id (ErrNotFound).
func (c *Clients) Get(ctx context.Context, id string) (Client, error) {
	return LoadClient(ctx, c.pool, id)
}

// Disable stops a client from authenticating; its pending callbacks are
// still delivered.
func (c *Clients) Disable(ctx context.Context, id string) error {
	tag, err := c.pool.Exec(ctx, `UPDATE rp_clients SET disabled_at = now() WHERE id = $1 AND disabled_at IS NULL`, id)
	if err != nil {
		return fmt.Errorf("disable relying party: %w", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := c.Get(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// LoadClient reads a client through q (a pool or a transaction), for
// packages that check URLs inside their own transaction.
func LoadClient(ctx context.Context, q QueryRower, id string) (Client, error) {
	var cl Client
	var disabledAt *time.Time
	err := q.QueryRow(ctx, `
		SELECT id, name, allowed_callback_hosts, created_at, disabled_at, scopes
		FROM rp_clients WHERE id = $1`, id).
		Scan(&cl.ID, &cl.Name, &cl.AllowedCallbackHosts, &cl.CreatedAt, &disabledAt, &cl.Scopes)
	if errors.Is(err, pgx.ErrNoRows) {
		return Client{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if err != nil {
		return Client{}, fmt.Errorf("look up relying party: %w", err)
	}
	cl.Disabled = disabledAt != nil
	return cl, nil
}

// normaliseHosts lower-cases and checks allow-list entries: a host name or
// IP literal, optionally with :port; no scheme, path or wildcard.
func normaliseHosts(in []string) ([]string, error) {
	if len(in) > maxHosts {
		return nil, fmt.Errorf("%w: at most %d callback hosts", ErrInvalidClient, maxHosts)
	}
	out := make([]string, 0, len(in))
	for _, h := range in {
		h = strings.ToLower(strings.TrimSpace(h))
		host := h
		if hh, port, err := net.SplitHostPort(h); err == nil {
			if port == "" || strings.Trim(port, "0123456789") != "" {
				return nil, fmt.Errorf("%w: bad port in host %q", ErrInvalidClient, h)
			}
			host = hh
		}
		if host == "" || strings.ContainsAny(host, "/?#@* \t") || strings.Contains(h, "://") {
			return nil, fmt.Errorf("%w: bad callback host %q", ErrInvalidClient, h)
		}
		out = append(out, h)
	}
	return out, nil
}
