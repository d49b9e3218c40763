package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"vidid/idnum"
	"vidid/session"
)

// Sessions is what the API needs from the session store.
type Sessions interface {
	Create(ctx context.Context, req session.CreateRequest) (session.Session, string, error)
	Get(ctx context.Context, id string) (session.Session, error)
	ByToken(ctx context.Context, token string) (session.Session, error)
	RecordConsent(ctx context.Context, token, lang string, accepted bool) error
}

// Capture answers a browser's WebRTC offer for a session token and runs the
// attempt in the background.
type Capture interface {
	Offer(ctx context.Context, token, sdp string) (answer string, err error)
}

func init() {
	extraMappings = append(extraMappings,
		errorMapping{session.ErrLockedOut, http.StatusLocked, "locked", "Too many failed attempts: try again later with a new application."},
		errorMapping{session.ErrNotFound, http.StatusNotFound, "unknown_session", "No such verification session."},
		errorMapping{session.ErrExpired, http.StatusGone, "expired", "The verification session has expired; start a new application."},
		errorMapping{session.ErrSessionClosed, http.StatusGone, "closed", "The verification session is closed; start a new application."},
		errorMapping{session.ErrAttemptInProgress, http.StatusConflict, "attempt_in_progress", "A capture is already running for this person; finish it or try again in a few minutes."},
		errorMapping{session.ErrConsentRequired, http.StatusForbidden, "consent_required", "Consent is required before the camera starts."},
		errorMapping{session.ErrNotApproved, http.StatusConflict, "not_approved", "This session was not approved by a moderator."},
		errorMapping{session.ErrHandedOver, http.StatusGone, "handed_over", "The approval was already used to continue to the certificate; start a new application if you did not finish."},
		errorMapping{session.ErrHandoverExpired, http.StatusGone, "handover_expired", "The time to finish after the moderator's approval has passed; start a new application."},
		errorMapping{errCaptureRequired, http.StatusForbidden, "capture_required", "After a moderator's approval the key is issued only after a short live check: open the capture link and follow the camera prompts."},
		errorMapping{session.ErrInvalidRequest, http.StatusBadRequest, "invalid_request", "The request is not valid."},
	)
}

func (s *Server) sessionRoutes() {
	if s.deps.Sessions == nil {
		return
	}
	s.e.POST("/v1/sessions", s.createSession, s.requireClient)
	s.e.GET("/v1/sessions/:id", s.getSession, s.requireClient)
	s.e.POST("/v1/capture/:token/consent", s.consent)
	s.e.GET("/v1/capture/:token/status", s.captureStatus)
	if s.deps.Capture != nil {
		s.e.POST("/v1/capture/:token/offer", s.offer)
	}
	// The token alone never yields an assertion: the hand-over after an
	// approval runs through a fresh capture (POST …/offer). This route
	// stays to tell old pages so.
	s.e.POST("/v1/capture/:token/handover", s.handover)
}

type createSessionRequest struct {
	IIN         string `json:"iin"`
	CallbackURL string `json:"callback_url"`
	ReturnURL   string `json:"return_url"`
	TTLSeconds  int    `json:"ttl_seconds"`
}

type sessionResponse struct {
	ID                 string     `json:"id"`
	State              string     `json:"state"`
	CaptureURL         string     `json:"capture_url,omitempty"`
	ExpiresAt          time.Time  `json:"expires_at"`
	AttemptsStarted    int        `json:"attempts_started"`
	FailedAttempts     int        `json:"failed_attempts"`
	AttemptsLeft       int        `json:"attempts_left"`
	LockedUntil        *time.Time `json:"locked_until,omitempty"`
	RequiresModeration bool       `json:"requires_moderation"`
	LastOutcome        string     `json:"last_outcome,omitempty"`
	LastReason         string     `json:"last_reason,omitempty"`
}

func toSessionResponse(ss session.Session) sessionResponse {
	r := sessionResponse{ID: ss.ID, State: string(ss.State), ExpiresAt: ss.ExpiresAt,
		AttemptsStarted: ss.AttemptsStarted, FailedAttempts: ss.FailedAttempts, AttemptsLeft: ss.AttemptsLeft,
		RequiresModeration: ss.RequiresModeration, LastOutcome: string(ss.LastOutcome), LastReason: string(ss.LastReason)}
	if !ss.LockedUntil.IsZero() {
		t := ss.LockedUntil
		r.LockedUntil = &t
	}
	return r
}

func (s *Server) createSession(c echo.Context) error {
	var req createSessionRequest
	if err := json.NewDecoder(c.Request().Body).Decode(&req); err != nil {
		return newError(http.StatusBadRequest, "bad_request", "The body must be JSON: {\"iin\", \"callback_url\", \"return_url\", \"ttl_seconds\"}.")
	}
	cl := c.Get(clientKey).(Client)
	ss, token, err := s.createChecked(c.Request().Context(), session.CreateRequest{
		ClientID: cl.ID, IIN: req.IIN, CallbackURL: req.CallbackURL, ReturnURL: req.ReturnURL,
		TTL: time.Duration(req.TTLSeconds) * time.Second,
	})
	if err != nil {
		return err
	}
	r := toSessionResponse(ss)
	r.CaptureURL = strings.TrimRight(s.cfg.PublicURL, "/") + "/capture/" + token
	return c.JSON(http.StatusCreated, r)
}

// createChecked opens a session after checking the IIN is in the register.
func (s *Server) createChecked(ctx context.Context, req session.CreateRequest) (session.Session, string, error) {
	if err := idnum.ValidateIIN(req.IIN); err != nil {
		return session.Session{}, "", err
	}
	if s.deps.Register != nil {
		if _, err := s.deps.Register.Get(ctx, req.IIN); err != nil {
			return session.Session{}, "", err
		}
	}
	return s.deps.Sessions.Create(ctx, req)
}

func (s *Server) getSession(c echo.Context) error {
	ss, err := s.deps.Sessions.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if cl := c.Get(clientKey).(Client); ss.ClientID != cl.ID {
		return toError(session.ErrNotFound) // another client's session does not exist for this one
	}
	return c.JSON(http.StatusOK, toSessionResponse(ss))
}

type consentRequest struct {
	Accepted bool   `json:"accepted"`
	Lang     string `json:"lang"`
}

func (s *Server) consent(c echo.Context) error {
	var req consentRequest
	if err := json.NewDecoder(c.Request().Body).Decode(&req); err != nil {
		return newError(http.StatusBadRequest, "bad_request", "The body must be JSON: {\"accepted\": true, \"lang\": \"kk\"}.")
	}
	if err := s.deps.Sessions.RecordConsent(c.Request().Context(), c.Param("token"), req.Lang, req.Accepted); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// applicantStatus is what the applicant's page may know: no scores, and
// only the public reason code (which check caught an attack is not told).
type applicantStatus struct {
	State             string `json:"state"`
	ConsentAccepted   bool   `json:"consent_accepted"`
	AttemptsLeft      int    `json:"attempts_left"`
	RetryAfterSeconds int    `json:"retry_after_seconds,omitempty"`
	LastOutcome       string `json:"last_outcome,omitempty"`
	LastReason        string `json:"last_reason,omitempty"`
}

func (s *Server) captureStatus(c echo.Context) error {
	ss, err := s.deps.Sessions.ByToken(c.Request().Context(), c.Param("token"))
	if err != nil {
		return err
	}
	st := applicantStatus{State: string(ss.State), ConsentAccepted: ss.ConsentAccepted, AttemptsLeft: ss.AttemptsLeft,
		LastOutcome: string(ss.LastOutcome), LastReason: string(ss.LastReason.Public())}
	if d := time.Until(ss.LockedUntil); d > 0 {
		st.RetryAfterSeconds = int(d.Seconds() + 0.999)
	}
	return c.JSON(http.StatusOK, st)
}

type sdpMessage struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

func (s *Server) offer(c echo.Context) error {
	var req sdpMessage
	if err := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 64<<10)).Decode(&req); err != nil || req.Type != "offer" || req.SDP == "" {
		return newError(http.StatusBadRequest, "bad_offer", "The body must be JSON {\"type\":\"offer\",\"sdp\":\"…\"}.")
	}
	answer, err := s.deps.Capture.Offer(c.Request().Context(), c.Param("token"), req.SDP)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sdpMessage{Type: "answer", SDP: answer})
}

// errCaptureRequired: an assertion was asked for with the capture token
// alone.
var errCaptureRequired = errors.New("a fresh live capture is required for the hand-over")

// handover: POST /v1/capture/{token}/handover is refused. Before the
// hand-over capture existed, this returned the approved session's
// assertion for the token alone, so a leaked link was enough.
func (s *Server) handover(c echo.Context) error {
	s.log.WarnContext(c.Request().Context(), "hand-over asked for with the capture token alone (refused)")
	return errCaptureRequired
}
