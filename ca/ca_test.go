package ca_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"vidid/assertion"
	"vidid/ca"
	"vidid/internal/pgtest"
)

// TestEnrollKeyStore enrols with a password and checks the PKCS#12 the
// applicant downloads with the real openssl: it opens with the password,
// holds the key, the certificate naming the IIN and the chain, and the
// certificate verifies against the root for S/MIME signing.
func TestEnrollKeyStore(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, password := range []string{"correct horse battery", "Тауқұс-2025!"} {
		t.Run(password, func(t *testing.T) {
			tok := f.token(t)
			p12, cert, err := f.ca.Enroll(ctx, tok, password)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			p12File := writeFile(t, dir, "900515400123.p12", p12)
			out, err := openssl(t, "pkcs12", "-in", p12File, "-passin", "pass:"+password, "-nodes")
			if err != nil {
				t.Fatalf("openssl pkcs12: %v", err)
			}
			var keys, certs []*pem.Block
			for _, b := range pemBlocks([]byte(out)) {
				switch b.Type {
				case "PRIVATE KEY":
					keys = append(keys, b)
				case "CERTIFICATE":
					certs = append(certs, b)
				}
			}
			if len(keys) != 1 || len(certs) != 3 {
				t.Fatalf("openssl found %d keys and %d certificates, want 1 and 3", len(keys), len(certs))
			}
			key, err := x509.ParsePKCS8PrivateKey(keys[0].Bytes)
			if err != nil {
				t.Fatal(err)
			}
			rk, ok := key.(*rsa.PrivateKey)
			if !ok || rk.N.BitLen() != 2048 || !rk.PublicKey.Equal(cert.PublicKey) {
				t.Fatalf("key in the key store: %T, not the certified RSA-2048 key", key)
			}
			var leafPEM []byte
			for _, b := range certs {
				if bytes.Equal(b.Bytes, cert.Raw) {
					leafPEM = pem.EncodeToMemory(b)
				}
			}
			if leafPEM == nil {
				t.Fatal("the returned certificate is not in the key store")
			}
			leafFile := writeFile(t, dir, "leaf.pem", leafPEM)
			subj, err := openssl(t, "x509", "-in", leafFile, "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb")
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"serialNumber=IIN900515400123", "CN=САПАРОВА АЙГЕРИМ", "SN=САПАРОВА", "GN=АЙГЕРИМ", "C=KZ"} {
				if !strings.Contains(subj, want) {
					t.Errorf("subject %q lacks %q", strings.TrimSpace(subj), want)
				}
			}
			rootFile := writeFile(t, dir, "root.pem", f.ca.RootPEM())
			issuingFile := writeFile(t, dir, "issuing.pem", certPEM(f.ca.Issuing()))
			res, err := openssl(t, "verify", "-CAfile", rootFile, "-untrusted", issuingFile, "-purpose", "smimesign", leafFile)
			if err != nil || strings.TrimSpace(res) != leafFile+": OK" {
				t.Fatalf("openssl verify: %q %v", res, err)
			}
			if _, err := openssl(t, "pkcs12", "-in", p12File, "-passin", "pass:wrong-password", "-nodes"); err == nil {
				t.Fatal("the key store opens with a wrong password")
			}
		})
	}
}

// TestCertificateProfile checks the issued certificate field by field.
func TestCertificateProfile(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok := f.token(t)
	ver, err := f.ca.Check(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	p12, cert, err := f.ca.Enroll(ctx, tok, "long enough password")
	if err != nil {
		t.Fatal(err)
	}
	_, _, cas, err := pkcs12.DecodeChain(p12, "long enough password")
	if err != nil {
		t.Fatal(err)
	}
	if len(cas) != 2 || !cas[0].Equal(f.ca.Issuing()) || !cas[1].Equal(f.ca.Root()) {
		t.Fatalf("key store chain: %d certificates", len(cas))
	}
	issuing := f.ca.Issuing()
	checks := []struct {
		name string
		ok   bool
	}{
		{"CN", cert.Subject.CommonName == "САПАРОВА АЙГЕРИМ"},
		{"SERIALNUMBER", cert.Subject.SerialNumber == "IIN900515400123"},
		{"C", len(cert.Subject.Country) == 1 && cert.Subject.Country[0] == "KZ"},
		{"key usage", cert.KeyUsage == x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment},
		{"EKU", len(cert.ExtKeyUsage) == 2 && cert.ExtKeyUsage[0] == x509.ExtKeyUsageEmailProtection && cert.ExtKeyUsage[1] == x509.ExtKeyUsageClientAuth},
		{"not a CA", cert.BasicConstraintsValid && !cert.IsCA},
		{"one year", cert.NotAfter.Equal(cert.NotBefore.AddDate(1, 0, 0))},
		{"valid now", !f.clock.Now().Before(cert.NotBefore) && f.clock.Now().Before(cert.NotAfter)},
		{"serial ≤ 128 bits", cert.SerialNumber.Sign() > 0 && cert.SerialNumber.BitLen() <= 128},
		{"serial random (not small)", cert.SerialNumber.BitLen() > 64},
		{"SKI", len(cert.SubjectKeyId) == 20},
		{"AKI = issuing SKI", bytes.Equal(cert.AuthorityKeyId, issuing.SubjectKeyId) && len(issuing.SubjectKeyId) > 0},
		{"signed by the issuing CA", cert.CheckSignatureFrom(issuing) == nil},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: wrong", c.name)
		}
	}
	var sn, gn string
	for _, n := range cert.Subject.Names {
		switch n.Type.String() {
		case "2.5.4.4":
			sn, _ = n.Value.(string)
		case "2.5.4.42":
			gn, _ = n.Value.(string)
		}
	}
	if sn != "САПАРОВА" || gn != "АЙГЕРИМ" {
		t.Errorf("SN %q GN %q", sn, gn)
	}

	got, err := f.ca.Certificates(ctx, "900515400123")
	if err != nil || len(got) != 1 {
		t.Fatalf("certificates: %d %v", len(got), err)
	}
	is := got[0]
	if is.Serial != cert.SerialNumber.Text(16) || is.AssertionJTI != ver.Claims.ID || is.Method != ca.MethodKeyStore ||
		!is.NotAfter.Equal(cert.NotAfter) || !bytes.Equal(is.PEM, certPEM(cert)) || !strings.Contains(is.Subject, "IIN900515400123") {
		t.Fatalf("recorded %+v", is)
	}
	if other, err := f.ca.Certificates(ctx, "851102303454"); err != nil || len(other) != 0 {
		t.Fatalf("another IIN: %d %v", len(other), err)
	}
	if _, err := f.ca.Certificates(ctx, "12345"); err == nil {
		t.Fatal("listing by an invalid IIN accepted")
	}
}

func TestEnrollReplay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok := f.token(t)
	if _, _, err := f.ca.Enroll(ctx, tok, "first password ok"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.ca.Enroll(ctx, tok, "second password ok"); !errors.Is(err, assertion.ErrReplayed) {
		t.Fatalf("second enrol: want ErrReplayed, got %v", err)
	}
	if _, err := f.ca.Check(ctx, tok); !errors.Is(err, assertion.ErrReplayed) {
		t.Fatalf("check after use: want ErrReplayed, got %v", err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, _, err := f.ca.EnrollCSR(ctx, tok, csrPEM(t, key, "x")); !errors.Is(err, assertion.ErrReplayed) {
		t.Fatalf("csr with a used assertion: want ErrReplayed, got %v", err)
	}
	if n := f.countCerts(t); n != 1 {
		t.Fatalf("%d certificates recorded, want 1", n)
	}
}

// TestEnrollConcurrentReplay: the same assertion sent by several requests
// at once (double submit, two CA replicas) yields one certificate.
func TestEnrollConcurrentReplay(t *testing.T) {
	f := newFixture(t)
	other := f.newAuthority(t, f.pool, testKEK) // a second CA process on the same database
	tok := f.token(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		a := f.ca
		if i%2 == 1 {
			a = other
		}
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		csr := csrPEM(t, key, "x")
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = a.EnrollCSR(context.Background(), tok, csr)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, assertion.ErrReplayed):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 || f.countCerts(t) != 1 {
		t.Fatalf("%d enrolments succeeded and %d certificates recorded, want 1 and 1", ok, f.countCerts(t))
	}
}

func TestEnrollWeakPassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok := f.token(t)
	for i, tc := range []struct {
		password string
		problem  ca.PasswordProblem
	}{
		{"", ca.PasswordTooShort},
		{"short1!", ca.PasswordTooShort},
		{"Сәлем12", ca.PasswordTooShort}, // 7 characters, 11 bytes
		{"aaaaaaaaaaaa", ca.PasswordRepetitive},
		{"12345678", ca.PasswordRepetitive},
		{"my900515400123", ca.PasswordContainsIIN},
		{"tab\there-ok-long", ca.PasswordInvalid},
		{strings.Repeat("xy", 65), ca.PasswordTooLong},
	} {
		t.Run(fmt.Sprintf("%d_%s", i, tc.problem), func(t *testing.T) {
			_, _, err := f.ca.Enroll(ctx, tok, tc.password)
			var pe *ca.PasswordError
			if !errors.Is(err, ca.ErrWeakPassword) || !errors.As(err, &pe) || pe.Problem != tc.problem {
				t.Fatalf("want ErrWeakPassword (%s), got %v", tc.problem, err)
			}
		})
	}
	if n := f.countCerts(t); n != 0 {
		t.Fatalf("weak passwords recorded %d certificates", n)
	}
	// None of the refusals consumed the assertion.
	if _, _, err := f.ca.Enroll(ctx, tok, "Сәлем123"); err != nil {
		t.Fatalf("good password after weak ones: %v", err)
	}
}

func TestEnrollCSR(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok := f.token(t)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	good, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	goodCSR := csrPEM(t, good, "Evil Person")
	block, _ := pem.Decode(goodCSR)
	tampered := bytes.Clone(block.Bytes)
	tampered[len(tampered)-3] ^= 0xff // inside the signature
	bad := []struct {
		name string
		csr  []byte
		want error
	}{
		{"empty", nil, ca.ErrBadCSR},
		{"not PEM", []byte("hello"), ca.ErrBadCSR},
		{"certificate instead of request", certPEM(f.ca.Root()), ca.ErrBadCSR},
		{"two requests", append(bytes.Clone(goodCSR), goodCSR...), ca.ErrBadCSR},
		{"garbage DER", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte{0x30, 0x03, 1, 2, 3}}), ca.ErrBadCSR},
		{"tampered signature", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: tampered}), ca.ErrBadCSR},
		{"oversized", bytes.Repeat([]byte("A"), ca.MaxCSRBytes+1), ca.ErrBadCSR},
		{"RSA-1024", csrPEM(t, rsa1024, "x"), ca.ErrUnsupportedKey},
		{"P-521", csrPEM(t, p521, "x"), ca.ErrUnsupportedKey},
		{"Ed25519", csrPEM(t, ed, "x"), ca.ErrUnsupportedKey},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := f.ca.EnrollCSR(ctx, tok, tc.csr); !errors.Is(err, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, err)
			}
		})
	}
	if n := f.countCerts(t); n != 0 {
		t.Fatalf("bad requests recorded %d certificates", n)
	}

	// The same assertion still works, and the subject is the assertion's.
	chainPEM, cert, err := f.ca.EnrollCSR(ctx, tok, goodCSR)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "САПАРОВА АЙГЕРИМ" || cert.Subject.SerialNumber != "IIN900515400123" {
		t.Fatalf("subject %s: taken from the request?", cert.Subject)
	}
	if !good.PublicKey.Equal(cert.PublicKey) {
		t.Fatal("certified key is not the request's")
	}
	blocks := pemBlocks(chainPEM)
	if len(blocks) != 2 || !bytes.Equal(blocks[0].Bytes, cert.Raw) || !bytes.Equal(blocks[1].Bytes, f.ca.Issuing().Raw) {
		t.Fatalf("chain: %d blocks, want leaf then issuing CA", len(blocks))
	}
	dir := t.TempDir()
	leaf := writeFile(t, dir, "leaf.pem", pem.EncodeToMemory(blocks[0]))
	res, err := openssl(t, "verify", "-CAfile", writeFile(t, dir, "root.pem", f.ca.RootPEM()),
		"-untrusted", writeFile(t, dir, "issuing.pem", pem.EncodeToMemory(blocks[1])), leaf)
	if err != nil || strings.TrimSpace(res) != leaf+": OK" {
		t.Fatalf("openssl verify: %q %v", res, err)
	}
	is, err := f.ca.Certificates(ctx, "900515400123")
	if err != nil || len(is) != 1 || is[0].Method != ca.MethodCSR {
		t.Fatalf("recorded: %+v %v", is, err)
	}
}

// TestEnrollRefusesBadAssertions: each assertion failure reaches the
// caller as its own error, and nothing is issued or consumed.
func TestEnrollRefusesBadAssertions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	otherAud, err := assertion.NewIssuer(assertion.IssuerConfig{Issuer: testIssuer, Audience: "another-ca"}, f.keys, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	wrongAudTok, _, err := otherAud.Issue(ctx, assertionSample())
	if err != nil {
		t.Fatal(err)
	}
	expiredTok := f.token(t)
	cases := []struct {
		name  string
		token string
		at    time.Duration
		want  error
	}{
		{"wrong audience", wrongAudTok, 0, assertion.ErrWrongAudience},
		{"expired", expiredTok, 7 * time.Minute, assertion.ErrExpired},
		{"garbage", "not-a-token", 0, assertion.ErrMalformed},
		{"moderator decision without moderator", f.tokenPVRWithoutModerator(t), 0, assertion.ErrPolicy},
	}
	start := f.clock.Now()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.Set(start.Add(tc.at))
			defer f.clock.Set(start)
			if _, _, err := f.ca.Enroll(ctx, tc.token, "good password 1"); !errors.Is(err, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, err)
			}
		})
	}
	if n := f.countCerts(t); n != 0 {
		t.Fatalf("%d certificates issued on bad assertions", n)
	}
}

// tokenPVRWithoutModerator crafts a pvr assertion that names no moderator,
// signed with the real key (the issuer refuses to make one).
func (f *fixture) tokenPVRWithoutModerator(t *testing.T) string {
	t.Helper()
	sk, err := f.keys.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// A pvr assertion needs a moderator id to be issued; issue one, then
	// re-sign its claims without the moderator.
	c := assertionSample()
	c.Method, c.Evidence.ModeratorID = assertion.MethodPVR, "mod-1"
	tok, _, err := f.issuer.Issue(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	v, err := assertion.NewVerifier(assertion.VerifierConfig{Issuer: testIssuer, Audience: testCA}, f.keys, nil, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	ver, err := v.Check(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	ver.Claims.Evidence.ModeratorID = ""
	return signClaims(t, sk, ver.Claims)
}

func TestChainCreatedOnceAndReused(t *testing.T) {
	f := newFixture(t) // the fixture's CA created the chain in its database
	ctx := context.Background()
	root := f.ca.Root()

	t.Run("restart loads the same chain", func(t *testing.T) {
		again := f.newAuthority(t, f.pool, testKEK)
		if !again.Root().Equal(root) || !again.Issuing().Equal(f.ca.Issuing()) {
			t.Fatal("a restarted CA made a new chain")
		}
	})

	t.Run("wrong KEK is refused, chain kept", func(t *testing.T) {
		_, err := f.tryAuthority(f.pool, bytes.Repeat([]byte{9}, 32))
		if !errors.Is(err, assertion.ErrWrongKEK) {
			t.Fatalf("want ErrWrongKEK, got %v", err)
		}
		var n int
		if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM ca_chains`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d chains (%v)", n, err)
		}
	})

	t.Run("simultaneous first start", func(t *testing.T) {
		pool := pgtest.New(t) // a fresh database with no chain
		const n = 5
		var wg sync.WaitGroup
		roots := make([]*x509.Certificate, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, err := f.tryAuthority(pool, testKEK)
				if err == nil {
					roots[i] = a.Root()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("CA %d: %v", i, errs[i])
			}
			if !roots[i].Equal(roots[0]) {
				t.Fatal("CAs started together use different roots")
			}
		}
		var rows int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM ca_chains`).Scan(&rows); err != nil || rows != 1 {
			t.Fatalf("%d chain rows (%v), want 1", rows, err)
		}
	})

	t.Run("chain shape", func(t *testing.T) {
		issuing := f.ca.Issuing()
		if root.Subject.CommonName != "vidid Demo Root CA" || issuing.Subject.CommonName != "vidid Demo Issuing CA" ||
			root.Subject.Country[0] != "KZ" || issuing.Subject.Country[0] != "KZ" {
			t.Fatalf("names %s / %s", root.Subject, issuing.Subject)
		}
		for _, c := range []*x509.Certificate{root, issuing} {
			k, ok := c.PublicKey.(*ecdsa.PublicKey)
			if !ok || k.Curve != elliptic.P384() || !c.IsCA || c.KeyUsage&x509.KeyUsageCertSign == 0 {
				t.Fatalf("%s: not a P-384 CA certificate", c.Subject.CommonName)
			}
		}
		if !issuing.MaxPathLenZero || issuing.CheckSignatureFrom(root) != nil {
			t.Fatal("issuing CA: path length or signature")
		}
		var sealed []byte
		if err := f.pool.QueryRow(ctx, `SELECT issuing_key FROM ca_chains`).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(sealed, []byte("PRIVATE")) || len(sealed) < 100 {
			t.Fatal("issuing key not sealed")
		}
		blocks := pemBlocks(f.ca.ChainPEM())
		if len(blocks) != 2 || !bytes.Equal(blocks[0].Bytes, issuing.Raw) || !bytes.Equal(blocks[1].Bytes, root.Raw) {
			t.Fatal("ChainPEM is not issuing then root")
		}
	})
}

func TestNewConfig(t *testing.T) {
	f := newFixture(t)
	v, err := assertion.NewVerifier(assertion.VerifierConfig{Issuer: testIssuer, Audience: "another-ca"}, f.keys, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.New(context.Background(), ca.Config{ID: testCA, KEK: testKEK}, f.pool, v, nil, nil); err == nil {
		t.Fatal("a verifier for another audience was accepted")
	}
	if _, err := ca.New(context.Background(), ca.Config{ID: "bad id", KEK: testKEK}, f.pool, v, nil, nil); err == nil {
		t.Fatal("bad id accepted")
	}
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
