package moderation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"vidid/idnum"
	"vidid/register"
	"vidid/session"
)

// Citizen is the register record a moderator compares with (no photo
// bytes: those are fetched with RegisterPhoto).
type Citizen struct {
	Surname    string    `json:"surname"`
	GivenName  string    `json:"given_name"`
	Patronymic string    `json:"patronymic,omitempty"`
	BirthDate  time.Time `json:"birth_date"`
	HasPhoto   bool      `json:"has_photo"`
	// Problem says why the record could not be read ("" when it could).
	Problem string `json:"problem,omitempty"`
}

// CaseAttempt is one capture attempt of a case, with its scores.
type CaseAttempt struct {
	N                int             `json:"n"`
	StartedAt        time.Time       `json:"started_at"`
	FinishedAt       *time.Time      `json:"finished_at,omitempty"`
	Outcome          session.Outcome `json:"outcome,omitempty"`
	Reason           session.Reason  `json:"reason,omitempty"`
	Counted          bool            `json:"counted"`
	LivenessScore    *float64        `json:"liveness_score,omitempty"`
	MatchScore       *float64        `json:"match_score,omitempty"`
	SamePersonScore  *float64        `json:"same_person_score,omitempty"`
	Threshold        *float64        `json:"threshold,omitempty"`
	ThresholdVersion string          `json:"threshold_version,omitempty"`
	Model            string          `json:"model,omitempty"`
	BestFrames       int             `json:"best_frames"`
	ClipFrames       int             `json:"clip_frames"`
	id               string
}

// Case is what a moderator sees of one session.
type Case struct {
	CaseSummary
	Citizen  Citizen       `json:"citizen"`
	Attempts []CaseAttempt `json:"attempt_list"`
	// History is the applicant's other sessions (by IIN), newest first, at
	// most historyLimit: lockouts, rejections and relying parties say a lot
	// about a "repeated lockouts" case.
	History []PastSession `json:"history"`
}

// PastSession is one earlier (or parallel) session of the same applicant.
type PastSession struct {
	CreatedAt      time.Time     `json:"created_at"`
	ClientName     string        `json:"client_name"`
	State          session.State `json:"state"`
	Attempts       int           `json:"attempts"`
	FailedAttempts int           `json:"failed_attempts"`
	// RejectReason is the moderator's code when one rejected it.
	RejectReason string `json:"reject_reason,omitempty"`
}

// historyLimit bounds Case.History.
const historyLimit = 20

// Open claims a case for mod and returns it. The opening is recorded in
// the audit log in the same transaction as the claim, and the case is read
// in it too: the register photo and the frames are served only to the
// moderator holding the claim, so every look at them follows an audited
// opening. A case claimed by another moderator gives a *ClaimError; a
// decided one ErrNotInQueue.
func (q *Queue) Open(ctx context.Context, mod Moderator, sessionID string) (Case, error) {
	var c Case
	var iin string
	err := q.sessions.ClaimCase(ctx, sessionID, mod.ID, q.cfg.ClaimTTL, func(ctx context.Context, tx pgx.Tx, cl session.Claim) error {
		iin = cl.IIN
		var err error
		c.CaseSummary, err = q.scanSummary(tx.QueryRow(ctx, listColumns+` WHERE s.id = $1::uuid`, sessionID))
		if err != nil {
			return fmt.Errorf("load case: %w", err)
		}
		if c.Attempts, err = loadAttempts(ctx, tx, sessionID); err != nil {
			return err
		}
		c.History, err = loadHistory(ctx, tx, iin, sessionID)
		return err
	})
	var held *session.ClaimedError
	if errors.As(err, &held) {
		return Case{}, q.claimError(ctx, held)
	}
	if err != nil {
		return Case{}, caseError(err)
	}
	q.m.opened.Inc()
	c.Citizen = q.citizen(ctx, iin)
	q.log.InfoContext(ctx, "case opened", "session_id", sessionID, "moderator_id", mod.ID)
	return c, nil
}

// claimError names the moderator holding a case.
func (q *Queue) claimError(ctx context.Context, held *session.ClaimedError) error {
	ce := &ClaimError{Until: held.Until}
	if err := q.pool.QueryRow(ctx, `SELECT name FROM moderators WHERE id = $1`, held.ModeratorID).Scan(&ce.By); err != nil {
		return fmt.Errorf("look up the moderator holding the case: %w", err)
	}
	return ce
}

func loadHistory(ctx context.Context, tx pgx.Tx, iin, sessionID string) ([]PastSession, error) {
	rows, err := tx.Query(ctx, `
		SELECT s.created_at, c.name, s.status, s.attempts_started, s.failed_attempts, coalesce(s.moderation_reason, '')
		FROM sessions s JOIN rp_clients c ON c.id = s.client_id
		WHERE s.iin = $1 AND s.id <> $2::uuid ORDER BY s.created_at DESC LIMIT $3`, iin, sessionID, historyLimit)
	if err != nil {
		return nil, fmt.Errorf("load history: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PastSession, error) {
		var p PastSession
		var state string
		err := r.Scan(&p.CreatedAt, &p.ClientName, &state, &p.Attempts, &p.FailedAttempts, &p.RejectReason)
		p.State = session.State(state)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("load history: %w", err)
	}
	return out, nil
}

func loadAttempts(ctx context.Context, tx pgx.Tx, sessionID string) ([]CaseAttempt, error) {
	rows, err := tx.Query(ctx, `
		SELECT a.id::text, a.n, a.started_at, a.finished_at, coalesce(a.outcome, ''), coalesce(a.reason, ''), a.counted,
		       a.liveness_score, nullif(a.match_score, 0), a.same_person_score, nullif(a.threshold, 0),
		       coalesce(a.threshold_version, ''), coalesce(a.model, ''),
		       (SELECT count(*) FROM attempt_evidence e WHERE e.attempt_id = a.id AND e.kind = 'best'),
		       (SELECT count(*) FROM attempt_evidence e WHERE e.attempt_id = a.id AND e.kind = 'clip')
		FROM session_attempts a WHERE a.session_id = $1::uuid ORDER BY a.n`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("load attempts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CaseAttempt, error) {
		var a CaseAttempt
		var outcome, reason string
		err := r.Scan(&a.id, &a.N, &a.StartedAt, &a.FinishedAt, &outcome, &reason, &a.Counted,
			&a.LivenessScore, &a.MatchScore, &a.SamePersonScore, &a.Threshold, &a.ThresholdVersion, &a.Model,
			&a.BestFrames, &a.ClipFrames)
		a.Outcome, a.Reason = session.Outcome(outcome), session.Reason(reason)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("load attempts: %w", err)
	}
	return out, nil
}

func (q *Queue) citizen(ctx context.Context, iin string) Citizen {
	cz, err := q.register.Get(ctx, iin)
	if err != nil {
		q.log.WarnContext(ctx, "register record unreadable for a case", "iin", idnum.MaskIIN(iin), "err", err)
		if errors.Is(err, register.ErrNotFound) {
			return Citizen{Problem: "The IIN is no longer in the population register."}
		}
		return Citizen{Problem: "The register record could not be read; see the server log."}
	}
	return Citizen{Surname: cz.Surname, GivenName: cz.GivenName, Patronymic: cz.Patronymic, BirthDate: cz.BirthDate,
		HasPhoto: len(cz.Photo) > 0}
}
