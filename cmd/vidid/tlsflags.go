package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"net/url"

	"vidid/internal/httpserve"
)

// tlsFlags are the TLS flags of the two servers (serve, ca serve).
type tlsFlags struct{ cert, key string }

func (f *tlsFlags) add(fs *flag.FlagSet, env string) {
	fs.StringVar(&f.cert, "tls-cert", envOr(env+"_TLS_CERT", ""), "serve HTTPS with this certificate `file` (PEM, the chain after the leaf; re-read when it changes, so a renewal needs no restart; env "+env+"_TLS_CERT)")
	fs.StringVar(&f.key, "tls-key", envOr(env+"_TLS_KEY", ""), "the certificate's private key `file` (PEM; env "+env+"_TLS_KEY)")
}

// listen wraps l in TLS when a certificate is given; the scheme is the one
// browsers use to reach this listener directly.
func (f *tlsFlags) listen(l net.Listener) (net.Listener, string, error) {
	if f.cert == "" && f.key == "" {
		return l, "http", nil
	}
	if f.cert == "" || f.key == "" {
		return nil, "", fmt.Errorf("%w: --tls-cert and --tls-key go together", errUsage)
	}
	certs, err := httpserve.NewCertFiles(f.cert, f.key)
	if err != nil {
		return nil, "", err
	}
	return tls.NewListener(l, certs.TLSConfig()), "https", nil
}

// requireHTTPS refuses a plain-http URL that browsers or relying parties
// reach from elsewhere: capture tokens, API keys, cookies, assertions and
// key stores must not travel in clear. Loopback URLs (make run, tests) and
// --demo are allowed; behind a TLS-terminating proxy pass the proxy's
// https URL.
func requireHTTPS(flagName, raw string, demo bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: %s %q is not a URL", errUsage, flagName, raw)
	}
	if u.Scheme == "https" || demo {
		return nil
	}
	if u.Scheme != "http" {
		return fmt.Errorf("%w: %s %q: want https", errUsage, flagName, raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("%w: %s %s is plain http on a non-loopback host: serve with --tls-cert/--tls-key, or pass the https URL of the TLS proxy in front (--demo allows http for a demo)", errUsage, flagName, raw)
}
