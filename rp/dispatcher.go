package rp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// DispatcherConfig configures a Dispatcher. Zero fields take the defaults
// named in their comments.
type DispatcherConfig struct {
	// HTTPClient sends callbacks. Default: 10 s timeout, redirects not
	// followed (a 3xx counts as a failure).
	HTTPClient *http.Client
	// PollInterval is how often the outbox is polled (1 s).
	PollInterval time.Duration
	// BatchSize is how many due callbacks are leased and sent concurrently
	// per poll (8).
	BatchSize int
	// MaxAttempts is how many times one callback is tried before it is
	// marked failed (20: about 11 hours with the default backoff).
	MaxAttempts int
	// BaseBackoff is the wait after the first failure; it doubles per
	// failure up to MaxBackoff, with ±20 % jitter (5 s, 1 h).
	BaseBackoff, MaxBackoff time.Duration
	// Lease is how long a leased callback is hidden from other replicas
	// while it is being sent (HTTP timeout + 30 s).
	Lease time.Duration
	// Now is the clock used only for the signature timestamp (time.Now).
	Now func() time.Time
	// Logger receives delivery failures (slog.Default()).
	Logger *slog.Logger
	// Registerer receives vidid_rp_callbacks_total (none when nil).
	Registerer prometheus.Registerer
}

// Dispatcher delivers the rp_callbacks outbox. Several replicas may run one
// each against the same database.
type Dispatcher struct {
	pool *pgxpool.Pool
	cfg  DispatcherConfig
	log  *slog.Logger
	m    *metrics

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// NewDispatcher returns a stopped Dispatcher.
func NewDispatcher(pool *pgxpool.Pool, cfg DispatcherConfig) (*Dispatcher, error) {
	if pool == nil {
		return nil, errors.New("new dispatcher: nil pool")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 8
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 20
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 5 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Hour
	}
	if cfg.MaxBackoff < cfg.BaseBackoff {
		cfg.MaxBackoff = cfg.BaseBackoff
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
		if cfg.HTTPClient.Timeout > 0 {
			cfg.Lease += cfg.HTTPClient.Timeout
		} else {
			cfg.Lease += time.Minute
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("new dispatcher: %w", err)
	}
	return &Dispatcher{pool: pool, cfg: cfg, log: log, m: m}, nil
}

// Start runs the delivery loop in the background until ctx ends or Stop
// is called.
func (d *Dispatcher) Start(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done != nil {
		return ErrDispatcherRunning
	}
	ctx, d.cancel = context.WithCancel(ctx)
	d.done = make(chan struct{})
	go d.loop(ctx, d.done)
	return nil
}

// Stop ends the loop and waits for in-flight deliveries to finish (they
// are bounded by the HTTP client's timeout). It is safe to call twice.
func (d *Dispatcher) Stop() error {
	d.mu.Lock()
	cancel, done := d.cancel, d.done
	d.cancel, d.done = nil, nil
	d.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	<-done
	return nil
}

func (d *Dispatcher) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(d.cfg.PollInterval)
	defer t.Stop()
	for {
		n, err := d.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.WarnContext(ctx, "callback dispatch failed", "err", err)
		}
		if n == d.cfg.BatchSize && err == nil {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type leased struct {
	id        int64
	eventID   string
	clientID  string
	url       string
	body      []byte
	attempts  int
	secret    string
	sessionID string
}

// RunOnce leases the callbacks that are due, sends them concurrently and
// records each result. It returns how many it tried.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	// The lease statement is not cancelled half-way: a cancelled client
	// does not stop a statement the server has queued, which could then
	// lease rows after Stop returned. It is short and bounded instead.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	rows, err := d.pool.Query(qctx, `
		WITH due AS (
			SELECT id FROM rp_callbacks
			WHERE state = 'pending' AND next_attempt_at <= clock_timestamp()
			ORDER BY next_attempt_at, id
			LIMIT $1
			FOR UPDATE SKIP LOCKED
		), claimed AS (
			UPDATE rp_callbacks c
			SET attempts = c.attempts + 1,
			    next_attempt_at = clock_timestamp() + make_interval(secs => $2)
			FROM due WHERE c.id = due.id
			RETURNING c.id, c.event_id, c.client_id, c.url, c.body, c.attempts, coalesce(c.session_id::text, '') AS session_id
		)
		SELECT claimed.id, claimed.event_id, claimed.client_id, claimed.url, claimed.body, claimed.attempts,
		       claimed.session_id, k.callback_secret
		FROM claimed JOIN rp_clients k ON k.id = claimed.client_id`,
		d.cfg.BatchSize, d.cfg.Lease.Seconds())
	if err != nil {
		return 0, fmt.Errorf("lease callbacks: %w", err)
	}
	var batch []leased
	for rows.Next() {
		var l leased
		if err := rows.Scan(&l.id, &l.eventID, &l.clientID, &l.url, &l.body, &l.attempts, &l.sessionID, &l.secret); err != nil {
			rows.Close()
			return 0, fmt.Errorf("lease callbacks: %w", err)
		}
		batch = append(batch, l)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("lease callbacks: %w", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(batch))
	for i := range batch {
		wg.Go(func() { errs[i] = d.deliver(ctx, batch[i]) })
	}
	wg.Wait()
	return len(batch), errors.Join(errs...)
}

// deliver sends one callback and records the outcome. It returns only
// database errors; HTTP failures are recorded for a retry.
func (d *Dispatcher) deliver(ctx context.Context, l leased) error {
	status, sendErr := d.send(ctx, l)
	// Record the outcome even when Stop cancelled ctx meanwhile: a delivered
	// callback must not stay pending and be sent again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if sendErr == nil {
		d.m.callbacks.WithLabelValues(resultDelivered).Inc()
		_, err := d.pool.Exec(rctx, `
			UPDATE rp_callbacks SET state = 'delivered', delivered_at = clock_timestamp(), last_status = $3, last_error = NULL
			WHERE id = $1 AND attempts = $2 AND state = 'pending'`, l.id, l.attempts, status)
		if err != nil {
			return fmt.Errorf("record delivered callback %d: %w", l.id, err)
		}
		return nil
	}
	if ctx.Err() != nil {
		// Shutting down: the lease runs out and another poll retries it.
		return nil
	}
	final := l.attempts >= d.cfg.MaxAttempts
	result, state := resultRetry, "pending"
	if final {
		result, state = resultFailed, "failed"
	}
	d.m.callbacks.WithLabelValues(result).Inc()
	msg := sendErr.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	d.log.WarnContext(ctx, "callback delivery failed", "event_id", l.eventID, "session_id", l.sessionID,
		"client_id", l.clientID, "attempt", l.attempts, "final", final, "err", msg)
	var st *int
	if status != 0 {
		st = &status
	}
	_, err := d.pool.Exec(rctx, `
		UPDATE rp_callbacks
		SET state = $3, last_status = $4, last_error = $5,
		    next_attempt_at = clock_timestamp() + make_interval(secs => $6)
		WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
		l.id, l.attempts, state, st, msg, d.backoff(l.attempts).Seconds())
	if err != nil {
		return fmt.Errorf("record failed callback %d: %w", l.id, err)
	}
	return nil
}

// send POSTs the body; it returns the HTTP status (0 when none) and an
// error for anything but a 2xx answer.
func (d *Dispatcher) send(ctx context.Context, l leased) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.url, bytes.NewReader(l.body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vidid-callbacks/1")
	req.Header.Set(EventIDHeader, l.eventID)
	req.Header.Set(SignatureHeader, Sign(l.secret, d.cfg.Now(), l.body))
	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry the receiver's query secrets
		}
		return 0, fmt.Errorf("post callback: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("post callback: status %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// backoff is the wait after the n-th failed attempt (n ≥ 1).
func (d *Dispatcher) backoff(n int) time.Duration {
	b := float64(d.cfg.BaseBackoff) * math.Pow(2, float64(min(n-1, 40)))
	b = min(b, float64(d.cfg.MaxBackoff))
	b *= 0.8 + 0.4*rand.Float64()
	return time.Duration(b)
}
