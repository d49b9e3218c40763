// Package handover hands a verified applicant over to the certificate
// authority: it issues the signed identity assertion for a match and says
// where the applicant's browser takes it. There are two paths, one
// package:
//
//   - a direct match of the engine (check method bvr): the attempt's
//     verdict was a match and the session is matched;
//   - a moderator's approval (check method pvr): the assertion is issued
//     only after a fresh live capture in the same link, which the decision
//     policy matched to the frames the moderator approved (and to the
//     register photo where usable), within the hand-over window after the
//     approval. The capture link alone yields nothing.
//
// Either way the issue is recorded in the audit log in the same
// transaction (for pvr also the mark that makes it once-only), and the
// assertion carries no score: the scores stay with the attempt, which the
// assertion's txn names.
package handover

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/assertion"
	"vidid/attempt"
	"vidid/audit"
	"vidid/capture"
	"vidid/engine"
	"vidid/register"
	"vidid/session"
)

// Signer issues assertions (assertion.Issuer).
type Signer interface {
	Issue(ctx context.Context, c assertion.Claims) (token, jti string, err error)
}

// Auditor records the issue in the caller's transaction (audit.Log).
type Auditor interface {
	Append(ctx context.Context, tx pgx.Tx, e audit.Entry) (audit.Record, error)
}

// Sessions is what the hand-over needs of the session store.
type Sessions interface {
	MarkHandedOver(ctx context.Context, tx pgx.Tx, sessionID string) (session.Handover, error)
	ApprovedAttempt(ctx context.Context, sessionID string) (string, error)
}

// Citizens reads the register record the assertion names.
type Citizens interface {
	Get(ctx context.Context, iin string) (register.Citizen, error)
}

// Frames reads an attempt's stored evidence frames (evidence.PG).
type Frames interface {
	Load(ctx context.Context, attemptID, kind string) ([][]byte, error)
}

// Embedder embeds the largest face of a frame (the engine pipeline).
type Embedder interface {
	EmbedLargest(ctx context.Context, f engine.Frame) (engine.Probe, error)
}

// Config configures the hand-over.
type Config struct {
	// CAURL is the CA's base URL; the browser posts to CAURL/enroll.
	CAURL string
	// Source names the register in the assertion.
	Source string
	// Checks says which liveness checks the policy in force enforces.
	Checks func() assertion.Checks
}

// Service is the hand-over.
type Service struct {
	cfg      Config
	pool     *pgxpool.Pool
	signer   Signer
	audit    Auditor
	sessions Sessions
	citizens Citizens
	frames   Frames
	embedder Embedder
}

// New returns the hand-over service. frames and embedder serve the
// comparison with the approved frames; without them an approved session
// cannot be handed over.
func New(cfg Config, pool *pgxpool.Pool, signer Signer, a Auditor, s Sessions, c Citizens, frames Frames, emb Embedder) (*Service, error) {
	if cfg.CAURL == "" {
		return nil, errors.New("handover: the CA's URL is required")
	}
	if cfg.Source == "" {
		cfg.Source = assertion.DefaultSource
	}
	if cfg.Checks == nil {
		cfg.Checks = func() assertion.Checks { return assertion.Checks{} }
	}
	return &Service{cfg: cfg, pool: pool, signer: signer, audit: a, sessions: s, citizens: c, frames: frames, embedder: emb}, nil
}

var _ attempt.Issuer = (*Service)(nil)

// IssueFor issues the assertion for a matched attempt: bvr for a matched
// session, pvr for the fresh capture of an approved one.
func (s *Service) IssueFor(ctx context.Context, m attempt.Match) (*capture.Next, error) {
	var ch []string
	for _, c := range m.Challenges {
		ch = append(ch, string(c))
	}
	checks := s.cfg.Checks()
	checks.ActiveChallenges = len(ch) > 0
	ev := assertion.Evidence{PolicyVersion: m.PolicyVersion, Model: m.Model, Checks: checks, Challenges: ch}
	switch m.Session.State {
	case session.StateMatched:
		return s.issue(ctx, m, assertion.MethodBVR, ev, func(context.Context, pgx.Tx) (session.Handover, error) { return session.Handover{}, nil })
	case session.StateApproved:
		return s.issue(ctx, m, assertion.MethodPVR, ev, func(ctx context.Context, tx pgx.Tx) (session.Handover, error) {
			return s.sessions.MarkHandedOver(ctx, tx, m.Session.ID)
		})
	}
	return nil, fmt.Errorf("%w: session %s is %s", ErrNotMatched, m.Session.ID, m.Session.State)
}

// issue signs the assertion and records it, with mark (the pvr once-only
// mark, which names the moderator and the approval time) in one
// transaction: an assertion never reaches a browser without its audit
// record, and a failed step leaves nothing marked.
func (s *Service) issue(ctx context.Context, m attempt.Match, method assertion.CheckMethod, ev assertion.Evidence,
	mark func(context.Context, pgx.Tx) (session.Handover, error)) (*capture.Next, error) {
	var tok string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		h, err := mark(ctx, tx)
		if err != nil {
			return err
		}
		verifiedAt := h.DecidedAt
		ev.ModeratorID = h.ModeratorID
		cz := m.Citizen
		if cz.IIN == "" { // e.g. the register photo was unusable: read the record
			if cz, err = s.citizens.Get(ctx, m.Session.IIN); err != nil {
				return fmt.Errorf("register record for the assertion: %w", err)
			}
		}
		var jti string
		tok, jti, err = s.signer.Issue(ctx, assertion.Claims{
			SessionID: m.Session.ID, Txn: m.AttemptID, Method: method, VerifiedAt: verifiedAt, Source: s.cfg.Source,
			Person:   assertion.Person{GivenName: cz.GivenName, FamilyName: cz.Surname, MiddleName: cz.Patronymic, BirthDate: cz.BirthDate, IIN: cz.IIN},
			Evidence: ev,
		})
		if err != nil {
			return fmt.Errorf("issue assertion: %w", err)
		}
		data := map[string]any{"jti": jti, "attempt": m.AttemptID, "method": string(method), "policy_version": ev.PolicyVersion}
		if ev.ModeratorID != "" {
			data["moderator_id"] = ev.ModeratorID
		}
		_, err = s.audit.Append(ctx, tx, audit.Entry{Kind: audit.KindAssertionIssued, SessionID: m.Session.ID, Subject: cz.IIN, Data: data})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &capture.Next{URL: strings.TrimRight(s.cfg.CAURL, "/") + "/enroll", Method: "POST", Fields: map[string]string{"assertion": tok}}, nil
}

// ApprovedEmbeddings embeds the best frames of the attempt the moderator
// approved, for the comparison with the hand-over's fresh capture.
func (s *Service) ApprovedEmbeddings(ctx context.Context, sessionID string) ([]engine.Embedding, error) {
	if s.frames == nil || s.embedder == nil {
		return nil, fmt.Errorf("%w: no evidence store", ErrNoApprovedFrames)
	}
	id, err := s.sessions.ApprovedAttempt(ctx, sessionID)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoApprovedFrames, err)
	}
	jpegs, err := s.frames.Load(ctx, id, "best")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoApprovedFrames, err)
	}
	var out []engine.Embedding
	for _, j := range jpegs {
		f, err := engine.DecodeImage(j)
		if err != nil {
			return nil, fmt.Errorf("decode an approved frame: %w", err)
		}
		pr, err := s.embedder.EmbedLargest(ctx, f)
		if err != nil {
			continue // a frame the embedder cannot use now; the others decide
		}
		out = append(out, pr.Embedding)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: none of %d approved frames has a usable face", ErrNoApprovedFrames, len(jpegs))
	}
	return out, nil
}

// Sentinel errors.
var (
	// ErrNotMatched: the session is neither matched nor approved.
	ErrNotMatched = errors.New("session not matched or approved")
	// ErrNoApprovedFrames: the frames the moderator approved cannot be
	// read (purged, or no evidence was kept); the hand-over cannot check
	// that the fresh capture shows the approved person.
	ErrNoApprovedFrames = errors.New("no approved frames to compare with")
)
