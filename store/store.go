// Package store owns the PostgreSQL connection pool and the schema: Open
// connects, Migrate applies the numbered SQL migrations embedded from
// store/migrations. Repositories live with the packages that use them
// (register, session, …) and take the *pgxpool.Pool from here.
package store

import (
	"context"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Pool defaults, used unless the URL sets pool_max_conns etc. itself.
const (
	defaultMaxConnLifetime   = time.Hour
	defaultMaxConnIdleTime   = 5 * time.Minute
	defaultHealthCheckPeriod = 30 * time.Second
	defaultConnectTimeout    = 10 * time.Second
)

// Open parses a PostgreSQL URL (or key=value DSN), connects and pings before
// returning, so a wrong URL or a stopped server fails here and not on first
// use. Unless the URL says otherwise (pool_max_conns, pool_min_conns,
// connect_timeout, …) the pool holds at most max(4, 2×GOMAXPROCS)
// connections, recycles them hourly and closes idle ones after 5 minutes.
// The caller closes the pool.
func Open(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx redacts the password in its parse errors.
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	set := dsnParams(dsn)
	if !set["pool_max_conns"] {
		cfg.MaxConns = int32(max(4, 2*runtime.GOMAXPROCS(0)))
	}
	if !set["pool_max_conn_lifetime"] {
		cfg.MaxConnLifetime = defaultMaxConnLifetime
	}
	if !set["pool_max_conn_idle_time"] {
		cfg.MaxConnIdleTime = defaultMaxConnIdleTime
	}
	if !set["pool_health_check_period"] {
		cfg.HealthCheckPeriod = defaultHealthCheckPeriod
	}
	if !set["connect_timeout"] && cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if !set["application_name"] {
		if cfg.ConnConfig.RuntimeParams == nil {
			cfg.ConnConfig.RuntimeParams = map[string]string{}
		}
		cfg.ConnConfig.RuntimeParams["application_name"] = "vidid"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool for %s: %w", where(cfg), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s: %w", where(cfg), err)
	}
	return pool, nil
}

// where names the server and database for error messages, without credentials.
func where(cfg *pgxpool.Config) string {
	return fmt.Sprintf("postgres %s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
}

// dsnParams reports which parameter names the connection string sets, for
// both URL (postgres://…?k=v) and key=value forms.
func dsnParams(dsn string) map[string]bool {
	set := map[string]bool{}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			for k := range u.Query() {
				set[k] = true
			}
		}
		return set
	}
	for _, f := range strings.Fields(dsn) {
		if k, _, ok := strings.Cut(f, "="); ok {
			set[strings.TrimSpace(k)] = true
		}
	}
	return set
}
