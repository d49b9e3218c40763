package api

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"vidid/internal/httpserve"
)

// Check is one readiness check (database reachable, models loaded …).
type Check struct {
	Name string
	Func func(ctx context.Context) error
}

// Config configures the HTTP server.
type Config struct {
	// PublicURL is how browsers reach this server (for capture links).
	PublicURL string
	// MaxUploadBytes bounds one-image uploads.
	MaxUploadBytes int64
	// VerifyPerMinute and VerifyBurst bound each API client's /v1/verify
	// calls in this process (default 60 a minute, 10 at once; negative:
	// no bound).
	VerifyPerMinute, VerifyBurst int
}

// Server is vidid's HTTP server.
type Server struct {
	cfg    Config
	log    *slog.Logger
	e      *echo.Echo
	checks []Check
	gather prometheus.Gatherer
	deps   Deps
	m      *httpMetrics
}

// New builds the server; register routes with the options in deps.
func New(cfg Config, deps Deps, checks []Check, log *slog.Logger, reg prometheus.Registerer, gather prometheus.Gatherer) (*Server, error) {
	if cfg.MaxUploadBytes == 0 {
		cfg.MaxUploadBytes = 16 << 20
	}
	if cfg.VerifyPerMinute == 0 {
		cfg.VerifyPerMinute, cfg.VerifyBurst = 60, 10
	}
	if deps.Verifier != nil && (deps.Policies == nil || deps.VerifyAudit == nil) {
		return nil, errors.New("api: a verifier needs the decision policy and an audit log (Deps.Policies, Deps.VerifyAudit)")
	}
	m, err := newHTTPMetrics(reg)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, e: echo.New(), checks: checks, gather: gather, deps: deps, m: m}
	s.e.HideBanner, s.e.HidePort = true, true
	s.e.HTTPErrorHandler = s.errorHandler
	s.e.Use(middleware.Recover())
	s.e.Use(s.observe)
	s.e.Use(middleware.BodyLimit(strconv.FormatInt(cfg.MaxUploadBytes, 10) + "B"))
	sec := middleware.SecureConfig{
		XSSProtection: "0", ContentTypeNosniff: "nosniff", XFrameOptions: "DENY",
		ReferrerPolicy: "no-referrer",
	}
	if strings.HasPrefix(cfg.PublicURL, "https://") { // browsers keep to https from then on
		sec.HSTSMaxAge, sec.HSTSExcludeSubdomains = 365*24*3600, true
	}
	s.e.Use(middleware.SecureWithConfig(sec))
	s.routes()
	return s, nil
}

// Handler returns the http.Handler.
func (s *Server) Handler() http.Handler { return s.e }

// Serve serves on l until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	return httpserve.Serve(ctx, l, s.e, slog.NewLogLogger(s.log.Handler(), slog.LevelWarn))
}

func (s *Server) routes() {
	s.e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	s.e.GET("/readyz", s.readyz)
	s.e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.gather, promhttp.HandlerOpts{})))
	s.e.GET("/openapi.json", s.openapi)
	if s.deps.Verifier != nil {
		s.e.POST("/v1/verify", s.verifyImage, s.requireClient, s.limitClient(newKeyLimiter(s.cfg.VerifyPerMinute, s.cfg.VerifyBurst)))
	}
	s.sessionRoutes()
	s.moderationRoutes()
	s.demoRoutes()
	if s.deps.JWKS != nil {
		s.e.GET("/.well-known/jwks.json", func(c echo.Context) error {
			b, err := s.deps.JWKS(c.Request().Context())
			if err != nil {
				return err
			}
			c.Response().Header().Set("Cache-Control", "public, max-age=60")
			return c.Blob(http.StatusOK, "application/jwk-set+json", b)
		})
	}
	if s.deps.Static != nil {
		s.e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", s.deps.Static)))
	}
	if s.deps.CapturePage != nil && s.deps.Sessions != nil {
		s.e.GET("/capture/:token", s.capturePage)
	}
}

func (s *Server) capturePage(c echo.Context) error {
	ss, err := s.deps.Sessions.ByToken(c.Request().Context(), c.Param("token"))
	if err != nil {
		e := toError(err)
		return c.HTML(e.Status, "<!doctype html><meta charset=utf-8><title>vidid</title><p>"+template.HTMLEscapeString(e.Message)+"</p>")
	}
	var buf bytes.Buffer
	if err := s.deps.CapturePage(&buf, ss, c.Param("token"), c.QueryParam("lang")); err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	if s.deps.CapturePageCSP != "" {
		c.Response().Header().Set("Content-Security-Policy", s.deps.CapturePageCSP)
	}
	c.Response().Header().Set("Permissions-Policy", "camera=(self), microphone=()")
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	out := map[string]string{}
	ok := true
	for _, ch := range s.checks {
		if err := ch.Func(ctx); err != nil {
			out[ch.Name] = err.Error()
			ok = false
		} else {
			out[ch.Name] = "ok"
		}
	}
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	return c.JSON(status, map[string]any{"ready": ok, "checks": out})
}

type httpMetrics struct {
	dur *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	m := &httpMetrics{dur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "vidid", Subsystem: "http", Name: "request_duration_seconds",
		Help:    "HTTP request latency by route template, method and status code.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route", "method", "code"})}
	if reg != nil {
		if err := reg.Register(m.dur); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		t := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil {
			status = toError(err).Status
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		s.m.dur.WithLabelValues(route, c.Request().Method, strconv.Itoa(status)).Observe(time.Since(t).Seconds())
		return err
	}
}
