package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"vidid/api"
	"vidid/assertion"
	"vidid/attempt"
	"vidid/audit"
	"vidid/capture"
	"vidid/moderation"
	"vidid/policy"
	"vidid/register"
	"vidid/rp"
	"vidid/session"
	"vidid/verify"
	"vidid/web"
)

func init() {
	addCommand(command{name: "serve", summary: "serve the API, the capture page and WebRTC", run: runServe})
}

type serveFlags struct {
	addr, publicURL, caURL, caAudience string
	demo                               bool
	maxFailed                          int
	lockout                            time.Duration
	challenges                         int
	challengeKinds                     []capture.ChallengeCode
	logLevel                           string
	icePortMin, icePortMax             int
	iceMuxPort                         int
	maxPeers                           int
	stun                               string
	loopbackOnly                       bool
	maxCapture                         time.Duration
	keyMaxAge                          time.Duration
	evidenceRetention                  time.Duration
	analysisFPS                        float64
	livenessModel                      string
	secrets                            string
	createSecrets                      bool
	moderationClaim                    time.Duration
	moderationHolidays                 string
	moderationZone                     string
	moderationFourEyes                 string
	handoverWindow                     time.Duration
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "serve [--addr HOST:PORT] [--db URL] [--models DIR] [--demo] …", `
Serves vidid: the relying-party API (/v1/sessions, /v1/verify), the
applicant's capture page (/capture/{token}) with WebRTC signalling, the
JWKS of the assertion keys (/.well-known/jwks.json), health (/healthz),
readiness (/readyz: database reachable, models loaded, a valid decision
policy in force), Prometheus
metrics (/metrics), the OpenAPI document (/openapi.json) and the moderator
UI (/moderation: the queue of sessions a person must decide within one
working day; accounts are made with 'vidid moderator add').

On start it applies pending database migrations and loads and verifies the
models; a missing or corrupt model is a start-up error. Every verdict comes
from the active decision policy in the database (see 'vidid policy'; an
empty database is seeded with the built-in one); --threshold,
--moderation-band and --passive-liveness-threshold override single fields
of it and yield a derived version, which is logged, stored and named by
every attempt. An activation made with 'vidid policy activate' is picked up
within 30 s.

With --demo it also serves a demo relying-party page at / that opens
sessions for the seeded demo register, using a demo API client it creates.

TLS: --tls-cert and --tls-key serve HTTPS (the files are re-read when they
change). A --public-url or --ca-url in plain http is refused unless its
host is loopback or --demo is given; behind a TLS-terminating proxy pass
the proxy's https URL. With an https public URL the moderator cookie is
Secure and every response carries Strict-Transport-Security.

Signals: SIGINT/SIGTERM shut down gracefully (running attempts are recorded
as aborted).`, stderr)
	var sf serveFlags
	var ef engineFlags
	var pf policyFlags
	var db dbFlags
	var tf tlsFlags
	ef.add(fs)
	pf.add(fs, false)
	db.add(fs)
	tf.add(fs, "VIDID")
	fs.StringVar(&sf.addr, "addr", envOr("VIDID_ADDR", "127.0.0.1:8080"), "listen `address` (env VIDID_ADDR)")
	fs.StringVar(&sf.publicURL, "public-url", envOr("VIDID_PUBLIC_URL", ""), "URL browsers use to reach this server (default http://ADDR)")
	fs.StringVar(&sf.caURL, "ca-url", envOr("VIDID_CA_URL", "http://127.0.0.1:8443"), "the CA's base URL: matched applicants are sent to CA-URL/enroll")
	fs.StringVar(&sf.caAudience, "ca-audience", envOr("VIDID_CA_AUDIENCE", "vidid-demo-ca"), "the audience (aud) of issued assertions: the CA's id")
	fs.BoolVar(&sf.demo, "demo", false, "serve the demo relying-party page at / and create its API client")
	fs.IntVar(&sf.maxFailed, "max-failed-attempts", 10, "failed attempts before the applicant is locked out")
	fs.DurationVar(&sf.lockout, "lockout", 10*time.Minute, "how long a lockout lasts")
	fs.IntVar(&sf.challenges, "challenges", 2, "random active-liveness challenges per attempt (turn left/right, blink)")
	fs.Func("challenge-kinds", "comma-separated `prompts` the challenges are drawn from: turn_left, turn_right, blink (default all)", func(v string) error {
		k, err := capture.ParseChallenges(v)
		sf.challengeKinds = k
		return err
	})
	fs.StringVar(&sf.logLevel, "log-level", envOr("VIDID_LOG_LEVEL", "info"), "debug, info, warn or error")
	fs.IntVar(&sf.icePortMin, "ice-port-min", 0, "lowest UDP port for WebRTC (0 = any)")
	fs.IntVar(&sf.icePortMax, "ice-port-max", 0, "highest UDP port for WebRTC (0 = any)")
	fs.IntVar(&sf.iceMuxPort, "ice-udp-mux", 0, "serve all WebRTC traffic on this one UDP port (containers, firewalls); 0 = off")
	fs.StringVar(&sf.stun, "stun", envOr("VIDID_STUN", ""), "comma-separated STUN/TURN `urls` offered to browsers")
	fs.BoolVar(&sf.loopbackOnly, "webrtc-loopback", false, "WebRTC on 127.0.0.1 only (tests, local demo)")
	fs.StringVar(&sf.livenessModel, "liveness-model", envOr("VIDID_LIVENESS_MODEL", livenessMiniFASNet), "passive liveness `model`, also its cue's name in the policy: minifasnet (default: MiniFASNet V2 and V1SE, mean p(live)) or fr_liveness (env VIDID_LIVENESS_MODEL)")
	fs.Float64Var(&sf.analysisFPS, "analysis-fps", 8, "frames per second run through the face pipeline per capture (always the newest frame; older ones are dropped)")
	fs.DurationVar(&sf.evidenceRetention, "evidence-retention", 30*24*time.Hour, "how long the best frames of an attempt are kept for moderators before deletion")
	fs.DurationVar(&sf.keyMaxAge, "assertion-key-max-age", 30*24*time.Hour, "rotate the assertion signing key when it is older (without downtime: the new key is published before it signs)")
	fs.IntVar(&sf.maxPeers, "max-peers", 0, "most WebRTC captures open or being negotiated at once; beyond it offers get 503 busy with Retry-After (0 = 10 per CPU the process may use)")
	fs.DurationVar(&sf.maxCapture, "max-capture", 90*time.Second, "longest capture attempt; then it ends as timeout")
	fs.StringVar(&sf.secrets, "secrets", envOr("VIDID_SECRETS", "var/secrets"), "`dir` of key files (audit-subject-key, assertion-kek, evidence-key, register-key; during a key rotation also evidence-key-previous, register-key-previous); each may instead come from VIDID_<NAME>")
	fs.BoolVar(&sf.createSecrets, "create-secrets", true, "create missing key files (set false in production, where they are provisioned)")
	fs.DurationVar(&sf.handoverWindow, "handover-window", 24*time.Hour, "how long after a moderator's approval the applicant may take the short live capture that hands the assertion over; later the capture page says the time has passed (the relying party still sees the approval)")
	fs.DurationVar(&sf.moderationClaim, "moderation-claim", 30*time.Minute, "how long opening a case reserves it for one moderator")
	fs.StringVar(&sf.moderationFourEyes, "moderation-four-eyes", moderation.WhyRepeatedLockouts, "comma-separated `kinds` of case an approval of which needs two moderators (near_threshold, register_photo, repeated_lockouts, other; empty: none)")
	fs.StringVar(&sf.moderationZone, "moderation-tz", "Asia/Almaty", "time `zone` the moderation deadline's working days are counted in")
	fs.StringVar(&sf.moderationHolidays, "moderation-holidays", "", "extra days off for the moderation deadline, comma-separated YYYY-MM-DD (Kurban Ait, the yearly day transfers); Kazakhstan's fixed-date holidays are built in")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkLivenessModel(sf.livenessModel); err != nil {
		return err
	}
	cal, err := moderationCalendar(sf.moderationZone, sf.moderationHolidays)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	log := newLogger(stderr, sf.logLevel)
	l, err := net.Listen("tcp", sf.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer l.Close()
	l, scheme, err := tf.listen(l)
	if err != nil {
		return err
	}
	if sf.publicURL == "" {
		sf.publicURL = scheme + "://" + l.Addr().String()
	}
	for _, u := range []struct{ flag, url string }{{"--public-url", sf.publicURL}, {"--ca-url", sf.caURL}} {
		if err := requireHTTPS(u.flag, u.url, sf.demo); err != nil {
			return err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	pool, err := db.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	eng, err := ef.open(reg)
	if err != nil {
		return err
	}
	defer eng.Close()
	log.Info("models loaded", "embedder", eng.Model())

	auditLog, err := openAuditLog(sf.secrets, sf.createSecrets)
	if err != nil {
		return err
	}
	policies, err := openPolicies(ctx, pool, auditLog, eng.Model(), append(passiveOverrides(sf.livenessModel), pf.overrides(sf.livenessModel)...), log)
	if err != nil {
		return err
	}
	if p, err := policies.Current(); err == nil && p.Cue(sf.livenessModel).Mode != policy.Enforce {
		log.Warn("the decision policy does not enforce the passive liveness cue of the model this server runs",
			"cue", sf.livenessModel, "mode", p.Cue(sf.livenessModel).Mode, "policy", p.Version)
	}
	regPG, err := openRegister(ctx, pool, sf.secrets, sf.createSecrets, auditLog, log)
	if err != nil {
		return err
	}
	verifier := verify.New(regPG, eng, log)
	clients := rp.NewClients(pool)
	sessions, err := session.NewPG(pool, session.Config{MaxFailedAttempts: sf.maxFailed, LockoutDuration: sf.lockout,
		HandoverWindow: sf.handoverWindow, Logger: log, Registerer: reg}, auditLog)
	if err != nil {
		return err
	}
	deps := api.Deps{Verifier: verifier, Policies: policies, VerifyAudit: verifyAudit{pool, auditLog}, Clients: clientAuth{clients},
		Sessions: sessions, Register: regPG}
	disp, err := rp.NewDispatcher(pool, rp.DispatcherConfig{Logger: log, Registerer: reg})
	if err != nil {
		return err
	}
	if err := disp.Start(ctx); err != nil {
		return err
	}
	defer disp.Stop()
	go sessions.RunExpiry(ctx, 30*time.Second)
	if sf.demo {
		id, _, secret, err := clients.Create(ctx, "demo relying party", []string{hostOf(sf.publicURL)})
		if err != nil {
			return fmt.Errorf("create demo client: %w", err)
		}
		subjects, _ := register.DemoSubjects(envOr("VIDID_DATA", "../shared/data"))
		var featured []string
		for _, sub := range subjects {
			featured = append(featured, register.DemoSubjectIIN(sub))
		}
		featured = append(featured, register.DemoModerationIIN()) // any face: goes to moderation
		deps.Demo = &api.Demo{ClientID: id, CallbackSecret: secret, Citizens: regPG, VerifyCallback: rp.VerifySignature, Featured: featured,
			Icon: web.FaviconURL()}
	}
	kek, err := loadKey(sf.secrets, "assertion-kek", 32, sf.createSecrets)
	if err != nil {
		return err
	}
	keys, err := openAssertionKeys(ctx, pool, kek)
	if err != nil {
		return err
	}
	iss, err := assertion.NewIssuer(assertion.IssuerConfig{Issuer: sf.publicURL, Audience: sf.caAudience}, keys, nil)
	if err != nil {
		return err
	}
	deps.JWKS = keys.JWKS
	go every(ctx, 10*time.Minute, maintainKeys(log, keys, sf.keyMaxAge))
	closeCapture, ev, err := startCapture(ctx, sf, eng, pool, sessions, policies, verifier, iss, auditLog, regPG, ef.models, log, reg, &deps)
	if err != nil {
		return err
	}
	defer closeCapture()
	var fourEyes []string
	for _, w := range strings.Split(sf.moderationFourEyes, ",") {
		if w = strings.TrimSpace(w); w != "" {
			fourEyes = append(fourEyes, w)
		}
	}
	queue, err := moderation.NewQueue(pool, moderation.Config{Calendar: cal, ClaimTTL: sf.moderationClaim, FourEyes: fourEyes},
		sessions, regPG, ev, auditLog, log)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := queue.Register(reg); err != nil {
		return err
	}
	deps.Moderation, deps.Moderators = queue, moderation.NewModerators(pool, auditLog)
	deps.ModerationPages = api.ModerationPages{Render: web.ModerationPage, Lang: web.ModerationLang, CSP: web.ModerationCSP}

	checks := []api.Check{
		{Name: "database", Func: func(ctx context.Context) error { return pool.Ping(ctx) }},
		{Name: "policy", Func: policies.Check},
		{Name: "models", Func: func(ctx context.Context) error {
			if eng.Pipeline == nil {
				return errors.New("not loaded")
			}
			return nil
		}},
	}
	srv, err := api.New(api.Config{PublicURL: sf.publicURL}, deps, checks, log, reg, reg)
	if err != nil {
		return err
	}
	log.Info("serving", "addr", l.Addr().String(), "public_url", sf.publicURL)
	fmt.Fprintf(stdout, "vidid serving on %s://%s\n", scheme, l.Addr())
	return srv.Serve(ctx, l)
}

// moderationCalendar is Kazakhstan's working week and fixed-date holidays
// in zone, plus the extra days off given.
func moderationCalendar(zone, extra string) (moderation.Calendar, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return moderation.Calendar{}, fmt.Errorf("--moderation-tz: %v", err)
	}
	days, err := moderation.ParseHolidays(strings.Join(moderation.KazakhstanHolidays, ",") + "," + extra)
	if err != nil {
		return moderation.Calendar{}, fmt.Errorf("--moderation-holidays: %v", err)
	}
	return moderation.Calendar{Location: loc, Holidays: days}, nil
}

func hostOf(u string) string {
	h := strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
	if i := strings.IndexByte(h, '/'); i >= 0 {
		h = h[:i]
	}
	return h
}

type clientAuth struct{ c *rp.Clients }

func (a clientAuth) Authenticate(ctx context.Context, key string) (api.Client, error) {
	cl, err := a.c.Authenticate(ctx, key)
	if err != nil {
		return api.Client{}, err
	}
	return api.Client{ID: cl.ID, Name: cl.Name, Analyst: cl.HasScope(rp.ScopeAnalyst)}, nil
}

// verifyAudit records each /v1/verify call in the audit log.
type verifyAudit struct {
	pool *pgxpool.Pool
	log  *audit.Log
}

func (v verifyAudit) RecordVerify(ctx context.Context, clientID, iin, answer string) error {
	return pgx.BeginFunc(ctx, v.pool, func(tx pgx.Tx) error {
		_, err := v.log.Append(ctx, tx, audit.Entry{Kind: audit.KindVerifyRequest, Subject: iin,
			Data: map[string]any{"client_id": clientID, "answer": answer}})
		return err
	})
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelInfo
	}
	if f, ok := w.(*os.File); ok && f == os.Stderr && os.Getenv("VIDID_LOG_FORMAT") == "json" {
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// every runs fn now and then every interval until ctx ends. It is how the
// housekeeping jobs (key rotation, purges) run in every replica; each job
// is safe to run concurrently with itself in another process.
func every(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	fn(ctx)
	after(ctx, interval, fn)
}

// after runs fn every interval, the first time one interval from now,
// until ctx ends.
func after(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}

// maintainKeys rotates and prunes the assertion signing keys. Every replica
// runs it; the key store serialises them in Postgres.
func maintainKeys(log *slog.Logger, keys *assertion.PGKeys, maxAge time.Duration) func(context.Context) {
	return func(ctx context.Context) {
		if kid, rotated, err := keys.RotateIfOlder(ctx, maxAge); err != nil {
			log.Warn("rotate assertion key", "err", err)
		} else if rotated {
			log.Info("assertion key rotated", "kid", kid)
		}
		if n, err := keys.Prune(ctx); err != nil {
			log.Warn("prune assertion keys", "err", err)
		} else if n > 0 {
			log.Info("retired assertion keys pruned", "n", n)
		}
	}
}

// openPolicies seeds the built-in decision policy into an empty database
// and loads the active one with this process's overrides; it keeps it
// fresh every 30 s (an operator's activation reaches every replica).
func openPolicies(ctx context.Context, pool *pgxpool.Pool, a policy.Auditor, model string, ovs []policy.Override, log *slog.Logger) (*policy.Holder, error) {
	st := policy.NewStore(pool, a)
	if seeded, err := st.Seed(ctx, policy.Builtin(), "vidid serve (seed)"); err != nil {
		return nil, fmt.Errorf("seed decision policy: %w", err)
	} else if seeded {
		log.Info("decision policy seeded", "version", policy.Builtin().Version)
	}
	h := policy.NewHolder(st, model, ovs, log)
	if err := h.Reload(ctx); err != nil {
		// Serve anyway: /readyz reports it and attempts end as errors
		// until a valid policy is activated.
		log.Error("no valid decision policy in force", "err", err)
	}
	go after(ctx, 30*time.Second, func(ctx context.Context) {
		if err := h.Reload(ctx); err != nil && ctx.Err() == nil {
			log.Warn("reload decision policy", "err", err)
		}
	})
	return h, nil
}

// checksOf says which liveness checks the policy in force enforces, for
// the assertion.
func checksOf(h attempt.Policies, passiveCue string) func() assertion.Checks {
	return func() assertion.Checks {
		p, err := h.Current()
		if err != nil {
			return assertion.Checks{}
		}
		return assertion.Checks{Passive: p.Cue(passiveCue).Mode == policy.Enforce}
	}
}
