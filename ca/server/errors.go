package server

import (
	"errors"
	"net/http"

	"vidid/assertion"
	"vidid/ca"
)

// apiError is what a failed request turns into: a status, a stable code
// (the JSON "error" field and the metric's reason label, so a bounded set),
// an English message for API clients, and the key of the applicant-facing
// message in the page languages.
type apiError struct {
	Status  int
	Code    string
	Message string
	MsgKey  string
	err     error
}

func (e *apiError) Error() string {
	if e.err != nil {
		return e.Code + ": " + e.err.Error()
	}
	return e.Code
}

func (e *apiError) Unwrap() error { return e.err }

// errorMapping: first match wins.
var errorMappings = []struct {
	target  error
	status  int
	code    string
	message string
	msgKey  string
}{
	{assertion.ErrReplayed, http.StatusConflict, "assertion_replayed", "The assertion has already been used.", "err_assertion_replayed"},
	{assertion.ErrExpired, http.StatusUnauthorized, "assertion_expired", "The assertion has expired.", "err_assertion_expired"},
	{assertion.ErrNotYetValid, http.StatusUnauthorized, "assertion_not_yet_valid", "The assertion is not valid yet (clock skew?).", "err_assertion_invalid"},
	{assertion.ErrMalformed, http.StatusUnauthorized, "assertion_malformed", "The assertion is not a well-formed vidid assertion.", "err_assertion_invalid"},
	{assertion.ErrAlgNotAllowed, http.StatusUnauthorized, "assertion_alg_not_allowed", "The assertion's signature algorithm is not allowed.", "err_assertion_invalid"},
	{assertion.ErrUnknownKey, http.StatusUnauthorized, "assertion_unknown_key", "The assertion is signed with an unknown key.", "err_assertion_invalid"},
	{assertion.ErrBadSignature, http.StatusUnauthorized, "assertion_bad_signature", "The assertion's signature is invalid.", "err_assertion_invalid"},
	{assertion.ErrWrongIssuer, http.StatusUnauthorized, "assertion_wrong_issuer", "The assertion comes from an unexpected issuer.", "err_assertion_invalid"},
	{assertion.ErrWrongAudience, http.StatusUnauthorized, "assertion_wrong_audience", "The assertion is meant for another certificate authority.", "err_assertion_invalid"},
	{assertion.ErrLifetimeTooLong, http.StatusUnauthorized, "assertion_lifetime_too_long", "The assertion's lifetime exceeds 5 minutes.", "err_assertion_invalid"},
	{assertion.ErrPolicy, http.StatusUnauthorized, "assertion_policy", "The assertion does not satisfy this CA's policy.", "err_assertion_invalid"},
	{assertion.ErrKeysUnavailable, http.StatusServiceUnavailable, "keys_unavailable", "The issuer's verification keys cannot be fetched; try again later.", "err_keys_unavailable"},
	{ca.ErrWeakPassword, http.StatusUnprocessableEntity, "weak_password", "The password breaks the password rules.", "err_weak_password"},
	{ca.ErrBadCSR, http.StatusBadRequest, "bad_csr", "The certificate request is not a valid PEM PKCS#10 request.", "err_bad_request"},
	{ca.ErrUnsupportedKey, http.StatusBadRequest, "unsupported_key", "The request's key type or size is not supported (RSA 2048–4096, ECDSA P-256/P-384).", "err_bad_request"},
}

// Errors raised by the handlers themselves.
var (
	errMissingAssertion = &apiError{Status: http.StatusUnauthorized, Code: "missing_assertion",
		Message: "No assertion was sent.", MsgKey: "err_missing_assertion"}
	errPasswordMismatch = &apiError{Status: http.StatusUnprocessableEntity, Code: "password_mismatch",
		Message: "The passwords do not match.", MsgKey: "err_password_mismatch"}
	errTooLarge = &apiError{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
		Message: "The request body is too large.", MsgKey: "err_bad_request"}
	errUnsupportedMedia = &apiError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
		Message: "Send application/json.", MsgKey: "err_bad_request"}
)

func badRequest(err error) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "bad_request", Message: "The request could not be read.", MsgKey: "err_bad_request", err: err}
}

// toAPIError maps any error to the response it deserves; unknown errors
// are internal (500) and keep their detail out of the response.
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &apiError{Status: errTooLarge.Status, Code: errTooLarge.Code, Message: errTooLarge.Message, MsgKey: errTooLarge.MsgKey, err: err}
	}
	for _, m := range errorMappings {
		if errors.Is(err, m.target) {
			key := m.msgKey
			var pe *ca.PasswordError
			if errors.As(err, &pe) {
				key = "err_" + string(pe.Problem)
				return &apiError{Status: m.status, Code: m.code, Message: pe.Error(), MsgKey: key, err: err}
			}
			return &apiError{Status: m.status, Code: m.code, Message: m.message, MsgKey: key, err: err}
		}
	}
	return &apiError{Status: http.StatusInternalServerError, Code: "internal", Message: "Internal error.", MsgKey: "err_internal", err: err}
}
