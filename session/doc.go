// Package session holds verification sessions, their attempts, and the
// 10-attempt / 10-minute lockout with its escalation, in Postgres.
//
// # Lifecycle
//
// A relying party creates a session for an IIN (Create) and gets a capture
// token; the applicant opens /capture/{token}, gives consent
// (RecordConsent) and makes attempts (StartAttempt, then FinishAttempt with
// the engine's Result). States:
//
//	open ──▶ matched | locked | moderation | expired | cancelled
//	moderation ──▶ approved | rejected        (Decide, by a moderator)
//
// Every transition enqueues a signed callback to the relying party
// (rp.Enqueue) and appends to the audit log in the same transaction.
//
// # What counts toward the lockout
//
// Outcomes no_match, liveness_failed, timeout and aborted count; match does
// not, and neither does error: a server fault is not the applicant's
// failure, and counting it would let an outage lock people out. Attempts
// whose reason is register_photo_missing or register_photo_unusable do not
// count either: retrying cannot help, so the session goes to a moderator.
// The session never compares scores: the decision policy's verdict
// (package policy) says where an attempt goes (Result.Route), and a
// no_match the policy routes to a person (just below the threshold) goes
// to a moderator uncounted.
//
// The failure budget belongs to the applicant (IIN), not to the session:
// otherwise opening a new session after nine failures would reset it and
// the lockout would never trigger. With one session at a time this is
// exactly "10 failed attempts in a session". The MaxFailedAttempts-th
// counted failure locks the IIN for LockoutDuration and closes every open
// session of that IIN as locked; after the lockout those sessions still
// refuse (ErrSessionClosed) and a new session starts with a full budget. A
// match (or a moderator's approval) also resets the budget; failures
// older than FailureWindow are forgotten.
//
// # Escalation
//
// Ten tries per window at a false-match rate of 1e-4 give an impostor about
// 1e-3 per window, so windows must not repeat freely: after
// EscalateAfterLockouts lockouts (default 2) within EscalationWindow (24 h),
// a new session for that IIN is created with RequiresModeration — a match
// in it goes to moderation instead of issuing. If EscalationLockout is set
// instead, the lockout that reaches the count lasts EscalationLockout (e.g.
// 24 h) and sessions are not flagged.
//
// # Moderation cases
//
// A session in moderation is a case. Package moderation reads the queue
// and orchestrates a review; the writes are here (case.go), and no other
// package writes the sessions table (TestOnlySessionWritesSessions).
// ClaimCase reserves a case for a moderator and audits the opening;
// DecideCase checks the moderator's claim and the four-eyes rule under the
// locks and records a first approval, or the decision with its callback,
// audit records and the release of the claim, in one transaction.
//
// # Concurrency and clocks
//
// Every write locks the applicant's subject_guards row first (SELECT … FOR
// UPDATE), then session rows, then attempt rows, and appends audit records
// last (releasing claims, ReleaseCase and ReleaseClaims, touches only the
// claim columns and takes no guard lock); all time decisions (lockout, expiry, the capture deadline) use the
// database clock read after the lock was granted. So any number of vidid
// replicas sharing one database agree: at most one attempt runs per
// session (ErrAttemptInProgress, also enforced by a partial unique index)
// and per IIN across its open sessions (ErrAttemptInProgress, under the
// guard lock), and an 11th failure can never be recorded. A running attempt older than
// MaxCaptureTime counts as timed out: a late FinishAttempt records
// timeout, and StartAttempt and Expire close it so.
//
// # Who sees what
//
// The applicant sees Status: phase, attempts left, lock end, outcome and
// the last reason code (injection_suspected and face_changed shown as
// liveness_failed) —
// never scores. The relying party sees Detail and the callbacks: states
// and reason codes per attempt, a masked IIN, no scores; it asked for an
// identity decision, and scores would help an attacker tune an attack and
// invite RPs to apply their own thresholds. Scores, thresholds and model
// versions stay in session_attempts and the audit log. Logs carry the
// session id and a masked IIN only.
package session
