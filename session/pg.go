package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/audit"
	"vidid/idnum"
	"vidid/rp"

	"vidid/internal/ids"
)

// CreateRequest opens a verification session.
type CreateRequest struct {
	// ClientID is the authenticated relying party.
	ClientID string
	// IIN is the applicant's 12-digit individual identification number.
	IIN string
	// CallbackURL receives the signed decision; ReturnURL is where the
	// applicant's browser goes afterwards. Both must pass the client's
	// rp.Client.CheckURL.
	CallbackURL, ReturnURL string
	// TTL is the session's lifetime; 0 means Config.DefaultTTL.
	TTL time.Duration
}

// CallbackEvent is the event type of every session callback.
const CallbackEvent = "session.decided"

// PG is the Postgres-backed session service the API and the capture
// pipeline call (each declares the few methods it uses).
type PG struct {
	pool  *pgxpool.Pool
	cfg   Config
	audit *audit.Log
	log   *slog.Logger
	m     *metrics
}

// NewPG returns the session store. auditLog receives every decision inside
// the deciding transaction.
func NewPG(pool *pgxpool.Pool, cfg Config, auditLog *audit.Log) (*PG, error) {
	if pool == nil || auditLog == nil {
		return nil, errors.New("new session store: nil pool or audit log")
	}
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("new session store: %w", err)
	}
	return &PG{pool: pool, cfg: cfg, audit: auditLog, log: cfg.Logger, m: m}, nil
}

// Config returns the effective configuration (defaults filled in).
func (p *PG) Config() Config { return p.cfg }

// ---- reads -----------------------------------------------------------

const viewSelect = `
	SELECT s.id::text, s.client_id, s.iin, s.status, s.requires_moderation, s.callback_url, s.return_url,
	       s.created_at, s.expires_at, s.decided_at, s.attempts_started, s.failed_attempts,
	       coalesce(s.consent_accepted, false), coalesce(s.consent_lang, ''),
	       g.failures, g.last_failure_at, g.locked_until, clock_timestamp(),
	       coalesce(a.outcome, ''), coalesce(a.reason, ''), coalesce(a.running, false), s.handed_over_at
	FROM sessions s
	JOIN subject_guards g ON g.iin = s.iin
	LEFT JOIN LATERAL (
		SELECT outcome, reason, finished_at IS NULL AS running FROM session_attempts
		WHERE session_id = s.id ORDER BY n DESC LIMIT 1
	) a ON true
	WHERE `

func (p *PG) loadView(ctx context.Context, q rp.QueryRower, where string, arg any) (Session, error) {
	var s Session
	var state, outcome, reason string
	var decided, lastFailure, lockedUntil, handedOver *time.Time
	var failures int
	var now time.Time
	err := q.QueryRow(ctx, viewSelect+where, arg).Scan(
		&s.ID, &s.ClientID, &s.IIN, &state, &s.RequiresModeration, &s.CallbackURL, &s.ReturnURL,
		&s.CreatedAt, &s.ExpiresAt, &decided, &s.AttemptsStarted, &s.FailedAttempts,
		&s.ConsentAccepted, &s.ConsentLang,
		&failures, &lastFailure, &lockedUntil, &now,
		&outcome, &reason, &s.AttemptRunning, &handedOver)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("load session: %w", err)
	}
	s.State, s.LastOutcome, s.LastReason = State(state), Outcome(outcome), Reason(reason)
	if decided != nil {
		s.DecidedAt = *decided
	}
	g := guard{failures: failures, lastFailure: lastFailure, lockedUntil: lockedUntil}
	if until, ok := g.locked(now); ok {
		s.LockedUntil = until
	}
	if handedOver != nil {
		s.HandedOverAt = *handedOver
	}
	if s.State == StateApproved && decided != nil {
		s.HandoverUntil = decided.Add(p.cfg.HandoverWindow)
		s.HandoverOpen = handedOver == nil && now.Before(s.HandoverUntil)
		if s.HandoverOpen { // the hand-over capture counts failures like any attempt
			s.AttemptsLeft = max(0, p.cfg.MaxFailedAttempts-g.effectiveFailures(now, p.cfg.FailureWindow))
		}
	}
	if s.State == StateOpen {
		if !now.Before(s.ExpiresAt) && !s.AttemptRunning {
			// Not yet swept; report what the next write will record.
			s.State = StateExpired
		} else {
			s.AttemptsLeft = max(0, p.cfg.MaxFailedAttempts-g.effectiveFailures(now, p.cfg.FailureWindow))
		}
	}
	return s, nil
}

// Get returns a session by id.
func (p *PG) Get(ctx context.Context, id string) (Session, error) {
	if !ids.IsUUID(id) {
		return Session{}, ErrNotFound
	}
	return p.loadView(ctx, p.pool, "s.id = $1::uuid", id)
}

// ByToken returns the session a capture token belongs to.
func (p *PG) ByToken(ctx context.Context, token string) (Session, error) {
	h, ok := hashToken(token)
	if !ok {
		return Session{}, ErrNotFound
	}
	return p.loadView(ctx, p.pool, "s.token_hash = $1", h)
}

// Detail returns the relying party's view of a session (see Detail).
func (p *PG) Detail(ctx context.Context, id string) (Detail, error) {
	s, err := p.Get(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{
		ID: s.ID, ClientID: s.ClientID, IINMasked: idnum.MaskIIN(s.IIN), State: s.State,
		RequiresModeration: s.RequiresModeration, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt,
		AttemptsStarted: s.AttemptsStarted, FailedAttempts: s.FailedAttempts, AttemptsLeft: s.AttemptsLeft,
		ConsentAccepted: s.ConsentAccepted, Attempts: []AttemptSummary{},
	}
	if !s.DecidedAt.IsZero() {
		t := s.DecidedAt
		d.DecidedAt = &t
	}
	if !s.LockedUntil.IsZero() {
		t := s.LockedUntil
		d.LockedUntil = &t
	}
	rows, err := p.pool.Query(ctx, `
		SELECT n, started_at, finished_at, coalesce(outcome, ''), coalesce(reason, ''), counted
		FROM session_attempts WHERE session_id = $1::uuid ORDER BY n`, id)
	if err != nil {
		return Detail{}, fmt.Errorf("load attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a AttemptSummary
		var outcome, reason string
		if err := rows.Scan(&a.N, &a.StartedAt, &a.FinishedAt, &outcome, &reason, &a.Counted); err != nil {
			return Detail{}, fmt.Errorf("load attempts: %w", err)
		}
		a.Outcome, a.Reason = Outcome(outcome), Reason(reason)
		d.Attempts = append(d.Attempts, a)
	}
	if err := rows.Err(); err != nil {
		return Detail{}, fmt.Errorf("load attempts: %w", err)
	}
	return d, nil
}

// subjectOf returns the IIN of a session (unlocked read: it never changes).
func (p *PG) subjectOf(ctx context.Context, where string, arg any) (id, iin string, err error) {
	err = p.pool.QueryRow(ctx, `SELECT id::text, iin FROM sessions WHERE `+where, arg).Scan(&id, &iin)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("look up session: %w", err)
	}
	return id, iin, nil
}

// LogValue logs a session without its IIN in full.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", s.ID), slog.String("client_id", s.ClientID),
		slog.String("iin", idnum.MaskIIN(s.IIN)), slog.String("state", string(s.State)))
}
