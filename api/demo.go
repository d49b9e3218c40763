package api

import (
	"context"
	"embed"
	"html/template"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"vidid/register"
	"vidid/session"
)

// Demo configures the demo relying-party page: a stand-in for the
// e-government portal that opens verification sessions for the seeded demo
// register and receives the signed callbacks.
type Demo struct {
	// ClientID and CallbackSecret belong to the demo's own API client.
	ClientID       string
	CallbackSecret string
	// Citizens lists register entries to pick from.
	Citizens interface {
		List(ctx context.Context, limit, offset int) ([]register.CitizenSummary, error)
		Get(ctx context.Context, iin string) (register.Citizen, error)
	}
	// VerifyCallback checks a callback's signature header.
	VerifyCallback func(secret, header string, body []byte, now time.Time, tolerance time.Duration) error
	// Featured IINs are listed first (the video subjects, whose faces the
	// fake camera shows in tests and whom a visitor can try with a photo).
	Featured []string
	// Icon is the site icon's URL (web.FaviconURL); empty: none.
	Icon string
}

//go:embed demo/*.html
var demoFS embed.FS

var demoTmpl = template.Must(template.ParseFS(demoFS, "demo/*.html"))

type demoCallback struct {
	At     time.Time
	Valid  bool
	Body   string
	Reason string
}

// demoState keeps the last callbacks for display (memory only: it is a demo).
type demoState struct {
	mu        sync.Mutex
	callbacks []demoCallback
}

func (s *Server) demoRoutes() {
	d := s.deps.Demo
	if d == nil || s.deps.Sessions == nil {
		return
	}
	st := &demoState{}
	s.e.GET("/", func(c echo.Context) error {
		cs, err := d.Citizens.List(c.Request().Context(), 200, 0)
		if err != nil {
			return err
		}
		featured := map[string]bool{}
		var first, rest []register.CitizenSummary
		for _, iin := range d.Featured {
			if ci, err := d.Citizens.Get(c.Request().Context(), iin); err == nil {
				featured[iin] = true
				first = append(first, register.CitizenSummary{IIN: ci.IIN, Surname: ci.Surname, GivenName: ci.GivenName})
			}
		}
		for _, x := range cs {
			if !featured[x.IIN] {
				rest = append(rest, x)
			}
		}
		st.mu.Lock()
		cbs := append([]demoCallback(nil), st.callbacks...)
		st.mu.Unlock()
		return render(c, "index.html", map[string]any{"Featured": first, "Citizens": rest, "Callbacks": cbs, "Error": c.QueryParam("error"), "Icon": d.Icon})
	})
	s.e.POST("/demo/start", func(c echo.Context) error {
		iin := strings.TrimSpace(c.FormValue("iin"))
		base := strings.TrimRight(s.cfg.PublicURL, "/")
		_, token, err := s.createChecked(c.Request().Context(), session.CreateRequest{
			ClientID: d.ClientID, IIN: iin,
			CallbackURL: base + "/demo/callback", ReturnURL: base + "/demo/done",
		})
		if err != nil {
			e := toError(err)
			return c.Redirect(http.StatusSeeOther, "/?error="+templateEscape(e.Message))
		}
		return c.Redirect(http.StatusSeeOther, "/capture/"+token)
	})
	s.e.POST("/demo/callback", func(c echo.Context) error {
		body, err := io.ReadAll(io.LimitReader(c.Request().Body, 64<<10))
		if err != nil {
			return err
		}
		err = d.VerifyCallback(d.CallbackSecret, c.Request().Header.Get("Vidid-Signature"), body, time.Now(), 5*time.Minute)
		cb := demoCallback{At: time.Now(), Valid: err == nil, Body: string(body)}
		if err != nil {
			cb.Reason = err.Error()
		}
		st.mu.Lock()
		st.callbacks = append([]demoCallback{cb}, st.callbacks...)
		if len(st.callbacks) > 20 {
			st.callbacks = st.callbacks[:20]
		}
		st.mu.Unlock()
		if err != nil {
			return newError(http.StatusUnauthorized, "bad_signature", "The callback signature does not verify.")
		}
		return c.NoContent(http.StatusNoContent)
	})
	s.e.GET("/demo/done", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/") })
}

func templateEscape(s string) string { return template.URLQueryEscaper(s) }

func render(c echo.Context, name string, data any) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(http.StatusOK)
	return demoTmpl.ExecuteTemplate(c.Response(), name, data)
}
