package api

import (
	"context"

	"vidid/engine"
	"vidid/verify"
)

// ImageVerifier answers one-image verification requests.
type ImageVerifier interface {
	VerifyFrame(ctx context.Context, iin string, f engine.Frame) (verify.Result, error)
}

// Client is an authenticated relying party.
type Client struct {
	ID   string
	Name string
}

// ClientAuth authenticates relying parties by API key.
type ClientAuth interface {
	Authenticate(ctx context.Context, apiKey string) (Client, error)
}

// Deps are the domain services the server calls. A nil service leaves its
// routes out (a server that only verifies images needs no WebRTC).
type Deps struct {
	Verifier ImageVerifier
	Clients  ClientAuth
	Sessions Sessions
	Capture  Capture
}
