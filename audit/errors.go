package audit

import "errors"

// Sentinel errors callers branch on.
var (
	// ErrInvalidEntry: the entry has an unknown kind or data that is not a
	// JSON object; nothing was written.
	ErrInvalidEntry = errors.New("invalid audit entry")
	// ErrTampered: Verify found a record whose hash, link or sequence number
	// does not fit the chain. The Report names the first bad seq.
	ErrTampered = errors.New("audit log chain broken")
	// ErrConfig: the Log was configured without a usable subject key.
	ErrConfig = errors.New("invalid audit configuration")
)
