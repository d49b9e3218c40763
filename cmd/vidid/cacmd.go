package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"vidid/assertion"
	"vidid/ca"
	"vidid/ca/server"
	"vidid/internal/httpserve"
)

func init() {
	addCommand(command{name: "ca", summary: "the reference CA: verifies assertions, issues keys and certificates", run: runCA})
}

func runCA(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ca", "ca serve [--addr HOST:PORT] [--issuer-url URL] [--id CA-ID] [--db URL]", `
Runs the reference certificate authority, standing in for the national CA,
as a separate process on its own port. An applicant arrives from vidid with
a signed identity assertion (POST /enroll, form field "assertion"). The CA
verifies it — signature against vidid's JWKS (ISSUER-URL/.well-known/
jwks.json), issuer, audience (this CA's id), expiry, and that it was never
used — asks for a key-store password, generates an RSA-2048 key pair,
issues an X.509 certificate (CN, SN, GIVENNAME, SERIALNUMBER=IIN…, C=KZ)
under a CA chain it creates on first start, and returns a password-
protected PKCS#12 file. POST /v1/enroll/csr accepts a PKCS#10 CSR instead.
GET /ca.pem serves the chain; /healthz and /metrics as usual.

The assertion is consumed in the same transaction that records the
certificate.

TLS: --tls-cert and --tls-key serve HTTPS (re-read when they change); the
key store and its password must not travel in clear outside loopback. A
plain-http --issuer-url (vidid's JWKS) is refused unless it is loopback.`, stderr)
	addr := fs.String("addr", envOr("VIDID_CA_ADDR", "127.0.0.1:8443"), "listen `address`")
	issuerURL := fs.String("issuer-url", envOr("VIDID_ISSUER_URL", "http://127.0.0.1:8080"), "vidid's issuer URL (the assertions' iss; JWKS at URL/.well-known/jwks.json)")
	id := fs.String("id", envOr("VIDID_CA_AUDIENCE", "vidid-demo-ca"), "this CA's id: the audience its assertions must carry")
	secrets := fs.String("secrets", envOr("VIDID_SECRETS", "var/secrets"), "`dir` of key files (the CA key-encryption key)")
	createSecrets := fs.Bool("create-secrets", true, "create a missing CA key-encryption key (false in production)")
	logLevel := fs.String("log-level", envOr("VIDID_LOG_LEVEL", "info"), "debug, info, warn or error")
	var db dbFlags
	var tf tlsFlags
	db.add(fs)
	tf.add(fs, "VIDID_CA")
	if len(args) == 0 || args[0] != "serve" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return parse(fs, args)
		}
		return fmt.Errorf("%w: want 'ca serve'", errUsage)
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if err := requireHTTPS("--issuer-url", *issuerURL, false); err != nil {
		return err
	}
	log := newLogger(stderr, *logLevel).With("component", "ca")
	pool, err := db.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	kek, err := loadKey(*secrets, "ca-kek", 32, *createSecrets)
	if err != nil {
		return err
	}
	keys, err := assertion.NewRemoteKeys(assertion.RemoteKeysConfig{URL: strings.TrimRight(*issuerURL, "/") + "/.well-known/jwks.json"}, nil)
	if err != nil {
		return err
	}
	tokens := assertion.NewPGTokens(pool)
	verifier, err := assertion.NewVerifier(assertion.VerifierConfig{Issuer: *issuerURL, Audience: *id}, keys, tokens, nil)
	if err != nil {
		return err
	}
	go every(ctx, time.Hour, purgeUsedTokens(log, tokens))
	auditLog, err := openAuditLog(*secrets, *createSecrets)
	if err != nil {
		return err
	}
	auth, err := ca.New(ctx, ca.Config{ID: *id, KEK: kek, Audit: auditLog}, pool, verifier, nil, log)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	h, err := server.New(server.Config{VerifyURL: *issuerURL, Ping: func(ctx context.Context) error { return pool.Ping(ctx) }, Gatherer: reg}, auth, log, reg)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	l, scheme, err := tf.listen(l)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "vidid CA serving on %s://%s\n", scheme, l.Addr())
	log.Info("CA serving", "addr", l.Addr().String(), "id", *id, "issuer", *issuerURL)
	return httpserve.Serve(ctx, l, h, slog.NewLogLogger(log.Handler(), slog.LevelWarn))
}

// usedTokenRetention is how long a consumed assertion's record is kept after
// the assertion expired. Replay protection needs it only until exp plus the
// verifier's leeway (minutes); the rest is for investigations.
const usedTokenRetention = 24 * time.Hour

// purgeUsedTokens deletes records of consumed assertions that expired more
// than usedTokenRetention ago.
func purgeUsedTokens(log *slog.Logger, tokens *assertion.PGTokens) func(context.Context) {
	return func(ctx context.Context) {
		if n, err := tokens.Purge(ctx, time.Now().Add(-usedTokenRetention)); err != nil {
			if ctx.Err() == nil {
				log.Warn("purge used assertion records", "err", err)
			}
		} else if n > 0 {
			log.Info("used assertion records purged", "n", n)
		}
	}
}
