package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"vidid/moderation"
	"vidid/session"
)

// ModerationQueue is what the moderator pages need from the queue
// (moderation.Queue).
type ModerationQueue interface {
	List(ctx context.Context, limit int) ([]moderation.CaseSummary, error)
	Stats(ctx context.Context) (moderation.Stats, error)
	Open(ctx context.Context, mod moderation.Moderator, sessionID string) (moderation.Case, error)
	RegisterPhoto(ctx context.Context, mod moderation.Moderator, sessionID string) ([]byte, string, error)
	Frame(ctx context.Context, mod moderation.Moderator, sessionID string, attempt int, kind string, i int) ([]byte, error)
	Decide(ctx context.Context, mod moderation.Moderator, sessionID string, approved bool, reason, note string) (session.Session, error)
	Release(ctx context.Context, mod moderation.Moderator, sessionID string) error
}

// ModeratorAuth authenticates moderators by access token
// (moderation.Moderators).
type ModeratorAuth interface {
	Authenticate(ctx context.Context, token string) (moderation.Moderator, error)
}

// ModerationPages renders the moderator UI (web.ModerationPage,
// web.ModerationLang).
type ModerationPages struct {
	Render func(w io.Writer, page, lang string, data any) error
	// Lang picks the language from the wanted ones in order (a ?lang=
	// choice, the cookie it set, Accept-Language).
	Lang func(wanted ...string) string
	// CSP is the Content-Security-Policy of those pages.
	CSP string
}

func init() {
	extraMappings = append(extraMappings,
		errorMapping{moderation.ErrUnauthorized, http.StatusUnauthorized, "unauthorized", "The moderator access token is not valid."},
		errorMapping{moderation.ErrNotFound, http.StatusNotFound, "unknown_case", "No such case."},
		errorMapping{moderation.ErrNotInQueue, http.StatusConflict, "not_in_queue", "This session is not waiting for a moderator: it has been decided, or was never sent to moderation."},
		errorMapping{moderation.ErrClaimed, http.StatusConflict, "claimed", "Another moderator is reviewing this case."},
		errorMapping{moderation.ErrNotClaimed, http.StatusConflict, "not_claimed", "You do not have this case open (or your review time ran out): open it again from the queue."},
		errorMapping{moderation.ErrNoteRequired, http.StatusBadRequest, "note_required", "A rejection needs a note saying why."},
		errorMapping{moderation.ErrSecondApprover, http.StatusConflict, "second_approver", "You gave this case its first approval: a second, different moderator must approve it."},
		errorMapping{moderation.ErrReasonRequired, http.StatusBadRequest, "reason_required", "A rejection needs a reason: choose one."},
		errorMapping{moderation.ErrNoEvidence, http.StatusNotFound, "no_evidence", "Those frames are not stored (none were kept, or the retention period has passed)."},
		errorMapping{moderation.ErrInvalidRequest, http.StatusBadRequest, "invalid_request", "The request is not valid."},
	)
}

const (
	moderatorKey    = "vidid.moderator"
	modLangKey      = "vidid.moderation.lang"
	moderatorCookie = "vidid_moderator"
	modLangCookie   = "vidid_moderation_lang"
	moderationRoot  = "/moderation"
)

func (s *Server) moderationRoutes() {
	if s.deps.Moderation == nil || s.deps.Moderators == nil {
		return
	}
	g := s.e.Group(moderationRoot, s.moderationHeaders)
	g.GET("/login", s.modLoginPage)
	g.POST("/login", s.modLogin, s.sameOrigin)
	g.POST("/logout", s.modLogout, s.sameOrigin)
	g.GET("", s.modQueue, s.requireModerator)
	g.GET("/cases/:id", s.modCase, s.requireModerator)
	g.GET("/cases/:id/register-photo", s.modRegisterPhoto, s.requireModerator)
	g.GET("/cases/:id/attempts/:n/:kind/:i", s.modFrame, s.requireModerator)
	g.POST("/cases/:id/decision", s.modDecide, s.sameOrigin, s.requireModerator)
	g.POST("/cases/:id/release", s.modRelease, s.sameOrigin, s.requireModerator)
	s.e.GET("/v1/moderation/cases", s.modQueueJSON, s.requireModerator)
}

// moderationHeaders: nothing a moderator sees may be cached (biometric
// data), framed or given scripts.
func (s *Server) moderationHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Cache-Control", "no-store")
		// Same-origin requests carry the Origin (sameOrigin checks it);
		// nothing leaks to other sites.
		h.Set("Referrer-Policy", "same-origin")
		if s.deps.ModerationPages.CSP != "" {
			h.Set("Content-Security-Policy", s.deps.ModerationPages.CSP)
		}
		s.pickModLang(c)
		err := next(c)
		if err != nil && wantsHTML(c) && !c.Response().Committed {
			return s.modErrorPage(c, err)
		}
		return err
	}
}

// pickModLang chooses the page language: ?lang= (remembered in a cookie),
// the cookie, then Accept-Language.
func (s *Server) pickModLang(c echo.Context) {
	r := c.Request()
	var wanted []string
	if q := r.URL.Query().Get("lang"); q != "" {
		wanted = append(wanted, q)
	}
	if ck, err := r.Cookie(modLangCookie); err == nil {
		wanted = append(wanted, ck.Value)
	}
	wanted = append(wanted, r.Header.Get("Accept-Language"))
	lang := "en"
	if s.deps.ModerationPages.Lang != nil {
		lang = s.deps.ModerationPages.Lang(wanted...)
	}
	if q := r.URL.Query().Get("lang"); q != "" && q == lang {
		s.setModCookie(c, modLangCookie, lang, 365*24*3600)
	}
	c.Set(modLangKey, lang)
}

// setModCookie sets a cookie of the moderator pages: theirs only, never
// for scripts or other sites, Secure when served over https; maxAge < 0
// deletes it.
func (s *Server) setModCookie(c echo.Context, name, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: moderationRoot, HttpOnly: true,
		Secure: strings.HasPrefix(s.cfg.PublicURL, "https://"), SameSite: http.SameSiteStrictMode, MaxAge: maxAge})
}

func wantsHTML(c echo.Context) bool {
	r := c.Request()
	return strings.HasPrefix(r.URL.Path, moderationRoot) && !strings.Contains(r.URL.Path, "/attempts/") &&
		!strings.HasSuffix(r.URL.Path, "/register-photo") && r.Header.Get(echo.HeaderAuthorization) == ""
}

// sameOrigin refuses state-changing requests from other sites (the cookie
// is SameSite=Strict as well; this also covers older browsers). Browsers
// send Sec-Fetch-Site; an Origin, when given, must be this host. A form
// posted from a page whose referrer policy is no-referrer has the Origin
// "null", which counts only with Sec-Fetch-Site: same-origin.
func (s *Server) sameOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		refuse := newError(http.StatusForbidden, "cross_site", "Requests from other sites are refused.")
		site := r.Header.Get("Sec-Fetch-Site")
		if site != "" && site != "same-origin" && site != "none" {
			return refuse
		}
		switch o := r.Header.Get(echo.HeaderOrigin); {
		case o == "":
		case o == "null":
			if site != "same-origin" {
				return refuse
			}
		default:
			if u, err := url.Parse(o); err != nil || u.Host != r.Host {
				return refuse
			}
		}
		return next(c)
	}
}

// requireModerator authenticates by the session cookie set at sign-in, or
// "Authorization: Bearer vmod_…" for tools. A page request without valid
// credentials goes to the sign-in page.
func (s *Server) requireModerator(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		token, bearer := strings.CutPrefix(r.Header.Get(echo.HeaderAuthorization), "Bearer ")
		if !bearer {
			if ck, err := r.Cookie(moderatorCookie); err == nil {
				token = ck.Value
			}
		}
		m, err := s.deps.Moderators.Authenticate(r.Context(), token)
		if err != nil {
			if errors.Is(err, moderation.ErrUnauthorized) && !bearer && r.Method == http.MethodGet && wantsHTML(c) {
				return c.Redirect(http.StatusSeeOther, moderationRoot+"/login")
			}
			if bearer {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="vidid moderation", error="invalid_token"`)
			}
			return err
		}
		c.Set(moderatorKey, m)
		return next(c)
	}
}

func moderatorOf(c echo.Context) moderation.Moderator {
	return c.Get(moderatorKey).(moderation.Moderator)
}

func (s *Server) modRender(c echo.Context, status int, page string, data any) error {
	var buf bytes.Buffer
	lang, _ := c.Get(modLangKey).(string)
	if lang == "" {
		lang = "en"
	}
	if err := s.deps.ModerationPages.Render(&buf, page, lang, data); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// ModMessage is the data of the moderator "message" page: an error code
// (the page words it in the moderator's language), its English message
// for codes the page has no words for, and for "claimed" who has the case
// and until when.
type ModMessage struct {
	Moderator string
	Code      string
	Message   string
	Status    int
	Who       string
	Until     time.Time
}

func (s *Server) modErrorPage(c echo.Context, err error) error {
	e := toError(err)
	if e.Status >= 500 {
		s.log.ErrorContext(c.Request().Context(), "moderation request failed", "path", c.Path(), "err", err)
	}
	msg := ModMessage{Code: e.Code, Message: e.Message, Status: e.Status}
	if m, ok := c.Get(moderatorKey).(moderation.Moderator); ok {
		msg.Moderator = m.Name
	}
	var ce *moderation.ClaimError
	if errors.As(err, &ce) {
		msg.Who, msg.Until = ce.By, ce.Until
	}
	return s.modRender(c, e.Status, "message", msg)
}

// ModLogin is the data of the sign-in page; Error is set after a refused
// token.
type ModLogin struct{ Error bool }

func (s *Server) modLoginPage(c echo.Context) error {
	return s.modRender(c, http.StatusOK, "login", ModLogin{})
}

func (s *Server) modLogin(c echo.Context) error {
	token := strings.TrimSpace(c.FormValue("token"))
	m, err := s.deps.Moderators.Authenticate(c.Request().Context(), token)
	if errors.Is(err, moderation.ErrUnauthorized) {
		s.log.InfoContext(c.Request().Context(), "moderator sign-in refused", "remote", c.RealIP())
		return s.modRender(c, http.StatusUnauthorized, "login", ModLogin{Error: true})
	}
	if err != nil {
		return err
	}
	s.setModCookie(c, moderatorCookie, token, 12*3600)
	s.log.InfoContext(c.Request().Context(), "moderator signed in", "moderator_id", m.ID)
	return c.Redirect(http.StatusSeeOther, moderationRoot)
}

func (s *Server) modLogout(c echo.Context) error {
	s.setModCookie(c, moderatorCookie, "", -1)
	return c.Redirect(http.StatusSeeOther, moderationRoot+"/login")
}

// ModQueue is the data of the queue page.
type ModQueue struct {
	Moderator   string
	ModeratorID string
	Stats       moderation.Stats
	Cases       []moderation.CaseSummary
	Now         time.Time
	// Notice is the last action: approved, rejected or released.
	Notice string
}

func (s *Server) modQueue(c echo.Context) error {
	ctx := c.Request().Context()
	m := moderatorOf(c)
	q, err := s.readQueue(ctx, 500)
	if err != nil {
		return err
	}
	notice := c.QueryParam("done")
	switch notice {
	case "approved", "rejected", "released", "first_approval":
	default:
		notice = ""
	}
	return s.modRender(c, http.StatusOK, "queue", ModQueue{Moderator: m.Name, ModeratorID: m.ID, Stats: q.Stats, Cases: q.Cases, Now: time.Now(), Notice: notice})
}

type modQueueResponse struct {
	Stats moderation.Stats         `json:"stats"`
	Cases []moderation.CaseSummary `json:"cases"`
}

// readQueue reads up to limit cases and the queue's statistics.
func (s *Server) readQueue(ctx context.Context, limit int) (modQueueResponse, error) {
	cases, err := s.deps.Moderation.List(ctx, limit)
	if err != nil {
		return modQueueResponse{}, err
	}
	st, err := s.deps.Moderation.Stats(ctx)
	if err != nil {
		return modQueueResponse{}, err
	}
	return modQueueResponse{Stats: st, Cases: cases}, nil
}

func (s *Server) modQueueJSON(c echo.Context) error {
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	q, err := s.readQueue(c.Request().Context(), limit)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, q)
}

// ModCase is the data of the case page.
type ModCase struct {
	Moderator string
	Case      moderation.Case
	// Base is the case's URL path, for its images and forms.
	Base string
	Now  time.Time
	// RejectReasons are the codes a rejection can give.
	RejectReasons []string
}

func (s *Server) modCase(c echo.Context) error {
	m := moderatorOf(c)
	cs, err := s.deps.Moderation.Open(c.Request().Context(), m, c.Param("id"))
	if err != nil {
		return err
	}
	return s.modRender(c, http.StatusOK, "case", ModCase{Moderator: m.Name, Case: cs, Base: moderationRoot + "/cases/" + cs.SessionID, Now: time.Now(),
		RejectReasons: session.RejectReasons})
}

func (s *Server) modRegisterPhoto(c echo.Context) error {
	b, typ, err := s.deps.Moderation.RegisterPhoto(c.Request().Context(), moderatorOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, typ, b)
}

func (s *Server) modFrame(c echo.Context) error {
	n, err1 := strconv.Atoi(c.Param("n"))
	i, err2 := strconv.Atoi(strings.TrimSuffix(c.Param("i"), ".jpg"))
	if err1 != nil || err2 != nil {
		return toError(moderation.ErrInvalidRequest)
	}
	b, err := s.deps.Moderation.Frame(c.Request().Context(), moderatorOf(c), c.Param("id"), n, c.Param("kind"), i)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "image/jpeg", b)
}

func (s *Server) modDecide(c echo.Context) error {
	var approved bool
	switch c.FormValue("decision") {
	case "approve":
		approved = true
	case "reject":
	default:
		return newError(http.StatusBadRequest, "invalid_request", "The request is not valid: choose approve or reject.")
	}
	reason := ""
	if !approved {
		reason = c.FormValue("reason")
	}
	ss, err := s.deps.Moderation.Decide(c.Request().Context(), moderatorOf(c), c.Param("id"), approved, reason, c.FormValue("note"))
	if err != nil {
		return err
	}
	done := "rejected"
	switch {
	case approved && ss.State == session.StateModeration:
		done = "first_approval" // the four-eyes rule: a second moderator must approve
	case approved:
		done = "approved"
	}
	return c.Redirect(http.StatusSeeOther, moderationRoot+"?done="+done)
}

func (s *Server) modRelease(c echo.Context) error {
	if err := s.deps.Moderation.Release(c.Request().Context(), moderatorOf(c), c.Param("id")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, moderationRoot+"?done=released")
}
