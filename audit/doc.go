// Package audit is vidid's append-only, hash-chained audit log in Postgres.
//
// Every record carries seq (1, 2, 3 … without gaps), the database time, a
// kind, an optional session id, an optional subject hash (HMAC-SHA256 of the
// IIN under a server key — never the raw IIN), a JSON object of details,
// the previous record's hash and its own hash:
//
//	hash = SHA-256(prev_hash || canonical JSON of {seq, at, kind, session_id, subject_hash, data})
//
// The first record's prev_hash is 32 zero bytes. Canonical JSON has keys in
// byte order, no insignificant white space and numbers in their shortest
// exact decimal form, so the hash survives Postgres' jsonb normalisation.
//
// Appends happen inside the caller's transaction (Log.Append) and are
// serialised with a transaction-scoped advisory lock, so the chain never
// forks and a rolled-back transaction leaves no record and no gap. Call
// Append last in a transaction: the lock is held until commit.
//
// The table also refuses UPDATE, DELETE and TRUNCATE by trigger. Verify
// re-reads the chain and detects an edited, deleted, reordered or inserted
// record even when someone with superuser rights disabled that trigger;
// it cannot, by itself, detect the removal of the newest records (a
// truncated tail is a valid shorter chain): publish Report.Head and
// Report.LastSeq elsewhere (logs, another system) and compare.
package audit
