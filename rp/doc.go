// Package rp serves relying parties: the e-government portal and the CA's
// registration service that open verification sessions.
//
// Clients authenticate with an API key of the form vidid_<id>_<secret>.
// Only SHA-256(secret) is stored; the id selects the row and the hashes are
// compared in constant time. Each client has a callback secret (kept in the
// database in clear, because signing needs it) and an allow-list of hosts
// that its callback and return URLs may point to.
//
// Every final session decision is written to the rp_callbacks outbox in the
// same transaction as the decision (Enqueue). A Dispatcher delivers the
// outbox: it leases due rows with FOR UPDATE SKIP LOCKED (so several
// replicas share the work), POSTs each body with
//
//	Vidid-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//	Vidid-Event-Id:  <event id, stable across retries>
//
// and retries any non-2xx answer with exponential backoff and jitter until
// MaxAttempts, after which the row is marked failed. Delivery is at least
// once: receivers de-duplicate on the event id and check the signature with
// VerifySignature.
package rp
