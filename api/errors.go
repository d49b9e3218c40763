package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"vidid/engine"
	"vidid/idnum"
	"vidid/register"
	"vidid/verify"
	"vidid/webrtc/offer"
)

// Error is the one error type handlers return: an HTTP status, a stable
// machine-readable code and a message safe to show to the caller.
type Error struct {
	Status     int    `json:"-"`
	Code       string `json:"error"`
	Message    string `json:"message"`
	RetryAfter int    `json:"retry_after_seconds,omitempty"`
	// Issues lists quality problems, where relevant.
	Issues []engine.QualityIssue `json:"issues,omitempty"`
	err    error
}

func (e *Error) Error() string {
	if e.err != nil {
		return fmt.Sprintf("%s: %v", e.Code, e.err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.err }

// NewError returns a public error with its cause (kept for logs only).
func NewError(status int, code, msg string, cause error) *Error {
	return &Error{Status: status, Code: code, Message: msg, err: cause}
}

func newError(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

// errorMapping maps sentinel errors to public errors, first match wins.
// Packages added later contribute rows through extraMappings.
type errorMapping struct {
	target error
	status int
	code   string
	msg    string
}

var baseMappings = []errorMapping{
	{idnum.ErrInvalidIIN, http.StatusBadRequest, "invalid_iin", "The IIN is not a valid 12-digit individual identification number."},
	{register.ErrNotFound, http.StatusNotFound, "unknown_iin", "No citizen with this IIN is in the population register."},
	{verify.ErrReferenceMissing, http.StatusUnprocessableEntity, "register_photo_missing", "The register has no photo for this IIN."},
	{verify.ErrReferenceUnusable, http.StatusUnprocessableEntity, "register_photo_unusable", "The register photo has no single usable face; a moderator must decide."},
	{engine.ErrBadImage, http.StatusBadRequest, "bad_image", "The upload is not a usable JPEG or PNG image."},
	{engine.ErrNoFace, http.StatusUnprocessableEntity, "no_face", "No face was found in the image."},
	{engine.ErrMultipleFaces, http.StatusUnprocessableEntity, "multiple_faces", "More than one face is in the image; exactly one is required."},
	{engine.ErrPoorQuality, http.StatusUnprocessableEntity, "poor_quality", "The face is too small, blurred, badly lit or turned away."},
	{offer.ErrMalformedSDP, http.StatusBadRequest, "malformed_sdp", "The WebRTC offer is not a valid SDP offer."},
	// The message goes on with what the browser offered instead (toError).
	{offer.ErrUnsupportedCodec, http.StatusUnsupportedMediaType, "unsupported_codec", "Only VP8 video is supported"},
	// With Retry-After: offer.BusyRetryAfter (toError).
	{offer.ErrBusy, http.StatusServiceUnavailable, "busy", "The service is busy with other video checks; try again in a few seconds."},
}

var extraMappings []errorMapping

// toError converts any error into an *Error.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return &Error{Status: he.Code, Code: http.StatusText(he.Code), Message: fmt.Sprint(he.Message), err: err}
	}
	var re interface{ RetryAfter(time.Time) time.Duration }
	for _, m := range append(baseMappings, extraMappings...) {
		if errors.Is(err, m.target) {
			out := &Error{Status: m.status, Code: m.code, Message: m.msg, err: err}
			if m.target == offer.ErrUnsupportedCodec { // "; offered: H264, AV1", for support staff
				_, rest, _ := strings.Cut(err.Error(), m.target.Error())
				out.Message += rest
			}
			if errors.As(err, &re) {
				out.RetryAfter = int(re.RetryAfter(time.Now()).Seconds() + 0.999)
			}
			if m.target == offer.ErrBusy {
				out.RetryAfter = int(offer.BusyRetryAfter / time.Second)
			}
			return out
		}
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "Internal error; it has been logged.", err: err}
}

// errorHandler is echo's HTTPErrorHandler: JSON for API paths, the same
// status everywhere, and a log line with the real cause for 5xx.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e := toError(err)
	if e.Status >= 500 {
		s.log.ErrorContext(c.Request().Context(), "request failed", "path", c.Path(), "err", err)
	} else {
		s.log.InfoContext(c.Request().Context(), "request refused", "path", c.Path(), "code", e.Code, "status", e.Status)
	}
	if e.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(e.Status)
		return
	}
	_ = c.JSON(e.Status, e)
}
