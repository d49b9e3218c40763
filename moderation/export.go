package moderation

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/session"
)

// DecisionRecord is one decided case, for analysts: what the engine saw,
// what the person decided, and how long it took. It holds no personal
// data (no IIN, no names, no note: the note is free text).
type DecisionRecord struct {
	SessionID string
	EnteredAt time.Time // when the session entered the queue (audit log)
	DecidedAt time.Time
	OnTime    bool // decided by the one-working-day deadline
	Why       string
	Reason    session.Reason // the last attempt's reason code
	Approved  bool
	// RejectReason is one of session.RejectReasons ("" for approvals and
	// for decisions recorded before the codes existed).
	RejectReason string
	ModeratorID  string
	// FirstApproverID is the moderator who gave the first of two
	// approvals under the four-eyes rule ("" when there was none).
	FirstApproverID string
	Attempts        int
	// The scores of the attempt with the highest match score (nil: not
	// measured).
	MatchScore       *float64
	Threshold        *float64
	ThresholdVersion string
	Model            string
	LivenessScore    *float64
	SamePersonScore  *float64
}

// Decisions returns the cases decided since the given time, oldest first.
func Decisions(ctx context.Context, pool *pgxpool.Pool, cal Calendar, since time.Time) ([]DecisionRecord, error) {
	rows, err := pool.Query(ctx, `
		SELECT s.id::text, s.decided_at, s.status = 'approved', coalesce(s.moderation_reason, ''), coalesce(s.moderator_id, ''),
		       coalesce(s.first_approved_by, ''), s.requires_moderation, s.attempts_started,
		       (SELECT max(l.at) FROM audit_log l
		         WHERE l.session_id = s.id AND l.kind = 'session_decided' AND l.data->>'to' = 'moderation'),
		       (SELECT a.reason FROM session_attempts a
		         WHERE a.session_id = s.id AND a.finished_at IS NOT NULL ORDER BY a.n DESC LIMIT 1),
		       b.match_score, b.threshold, coalesce(b.threshold_version, ''), coalesce(b.model, ''), b.liveness_score, b.same_person_score
		FROM sessions s
		LEFT JOIN LATERAL (
			SELECT nullif(match_score, 0) AS match_score, nullif(threshold, 0) AS threshold, threshold_version, model, liveness_score, same_person_score
			FROM session_attempts WHERE session_id = s.id AND finished_at IS NOT NULL
			ORDER BY match_score DESC NULLS LAST, n DESC LIMIT 1
		) b ON true
		WHERE s.status IN ('approved', 'rejected') AND s.moderator_id IS NOT NULL AND s.decided_at >= $1
		ORDER BY s.decided_at, s.id`, since)
	if err != nil {
		return nil, fmt.Errorf("list decisions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DecisionRecord, error) {
		var d DecisionRecord
		var entered *time.Time
		var reason *string
		var escalated bool
		err := r.Scan(&d.SessionID, &d.DecidedAt, &d.Approved, &d.RejectReason, &d.ModeratorID, &d.FirstApproverID, &escalated, &d.Attempts,
			&entered, &reason, &d.MatchScore, &d.Threshold, &d.ThresholdVersion, &d.Model, &d.LivenessScore, &d.SamePersonScore)
		if err != nil {
			return d, err
		}
		if reason != nil {
			d.Reason = session.Reason(*reason)
		}
		d.Why = why(d.Reason, escalated)
		if entered != nil {
			d.EnteredAt = *entered
			d.OnTime = !d.DecidedAt.After(cal.Due(d.EnteredAt))
		}
		return d, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list decisions: %w", err)
	}
	return out, nil
}

// why says why a session went to the queue, from its last attempt's
// reason and whether it was flagged after repeated lockouts.
func why(r session.Reason, escalated bool) string {
	switch {
	case r == session.ReasonRegisterPhotoMissing || r == session.ReasonRegisterPhotoUnusable:
		return WhyRegisterPhoto
	case r == session.ReasonNoMatch:
		return WhyNearThreshold
	case escalated:
		return WhyRepeatedLockouts
	}
	return WhyOther
}

// DecisionsHeader is the first line of WriteDecisionsCSV's output.
var DecisionsHeader = []string{"session_id", "entered_at", "decided_at", "on_time", "why", "reason", "decision", "reject_reason",
	"moderator_id", "first_approver_id", "attempts", "match_score", "threshold", "threshold_version", "model", "liveness_score", "same_person_score"}

// WriteDecisionsCSV writes recs as CSV with DecisionsHeader; times are
// RFC 3339 UTC, absent scores empty.
func WriteDecisionsCSV(w io.Writer, recs []DecisionRecord) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(DecisionsHeader)
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', 4, 64)
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, d := range recs {
		decision := "rejected"
		if d.Approved {
			decision = "approved"
		}
		_ = cw.Write([]string{d.SessionID, ts(d.EnteredAt), ts(d.DecidedAt), strconv.FormatBool(d.OnTime), d.Why, string(d.Reason),
			decision, d.RejectReason, d.ModeratorID, d.FirstApproverID, strconv.Itoa(d.Attempts), num(d.MatchScore), num(d.Threshold),
			d.ThresholdVersion, d.Model, num(d.LivenessScore), num(d.SamePersonScore)})
	}
	cw.Flush()
	return cw.Error()
}
