// Package server is the reference CA's own HTTP server (the `vidid ca
// serve` subcommand runs New's handler on its own port): server-rendered
// pages in Kazakh, Russian and English (by ?lang=, then Accept-Language;
// Kazakh by default) that take an applicant from vidid's result page to a
// downloaded key store, a JSON API for certificate requests, the CA chain,
// health and metrics.
//
// Flow: vidid's result page auto-submits a form with the field "assertion"
// to POST /enroll. The server checks the assertion without consuming it
// (signature via vidid's JWKS, audience, expiry, policy, not yet used) and
// shows the applicant's name and masked IIN with a password form. POST
// /enroll/keystore (assertion + password + confirm) runs ca.Enroll, which
// consumes the assertion in the transaction that records the certificate,
// and answers with a page offering the PKCS#12 as a data: URL download
// named IIN.p12 — the key store exists only in that response, never on the
// server — or with the raw file when the request's Accept names
// application/x-pkcs12. A weak or mismatched password shows the form again
// (422) without consuming the assertion.
//
// CSRF: there is no session and no cookie. Every state-changing POST
// carries the assertion itself — a signed, single-use, five-minute bearer
// credential bound to this CA's audience — and does nothing without one.
// A forged cross-site post cannot supply a victim's assertion, and anyone
// holding one could post it directly. The first post arrives cross-origin
// from vidid by design, so Origin checks or SameSite cookies cannot be
// used there; the page the applicant sees names the person the assertion
// is for, which defeats planting someone else's assertion on them. Pages
// send a strict Content-Security-Policy (no scripts; only the inline style
// by hash; form-action 'self'; no framing), no-store caching and
// no-referrer.
//
// Errors map in one place (errors.go) to a status, a stable code (the JSON
// {"error": code, "message": …} and the reason label of
// vidid_ca_enroll_failures_total) and a localised page message: 401 for an
// invalid assertion, 409 when it was already used, 422 for a weak or
// mismatched password, 400 for a bad CSR or unsupported key, 413 for an
// oversized body, 503 when vidid's keys cannot be fetched, 500 otherwise
// (detail only in the log). The standard library's ServeMux suffices here;
// echo stays in package api.
package server
