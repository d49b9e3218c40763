//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vidid/register"
	"vidid/store"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startCA runs `vidid ca serve` on addr, trusting issuer's JWKS.
func startCA(t *testing.T, db, addr, issuer string) string {
	t.Helper()
	return launch(t, "vidid CA serving on ", nil, "ca", "serve", "--addr", addr, "--issuer-url", issuer, "--db", db, "--secrets", t.TempDir())
}

// keyStore sets password on the CA's password page, submits it, and
// returns the PKCS#12 the CA then offers for download (screenshot shotName).
func keyStore(t *testing.T, ctx context.Context, password, shotName string) []byte {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.SendKeys(chromedp.ID("confirm"), password),
		chromedp.Submit(chromedp.ID("password")),
	); err != nil {
		t.Fatal(err)
	}
	if !waitFor(t, ctx, `!!document.getElementById('download')`, 60*time.Second) {
		t.Fatalf("no key store offered: %q", text(ctx, "body"))
	}
	shot(t, ctx, shotName)
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('download').href`))
	if err != nil {
		t.Fatal(err)
	}
	_, b64, ok := strings.Cut(href, ";base64,")
	if !ok {
		t.Fatalf("download link is not a data: URL: %.60q", href)
	}
	p12, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return p12
}

// TestEnrolment is the whole flow: capture → match → the page posts the
// assertion to the CA → password → a PKCS#12 that openssl opens with that
// password, holding a certificate that names the IIN and verifies against
// the CA chain. Replaying the same assertion is refused.
func TestEnrolment(t *testing.T) {
	caAddr := freePort(t)
	sys := start(t, append([]string{"--challenges", "0", "--ca-url", "http://" + caAddr}, recordCamera...)...)
	caBase := startCA(t, sys.db, caAddr, sys.base)
	iin := register.DemoSubjectIIN("s01-apfol")
	ctx := browser(t, approachVideo(t), false)
	open(t, ctx, sys.session(t, iin), false)
	outcome, reason := waitAttempt(t, sys.db, 90*time.Second)
	if outcome != "match" {
		t.Fatalf("attempt %s/%s, want match", outcome, reason)
	}
	// The page submits the assertion to the CA after 2 s.
	if !waitFor(t, ctx, `location.href.startsWith('`+caBase+`') && !!document.getElementById('password')`, 30*time.Second) {
		t.Fatalf("not on the CA's password page; at %q: %q", text(ctx, "title"), text(ctx, "body"))
	}
	shot(t, ctx, "ca-password")
	token, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('input[name=assertion]').value`))
	if err != nil || strings.Count(token, ".") != 2 {
		t.Fatalf("no assertion on the password page: %q %v", token, err)
	}
	const password = "Qazaq-Eli 2026!"
	p12 := keyStore(t, ctx, password, "ca-success")
	dir := t.TempDir()
	p12Path := filepath.Join(dir, iin+".p12")
	if err := os.WriteFile(p12Path, p12, 0o600); err != nil {
		t.Fatal(err)
	}
	// openssl opens it with the password, and not without it.
	out, err := exec.Command("openssl", "pkcs12", "-in", p12Path, "-passin", "pass:"+password, "-nokeys", "-clcerts", "-out", filepath.Join(dir, "cert.pem")).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl pkcs12 with the password: %v\n%s", err, out)
	}
	if out, err := exec.Command("openssl", "pkcs12", "-in", p12Path, "-passin", "pass:wrong-password", "-nokeys", "-out", os.DevNull).CombinedOutput(); err == nil {
		t.Fatalf("openssl opened the key store with a wrong password:\n%s", out)
	}
	subj, err := exec.Command("openssl", "x509", "-in", filepath.Join(dir, "cert.pem"), "-noout", "-subject", "-nameopt", "RFC2253").CombinedOutput()
	if err != nil || !strings.Contains(string(subj), "IIN"+iin) || !strings.Contains(string(subj), "C=KZ") {
		t.Fatalf("certificate subject %q (%v) does not name IIN%s, C=KZ", subj, err, iin)
	}
	// The certificate verifies against the CA's chain.
	resp, err := http.Get("http://" + caAddr + "/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	chain, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	blocks := strings.SplitAfter(string(chain), "-----END CERTIFICATE-----\n")
	if len(blocks) < 2 {
		t.Fatalf("chain has %d certificates", len(blocks))
	}
	_ = os.WriteFile(filepath.Join(dir, "issuing.pem"), []byte(blocks[0]), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "root.pem"), []byte(strings.Join(blocks[1:], "")), 0o644)
	if out, err := exec.Command("openssl", "verify", "-CAfile", filepath.Join(dir, "root.pem"), "-untrusted", filepath.Join(dir, "issuing.pem"),
		filepath.Join(dir, "cert.pem")).CombinedOutput(); err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("openssl verify: %v\n%s", err, out)
	}
	// Submitting the same assertion again is refused.
	resp, err = http.PostForm("http://"+caAddr+"/enroll/keystore", url.Values{"assertion": {token}, "password": {password}, "confirm": {password}, "lang": {"en"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("replayed assertion: HTTP %d, want 409", resp.StatusCode)
	}
	// Every step is in the audit log, and the chain verifies.
	if out := vidid(t, "audit", "verify", "--db", sys.db); !strings.HasPrefix(out, "intact") {
		t.Fatalf("audit verify: %s", out)
	}
	pool, err := store.Open(context.Background(), sys.db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for _, kind := range []string{"session_created", "consent", "attempt_result", "session_decided", "assertion_issued", "assertion_consumed", "certificate_issued"} {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE kind = $1`, kind).Scan(&n); err != nil || n == 0 {
			t.Errorf("audit log has no %s record (%v)", kind, err)
		}
	}
}
