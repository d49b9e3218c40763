package api

import (
	"context"
	"io"
	"net/http"

	"vidid/register"
	"vidid/session"

	"vidid/engine"
	"vidid/policy"
	"vidid/verify"
)

// ImageVerifier answers one-image verification requests.
type ImageVerifier interface {
	VerifyFrame(ctx context.Context, iin string, f engine.Frame) (verify.Result, error)
}

// Policies gives the decision policy in force (policy.Holder): the verify
// API's match threshold is the policy's, like every attempt's.
type Policies interface {
	Current() (*policy.Policy, error)
}

// Client is an authenticated relying party.
type Client struct {
	ID   string
	Name string
	// Analyst: /v1/verify shows this client scores, thresholds and why a
	// comparison could not be made (rp.ScopeAnalyst).
	Analyst bool
}

// VerifyAuditor records every /v1/verify call in the audit log: who asked
// about which IIN and what they were told. A call it cannot record is
// answered with an error, never silently.
type VerifyAuditor interface {
	RecordVerify(ctx context.Context, clientID, iin, answer string) error
}

// ClientAuth authenticates relying parties by API key.
type ClientAuth interface {
	Authenticate(ctx context.Context, apiKey string) (Client, error)
}

// Deps are the domain services the server calls. A nil service leaves its
// routes out (a server that only verifies images needs no WebRTC).
type Deps struct {
	Verifier ImageVerifier
	// Policies is required with Verifier.
	Policies Policies
	// VerifyAudit is required with Verifier.
	VerifyAudit VerifyAuditor
	Clients     ClientAuth
	Sessions    Sessions
	Capture     Capture
	// Register, when set, is checked before a session opens, so a session
	// for an IIN without a register photo is refused at once.
	Register interface {
		Get(ctx context.Context, iin string) (register.Citizen, error)
	}
	// Demo, when set, serves the demo relying-party page.
	Demo *Demo
	// JWKS returns the assertion verification keys.
	JWKS func(ctx context.Context) ([]byte, error)
	// CapturePage renders the capture page (nil: no page).
	CapturePage func(w io.Writer, s session.Session, token, lang string) error
	// CapturePageCSP is the Content-Security-Policy of the capture page.
	CapturePageCSP string
	// Static serves the capture page's assets under /static/.
	Static http.Handler
	// Moderation, Moderators and ModerationPages serve the moderator UI
	// under /moderation (all three, or none).
	Moderation      ModerationQueue
	Moderators      ModeratorAuth
	ModerationPages ModerationPages
}
