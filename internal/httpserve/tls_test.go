package httpserve

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writePair writes a self-signed certificate for 127.0.0.1 with serial n.
func writePair(t *testing.T, dir string, n int64) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(n), Subject: pkix.Name{CommonName: "vidid test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	// A distinct modification time even on coarse file systems.
	later := time.Now().Add(time.Duration(n) * time.Second)
	for _, f := range []string{"cert.pem", "key.pem"} {
		_ = os.Chtimes(filepath.Join(dir, f), later, later)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// HTTPS with a certificate from files; a renewed pair is served without a
// restart, and a broken renewal keeps the old pair in service.
func TestCertFilesReload(t *testing.T) {
	dir := t.TempDir()
	first := writePair(t, dir, 1)
	certs, err := NewCertFiles(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	certs.CheckEvery = 0
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, tls.NewListener(l, certs.TLSConfig()), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "ok")
		}), log.New(io.Discard, "", 0))
	}()
	defer func() { cancel(); <-done }()

	pool := x509.NewCertPool()
	pool.AddCert(first)
	serial := func() int64 {
		t.Helper()
		cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
		resp, err := cl.Get("https://" + l.Addr().String() + "/")
		if err != nil {
			t.Fatalf("https: %v", err)
		}
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64()
	}
	if s := serial(); s != 1 {
		t.Fatalf("serial %d, want 1", s)
	}
	pool.AddCert(writePair(t, dir, 2))
	if s := serial(); s != 2 {
		t.Fatalf("after the renewal: serial %d, want 2", s)
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	_ = os.Chtimes(filepath.Join(dir, "cert.pem"), later, later)
	if s := serial(); s != 2 || certs.Err() == nil {
		t.Fatalf("a broken renewal: serial %d (want the old 2), error %v", s, certs.Err())
	}
	// Plain http to the TLS port gets nothing useful.
	if resp, err := http.Get("http://" + l.Addr().String() + "/"); err == nil && resp.StatusCode == 200 {
		t.Fatal("plain http was served on the TLS port")
	}
	if _, err := NewCertFiles(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")); err == nil {
		t.Fatal("a broken pair must not load")
	}
}
