package session

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// sweepBatch bounds one Expire query.
const sweepBatch = 100

// Expire finishes running attempts older than MaxCaptureTime as timeout
// (counted, so it can lock the applicant out) and closes open sessions past
// their expiry. It returns how many attempts and sessions it closed. Run it
// periodically (RunExpiry); reads already report an unswept session as
// expired.
func (p *PG) Expire(ctx context.Context) (int, error) {
	total := 0
	var errs []error
	sweep := func(query string, arg any, fn func(ctx context.Context, st *txState, id, other string) (bool, error)) {
		for ctx.Err() == nil {
			rows, err := p.pool.Query(ctx, query, arg, sweepBatch)
			if err != nil {
				errs = append(errs, fmt.Errorf("expire: %w", err))
				return
			}
			type item struct{ a, b, iin string }
			var items []item
			for rows.Next() {
				var it item
				if err := rows.Scan(&it.a, &it.b, &it.iin); err != nil {
					rows.Close()
					errs = append(errs, fmt.Errorf("expire: %w", err))
					return
				}
				items = append(items, it)
			}
			if err := rows.Err(); err != nil {
				errs = append(errs, fmt.Errorf("expire: %w", err))
				return
			}
			progress := 0
			for _, it := range items {
				changed := false
				err := p.inSubject(ctx, it.iin, false, func(ctx context.Context, st *txState) error {
					var err error
					changed, err = fn(ctx, st, it.a, it.b)
					return err
				})
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if changed {
					progress++
				}
			}
			total += progress
			if len(items) < sweepBatch || progress == 0 {
				return
			}
		}
	}
	// Stale attempts first: their sessions may then be expired below.
	sweep(`
		SELECT a.session_id::text, a.id::text, s.iin FROM session_attempts a JOIN sessions s ON s.id = a.session_id
		WHERE a.finished_at IS NULL AND a.started_at <= clock_timestamp() - make_interval(secs => $1)
		ORDER BY a.started_at LIMIT $2`, p.cfg.MaxCaptureTime.Seconds(),
		func(ctx context.Context, st *txState, sessionID, attemptID string) (bool, error) {
			s, err := st.lockSession(ctx, sessionID)
			if err != nil {
				return false, err
			}
			a, err := st.lockAttempt(ctx, attemptID)
			if err != nil {
				return false, err
			}
			if a.finished || st.now.Before(a.startedAt.Add(p.cfg.MaxCaptureTime)) {
				return false, nil
			}
			return true, st.finish(ctx, s, a, timeoutResult(), true)
		})
	sweep(`
		SELECT s.id::text, '', s.iin FROM sessions s
		WHERE s.status = 'open' AND s.expires_at <= clock_timestamp() - make_interval(secs => $1)
		  AND NOT EXISTS (SELECT 1 FROM session_attempts a WHERE a.session_id = s.id AND a.finished_at IS NULL)
		ORDER BY s.expires_at LIMIT $2`, 0.0,
		func(ctx context.Context, st *txState, sessionID, _ string) (bool, error) {
			s, err := st.lockSession(ctx, sessionID)
			if err != nil {
				return false, err
			}
			return st.expireIfDue(ctx, s)
		})
	if len(errs) > 0 {
		return total, errors.Join(errs...)
	}
	return total, ctx.Err()
}

// RunExpiry calls Expire every interval until ctx ends, logging failures.
func (p *PG) RunExpiry(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := p.Expire(ctx); err != nil && ctx.Err() == nil {
			p.log.WarnContext(ctx, "session expiry sweep failed", "err", err)
		} else if n > 0 {
			p.log.InfoContext(ctx, "session expiry sweep", "closed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
