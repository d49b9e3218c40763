package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/assertion"
	"vidid/attempt"
	"vidid/audit"
	"vidid/capture"
	"vidid/register"
	"vidid/session"
)

// assertionIssuer issues the identity assertion on a match and points the
// applicant's browser at the CA's enrolment page with it.
type assertionIssuer struct {
	iss   *assertion.Issuer
	pool  *pgxpool.Pool
	audit *audit.Log
	caURL string
	// checks describes which liveness checks this deployment runs.
	checks assertion.Checks
	// sessions and citizens serve Handover (approved sessions).
	sessions *session.PG
	citizens interface {
		Get(ctx context.Context, iin string) (register.Citizen, error)
	}
}

var _ attempt.Issuer = (*assertionIssuer)(nil)

func (a *assertionIssuer) IssueFor(ctx context.Context, m attempt.Match) (*capture.Next, error) {
	var ch []string
	for _, c := range m.Challenges {
		ch = append(ch, string(c))
	}
	checks := a.checks
	checks.ActiveChallenges = len(ch) > 0
	tok, jti, err := a.iss.Issue(ctx, assertion.Claims{
		SessionID: m.Session.ID, Txn: m.AttemptID, Method: assertion.MethodBVR, Source: "population register (demo)",
		Person: personOf(m.Citizen),
		Evidence: assertion.Evidence{LivenessScore: m.LivenessScore, MatchScore: m.MatchScore, ThresholdVersion: m.ThresholdVersion,
			Model: m.Model, Checks: checks, Challenges: ch},
	})
	if err != nil {
		return nil, fmt.Errorf("issue assertion: %w", err)
	}
	// The assertion is not handed out unless its issue is in the audit log.
	if err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		_, err := a.audit.Append(ctx, tx, audit.Entry{Kind: audit.KindAssertionIssued, SessionID: m.Session.ID, Subject: m.Citizen.IIN,
			Data: map[string]any{"jti": jti, "attempt": m.AttemptID, "method": string(assertion.MethodBVR), "threshold_version": m.ThresholdVersion}})
		return err
	}); err != nil {
		return nil, fmt.Errorf("audit assertion: %w", err)
	}
	return a.toCA(tok), nil
}

// toCA is where the applicant's browser posts an assertion: the CA's
// enrolment page.
func (a *assertionIssuer) toCA(assertion string) *capture.Next {
	return &capture.Next{URL: strings.TrimRight(a.caURL, "/") + "/enroll", Method: "POST", Fields: map[string]string{"assertion": assertion}}
}

// personOf is the assertion's person: the citizen as the register has them.
func personOf(c register.Citizen) assertion.Person {
	return assertion.Person{GivenName: c.GivenName, FamilyName: c.Surname, MiddleName: c.Patronymic, BirthDate: c.BirthDate, IIN: c.IIN}
}

// Handover issues the assertion of a session a moderator approved (check
// method pvr, with the moderator's id) to the applicant holding its capture
// token, once, and says where their browser posts it. The issue is in the
// audit log in the transaction that marks the session handed over.
func (a *assertionIssuer) Handover(ctx context.Context, token string) (*capture.Next, error) {
	var next *capture.Next
	_, err := a.sessions.Handover(ctx, token, func(ctx context.Context, tx pgx.Tx, h session.Handover) error {
		cz, err := a.citizens.Get(ctx, h.Session.IIN)
		if err != nil {
			return fmt.Errorf("register record for the assertion: %w", err)
		}
		checks := a.checks
		checks.ActiveChallenges = false // not known per attempt here; a person decided
		tok, jti, err := a.iss.Issue(ctx, assertion.Claims{
			SessionID: h.Session.ID, Txn: "case:" + h.Session.ID, Method: assertion.MethodPVR, VerifiedAt: h.DecidedAt,
			Source: "population register (demo)",
			Person: personOf(cz),
			Evidence: assertion.Evidence{LivenessScore: h.LivenessScore, MatchScore: h.MatchScore, ThresholdVersion: h.ThresholdVersion,
				Model: h.Model, Checks: checks, ModeratorID: h.ModeratorID},
		})
		if err != nil {
			return fmt.Errorf("issue assertion: %w", err)
		}
		if _, err := a.audit.Append(ctx, tx, audit.Entry{Kind: audit.KindAssertionIssued, SessionID: h.Session.ID, Subject: cz.IIN,
			Data: map[string]any{"jti": jti, "method": string(assertion.MethodPVR), "moderator_id": h.ModeratorID,
				"threshold_version": h.ThresholdVersion}}); err != nil {
			return err
		}
		next = a.toCA(tok)
		return nil
	})
	return next, err
}

// openAssertionKeys opens the shared signing keys (creating the first one).
func openAssertionKeys(ctx context.Context, pool *pgxpool.Pool, kek []byte) (*assertion.PGKeys, error) {
	keys, err := assertion.NewPGKeys(pool, assertion.PGKeysConfig{KEK: kek}, nil)
	if err != nil {
		return nil, err
	}
	if _, _, err := keys.EnsureKey(ctx); err != nil {
		return nil, fmt.Errorf("assertion signing key: %w", err)
	}
	return keys, nil
}
