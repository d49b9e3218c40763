package rp

import "errors"

// Sentinel errors callers branch on.
var (
	// ErrUnauthorized: the API key is malformed, unknown, wrong or belongs
	// to a disabled client. Deliberately one error for all four.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound: no client with that id.
	ErrNotFound = errors.New("relying party not found")
	// ErrInvalidClient: bad input to Create (empty name, bad host entry).
	ErrInvalidClient = errors.New("invalid relying party")
	// ErrURLNotAllowed: a callback or return URL is not https (or http to
	// loopback), or its host is not in the client's allow-list.
	ErrURLNotAllowed = errors.New("url not allowed")
	// ErrInvalidSignature: a Vidid-Signature header is malformed or its
	// MAC does not match the body.
	ErrInvalidSignature = errors.New("invalid callback signature")
	// ErrSignatureExpired: the signature's timestamp is outside the
	// tolerance (a replay, or a badly wrong clock).
	ErrSignatureExpired = errors.New("callback signature timestamp outside tolerance")
	// ErrDispatcherRunning: Start was called on a running Dispatcher.
	ErrDispatcherRunning = errors.New("dispatcher already running")
)
