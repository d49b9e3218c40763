package rp_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"vidid/internal/pgtest"
	"vidid/rp"
)

func TestClientsAuthenticate(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	clients := rp.NewClients(pool)
	id, key, secret, err := clients.Create(ctx, "e-gov portal", []string{"Portal.Example.KZ", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "vidid_"+id+"_") || !strings.HasPrefix(secret, "vcbs_") {
		t.Fatalf("key %q / secret %q have the wrong form", key, secret)
	}
	otherID, otherKey, _, err := clients.Create(ctx, "CA registration", []string{"ca.example.kz"})
	if err != nil {
		t.Fatal(err)
	}
	keySecret := key[len("vidid_"+id+"_"):]
	flip := func(s string) string { // change the last hex digit
		last := s[len(s)-1]
		repl := byte('0')
		if last == '0' {
			repl = '1'
		}
		return s[:len(s)-1] + string(repl)
	}
	tests := []struct {
		name   string
		key    string
		wantID string
	}{
		{"good", key, id},
		{"other client's good key", otherKey, otherID},
		{"wrong secret", flip(key), ""},
		{"secret of another client", "vidid_" + id + "_" + otherKey[len("vidid_"+otherID+"_"):], ""},
		{"unknown id", "vidid_" + flip(id) + "_" + keySecret, ""},
		{"empty", "", ""},
		{"no prefix", id + "_" + keySecret, ""},
		{"upper case", strings.ToUpper(key), ""},
		{"truncated secret", key[:len(key)-1], ""},
		{"extra part", key + "_x", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := clients.Authenticate(ctx, tc.key)
			if tc.wantID == "" {
				if !errors.Is(err, rp.ErrUnauthorized) {
					t.Fatalf("Authenticate = %+v, %v; want ErrUnauthorized", c, err)
				}
				return
			}
			if err != nil || c.ID != tc.wantID {
				t.Fatalf("Authenticate = %+v, %v; want client %s", c, err, tc.wantID)
			}
		})
	}

	// Only the SHA-256 of the secret is stored; the key itself is nowhere.
	var stored []byte
	var leaked bool
	if err := pool.QueryRow(ctx, `SELECT api_key_hash, position($2 in r::text) > 0 FROM rp_clients r WHERE id = $1`, id, keySecret).
		Scan(&stored, &leaked); err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(keySecret)); string(stored) != string(sum[:]) || leaked {
		t.Fatalf("stored hash mismatch or raw secret stored (leaked=%v)", leaked)
	}
	c, err := clients.Get(ctx, id)
	if err != nil || c.Name != "e-gov portal" || len(c.AllowedCallbackHosts) != 2 || c.AllowedCallbackHosts[0] != "portal.example.kz" {
		t.Fatalf("Get = %+v, %v", c, err)
	}

	if err := clients.Disable(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := clients.Authenticate(ctx, key); !errors.Is(err, rp.ErrUnauthorized) {
		t.Fatalf("disabled client authenticated: %v", err)
	}
	if _, err := clients.Get(ctx, "ffffffffffffffff"); !errors.Is(err, rp.ErrNotFound) {
		t.Fatalf("Get unknown = %v, want ErrNotFound", err)
	}
}

func TestClientsCreateRejects(t *testing.T) {
	pool := pgtest.New(t)
	clients := rp.NewClients(pool)
	for _, tc := range []struct {
		name  string
		cname string
		hosts []string
	}{
		{"empty name", "  ", nil},
		{"host with scheme", "x", []string{"https://a.kz"}},
		{"host with path", "x", []string{"a.kz/cb"}},
		{"wildcard host", "x", []string{"*.a.kz"}},
		{"bad port", "x", []string{"a.kz:http"}},
		{"empty host", "x", []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, _, err := clients.Create(context.Background(), tc.cname, tc.hosts); !errors.Is(err, rp.ErrInvalidClient) {
				t.Fatalf("Create = %v, want ErrInvalidClient", err)
			}
		})
	}
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM rp_clients`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("rejected clients were stored: %d, %v", n, err)
	}
}

func TestCheckURL(t *testing.T) {
	c := rp.Client{AllowedCallbackHosts: []string{"portal.example.kz", "ca.example.kz:8443", "127.0.0.1", "localhost:9000", "[::1]"}}
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://portal.example.kz/cb", true},
		{"https://PORTAL.example.kz:443/cb?x=1", true},
		{"https://ca.example.kz:8443/hook", true},
		{"https://ca.example.kz/hook", false}, // entry pins the port
		{"http://127.0.0.1:8080/cb", true},
		{"http://localhost:9000/cb", true},
		{"http://localhost:9001/cb", false},
		{"http://[::1]:7000/cb", true},
		{"http://portal.example.kz/cb", false}, // http only to loopback
		{"https://evil.example.com/cb", false},
		{"https://portal.example.kz.evil.com/cb", false},
		{"https://user:pw@portal.example.kz/cb", false},
		{"ftp://portal.example.kz/cb", false},
		{"//portal.example.kz/cb", false},
		{"/relative", false},
		{"", false},
		{"https://portal.example.kz/" + strings.Repeat("a", 3000), false},
		{"http://127.0.0.2/cb", false}, // loopback but not allow-listed
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			_, err := c.CheckURL(tc.url)
			if tc.ok && err != nil || !tc.ok && !errors.Is(err, rp.ErrURLNotAllowed) {
				t.Fatalf("CheckURL(%q) = %v, want ok=%v", tc.url, err, tc.ok)
			}
		})
	}
}
