package httpserve

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// CertFiles serves a certificate and key from PEM files and picks up a
// renewed pair without a restart: a handshake re-reads the files when
// their modification time changed (checked at most every CheckEvery). A
// pair that fails to load keeps the previous one in service.
type CertFiles struct {
	Cert, Key  string
	CheckEvery time.Duration

	mu      sync.Mutex
	cert    *tls.Certificate
	mod     [2]time.Time
	checked time.Time
	lastErr error
}

// NewCertFiles loads the pair once (an error if it cannot).
func NewCertFiles(certFile, keyFile string) (*CertFiles, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("tls: both a certificate and a key file are required")
	}
	c := &CertFiles{Cert: certFile, Key: keyFile, CheckEvery: 10 * time.Second}
	if err := c.reload(time.Now()); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *CertFiles) reload(now time.Time) error {
	c.checked = now
	var mod [2]time.Time
	for i, f := range []string{c.Cert, c.Key} {
		st, err := os.Stat(f)
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		mod[i] = st.ModTime()
	}
	if c.cert != nil && mod == c.mod {
		return nil
	}
	pair, err := tls.LoadX509KeyPair(c.Cert, c.Key)
	if err != nil {
		return fmt.Errorf("tls: load %s and %s: %w", c.Cert, c.Key, err)
	}
	c.cert, c.mod = &pair, mod
	return nil
}

// GetCertificate is tls.Config.GetCertificate.
func (c *CertFiles) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.checked) >= c.CheckEvery {
		c.lastErr = c.reload(now) // on error the previous pair stays
	}
	return c.cert, nil
}

// Err is the last reload's error (nil when the files in service are the
// newest).
func (c *CertFiles) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

// TLSConfig is a server configuration with these certificates: TLS 1.2
// at least.
func (c *CertFiles) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.GetCertificate}
}
