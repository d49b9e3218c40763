package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"vidid/engine"
	"vidid/idnum"
	"vidid/policy"
	"vidid/register"
	"vidid/verify"
)

const clientKey = "vidid.client"

// requireClient authenticates the relying party by its API key
// ("Authorization: Bearer vidid_…").
func (s *Server) requireClient(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.deps.Clients == nil {
			return newError(http.StatusUnauthorized, "unauthorized", "This server has no API clients configured.")
		}
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		key, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || key == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="vidid"`)
			return newError(http.StatusUnauthorized, "unauthorized", "An API key is required: Authorization: Bearer <key>.")
		}
		cl, err := s.deps.Clients.Authenticate(c.Request().Context(), key)
		if err != nil {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="vidid", error="invalid_token"`)
			return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "The API key is not valid.", err: err}
		}
		c.Set(clientKey, cl)
		return next(c)
	}
}

// verifyResponse is /v1/verify's answer. Everything but the match is for
// analyst clients only: to anyone else a score is a hill-climbing aid,
// and an answer whose shape differs for unknown IINs a register oracle.
type verifyResponse struct {
	Match            bool            `json:"match"`
	Score            *float64        `json:"score,omitempty"`
	Threshold        *float64        `json:"threshold,omitempty"`
	ThresholdVersion string          `json:"threshold_version,omitempty"`
	Model            string          `json:"model,omitempty"`
	Quality          *engine.Quality `json:"quality,omitempty"`
	IIN              string          `json:"iin"`
}

// verifyImage: POST /v1/verify, multipart form with fields `iin` and
// `image` (JPEG or PNG), or a raw image body with ?iin=.
func (s *Server) verifyImage(c echo.Context) error {
	iin := c.FormValue("iin")
	if iin == "" {
		iin = c.QueryParam("iin")
	}
	if err := idnum.ValidateIIN(iin); err != nil {
		return err
	}
	var data []byte
	ct := c.Request().Header.Get(echo.HeaderContentType)
	switch {
	case strings.HasPrefix(ct, echo.MIMEMultipartForm):
		fh, err := c.FormFile("image")
		if err != nil {
			return newError(http.StatusBadRequest, "bad_image", "No image was sent: use the form field `image`.")
		}
		f, err := fh.Open()
		if err != nil {
			return newError(http.StatusBadRequest, "bad_image", "The image part could not be read.")
		}
		defer f.Close()
		if data, err = io.ReadAll(io.LimitReader(f, s.cfg.MaxUploadBytes+1)); err != nil {
			return newError(http.StatusBadRequest, "bad_image", "The image part could not be read.")
		}
	case strings.HasPrefix(ct, "image/"):
		var err error
		if data, err = io.ReadAll(io.LimitReader(c.Request().Body, s.cfg.MaxUploadBytes+1)); err != nil {
			return newError(http.StatusBadRequest, "bad_request", "The request body could not be read.")
		}
	default:
		return newError(http.StatusUnsupportedMediaType, "bad_request", "Send multipart/form-data with fields iin and image, or an image/jpeg or image/png body with ?iin=.")
	}
	if len(data) == 0 {
		return newError(http.StatusBadRequest, "bad_image", "No image was sent: use the form field `image`.")
	}
	f, err := engine.DecodeImage(data)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cl := c.Get(clientKey).(Client)
	res, err := s.deps.Verifier.VerifyFrame(ctx, iin, f)
	var d policy.MatchDecision
	if err == nil {
		var pol *policy.Policy
		if pol, err = s.deps.Policies.Current(); err == nil {
			d, err = pol.Match(res.Model, res.Score)
		}
	}
	// No register-membership oracle: without the analyst scope an unknown
	// IIN, or one whose register photo is missing or unusable, reads as a
	// plain no match. The audit log keeps what really happened.
	hidden := err != nil && !cl.Analyst && (errors.Is(err, register.ErrNotFound) ||
		errors.Is(err, verify.ErrReferenceMissing) || errors.Is(err, verify.ErrReferenceUnusable))
	answer := "no_match"
	switch {
	case err != nil:
		answer = "refused:" + toError(err).Code
	case d.Match:
		answer = "match"
	}
	if aerr := s.deps.VerifyAudit.RecordVerify(ctx, cl.ID, iin, answer); aerr != nil {
		return fmt.Errorf("audit verify: %w", aerr)
	}
	out := verifyResponse{IIN: idnum.MaskIIN(iin)}
	switch {
	case hidden:
		return c.JSON(http.StatusOK, out)
	case err != nil:
		e := toError(err)
		e.Issues = res.Probe.Issues
		return e
	}
	out.Match = d.Match
	if cl.Analyst { // the rest is for analysts: anyone else sees match or no match, whatever the IIN
		out.Score, out.Threshold, out.Model, out.ThresholdVersion, out.Quality = &d.Score, &d.Threshold, res.Model, d.PolicyVersion, &res.Probe
	}
	return c.JSON(http.StatusOK, out)
}
