package policy

import "errors"

// Sentinel errors callers branch on (errors.Is).
var (
	// ErrInvalid: a policy (or an override) fails validation; it is never
	// used.
	ErrInvalid = errors.New("invalid decision policy")
	// ErrNoModel: the policy has no rules for the embedder in use.
	ErrNoModel = errors.New("no policy for embedder model")
	// ErrNotFound: no policy of that version.
	ErrNotFound = errors.New("policy not found")
	// ErrNoActive: the database holds no active policy (seed one).
	ErrNoActive = errors.New("no active decision policy")
	// ErrExists: a policy of that version exists with other contents.
	ErrExists = errors.New("policy version exists with other contents")
)
