package api

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"vidid/engine"
	"vidid/idnum"
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

type verifyResponse struct {
	Match            bool           `json:"match"`
	Score            float64        `json:"score"`
	Threshold        float64        `json:"threshold"`
	ThresholdVersion string         `json:"threshold_version"`
	Model            string         `json:"model"`
	Quality          engine.Quality `json:"quality"`
	IIN              string         `json:"iin"`
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
	res, err := s.deps.Verifier.VerifyFrame(c.Request().Context(), iin, f)
	if err != nil {
		e := toError(err)
		e.Issues = res.Probe.Issues
		return e
	}
	pol, err := s.deps.Policies.Current()
	if err != nil {
		return fmt.Errorf("decision policy: %w", err)
	}
	d, err := pol.Match(res.Model, res.Score)
	if err != nil {
		return fmt.Errorf("decide: %w", err)
	}
	return c.JSON(http.StatusOK, verifyResponse{
		Match: d.Match, Score: d.Score, Threshold: d.Threshold, ThresholdVersion: d.PolicyVersion,
		Model: res.Model, Quality: res.Probe, IIN: idnum.MaskIIN(iin),
	})
}
