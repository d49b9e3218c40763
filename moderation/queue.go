package moderation

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/audit"
	"vidid/evidence"
	"vidid/idnum"
	"vidid/register"
	"vidid/session"
)

// Decider writes a review to the sessions table (session.PG): the claim,
// its release and the decision, each in one transaction.
type Decider interface {
	ClaimCase(ctx context.Context, sessionID, moderatorID string, ttl time.Duration,
		view func(ctx context.Context, tx pgx.Tx, c session.Claim) error) error
	ReleaseCase(ctx context.Context, sessionID, moderatorID string) error
	DecideCase(ctx context.Context, sessionID string, d session.Decision) (session.Session, error)
}

var _ Decider = (*session.PG)(nil)

// Register returns a citizen's register record (register.PG).
type Register interface {
	Get(ctx context.Context, iin string) (register.Citizen, error)
}

// Evidence returns the stored frames of an attempt (evidence.PG).
type Evidence interface {
	Load(ctx context.Context, attemptID, kind string) ([][]byte, error)
}

// Evidence kinds a case shows.
const (
	FramesBest = evidence.KindBest
	FramesClip = evidence.KindClip
)

// Config configures the queue.
type Config struct {
	// Calendar counts the working day a case must be decided in.
	Calendar Calendar
	// ClaimTTL is how long opening a case reserves it for the moderator
	// (default 30 minutes); opening it again extends the claim.
	ClaimTTL time.Duration
	// Now is the clock for deadlines (default time.Now). Claims use the
	// database clock, so replicas agree on them.
	Now func() time.Time
	// FourEyes lists the Why… codes whose cases need two approvals, by
	// two moderators (a rejection needs one). nil: none.
	FourEyes []string
}

// Queue is the moderation queue: sessions in state moderation, oldest
// first, with their deadline, and the review of one case.
type Queue struct {
	pool     *pgxpool.Pool
	cfg      Config
	sessions Decider
	register Register
	evidence Evidence
	audit    *audit.Log
	log      *slog.Logger
	m        *metrics
}

// NewQueue returns the queue over pool. evidence may be nil (no frames
// kept); the others are required.
func NewQueue(pool *pgxpool.Pool, cfg Config, sessions Decider, reg Register, ev Evidence, auditLog *audit.Log, log *slog.Logger) (*Queue, error) {
	if pool == nil || sessions == nil || reg == nil || auditLog == nil {
		return nil, fmt.Errorf("%w: pool, sessions, register and audit log are required", ErrInvalidRequest)
	}
	if cfg.ClaimTTL == 0 {
		cfg.ClaimTTL = 30 * time.Minute
	}
	if cfg.ClaimTTL < time.Minute || cfg.ClaimTTL > 24*time.Hour {
		return nil, fmt.Errorf("%w: claim time %v outside 1m..24h", ErrInvalidRequest, cfg.ClaimTTL)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for _, w := range cfg.FourEyes {
		if !slices.Contains(WhyCodes, w) {
			return nil, fmt.Errorf("%w: four-eyes case kind %q is not one of %v", ErrInvalidRequest, w, WhyCodes)
		}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Queue{pool: pool, cfg: cfg, sessions: sessions, register: reg, evidence: ev, audit: auditLog, log: log, m: newMetrics()}, nil
}

// Why a session is in the queue.
const (
	WhyNearThreshold    = "near_threshold"    // a no_match just under the threshold
	WhyRegisterPhoto    = "register_photo"    // the register photo is missing or unusable
	WhyRepeatedLockouts = "repeated_lockouts" // matched, but the IIN was locked out repeatedly
	WhyOther            = "other"
)

// WhyCodes are the Why… codes.
var WhyCodes = []string{WhyNearThreshold, WhyRegisterPhoto, WhyRepeatedLockouts, WhyOther}

// CaseSummary is one line of the queue.
type CaseSummary struct {
	SessionID  string    `json:"session_id"`
	ClientName string    `json:"client_name"`
	IINMasked  string    `json:"iin_masked"`
	EnteredAt  time.Time `json:"entered_at"`
	Due        time.Time `json:"due"`
	Overdue    bool      `json:"overdue"`
	// Why is one of the Why… codes; Reason the last attempt's reason code.
	Why      string         `json:"why"`
	Reason   session.Reason `json:"reason,omitempty"`
	Attempts int            `json:"attempts"`
	// BestMatchScore is the highest match score of the session's
	// attempts; nil when none was measured.
	BestMatchScore *float64 `json:"best_match_score,omitempty"`
	// ClaimedBy names the moderator reviewing it now; empty when free.
	ClaimedBy    string     `json:"claimed_by,omitempty"`
	ClaimedByID  string     `json:"-"`
	ClaimedUntil *time.Time `json:"claimed_until,omitempty"`
	// FirstApprovedBy names the moderator who gave the first of two
	// approvals (the four-eyes rule); empty otherwise.
	FirstApprovedBy string `json:"first_approved_by,omitempty"`
}

// Stats summarises the queue.
type Stats struct {
	Cases   int `json:"cases"`
	Overdue int `json:"overdue"`
	// Oldest is when the oldest case entered; zero for an empty queue.
	Oldest time.Time `json:"oldest,omitempty"`
}

const listColumns = `
	SELECT s.id::text, c.name, s.iin, s.decided_at, s.requires_moderation, s.attempts_started,
	       (SELECT a.reason FROM session_attempts a
	         WHERE a.session_id = s.id AND a.finished_at IS NOT NULL ORDER BY a.n DESC LIMIT 1),
	       (SELECT max(nullif(a.match_score, 0)) FROM session_attempts a WHERE a.session_id = s.id),
	       CASE WHEN s.claimed_until > now() THEN s.claimed_by END,
	       CASE WHEN s.claimed_until > now() THEN m.name END,
	       CASE WHEN s.claimed_until > now() THEN s.claimed_until END,
	       (SELECT f.name FROM moderators f WHERE f.id = s.first_approved_by)
	FROM sessions s
	JOIN rp_clients c ON c.id = s.client_id
	LEFT JOIN moderators m ON m.id = s.claimed_by`

func (q *Queue) scanSummary(row pgx.Row) (CaseSummary, error) {
	var cs CaseSummary
	var iin string
	var reason, claimedBy, claimedName, firstBy *string
	var escalated bool
	if err := row.Scan(&cs.SessionID, &cs.ClientName, &iin, &cs.EnteredAt, &escalated, &cs.Attempts,
		&reason, &cs.BestMatchScore, &claimedBy, &claimedName, &cs.ClaimedUntil, &firstBy); err != nil {
		return CaseSummary{}, err
	}
	if firstBy != nil {
		cs.FirstApprovedBy = *firstBy
	}
	cs.IINMasked = idnum.MaskIIN(iin)
	if reason != nil {
		cs.Reason = session.Reason(*reason)
	}
	if claimedBy != nil && claimedName != nil {
		cs.ClaimedByID, cs.ClaimedBy = *claimedBy, *claimedName
	}
	cs.Why = why(cs.Reason, escalated)
	cs.Due = q.cfg.Calendar.Due(cs.EnteredAt)
	cs.Overdue = q.cfg.Now().After(cs.Due)
	return cs, nil
}

// List returns up to limit cases waiting for a decision, oldest first
// (the order they must be worked in).
func (q *Queue) List(ctx context.Context, limit int) ([]CaseSummary, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := q.pool.Query(ctx, listColumns+`
		WHERE s.status = 'moderation' ORDER BY s.decided_at, s.id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list moderation queue: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CaseSummary, error) { return q.scanSummary(r) })
	if err != nil {
		return nil, fmt.Errorf("list moderation queue: %w", err)
	}
	return out, nil
}

// Stats counts the queue and its overdue cases.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	rows, err := q.pool.Query(ctx, `SELECT decided_at FROM sessions WHERE status = 'moderation' ORDER BY decided_at`)
	if err != nil {
		return Stats{}, fmt.Errorf("moderation queue stats: %w", err)
	}
	entered, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return Stats{}, fmt.Errorf("moderation queue stats: %w", err)
	}
	st := Stats{Cases: len(entered)}
	now := q.cfg.Now()
	for i, t := range entered {
		if i == 0 {
			st.Oldest = t
		}
		if now.After(q.cfg.Calendar.Due(t)) {
			st.Overdue++
		}
	}
	return st, nil
}
