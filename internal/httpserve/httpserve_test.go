package httpserve

import (
	"bufio"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A client that sends its headers and then stalls (a slow-body attack) is
// cut off by the read timeout; one that never sends headers by the
// header timeout; an idle kept-alive connection is closed. The server
// keeps serving others throughout.
func TestSlowClientsAreCutOff(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	})
	to := Timeouts{ReadHeader: 300 * time.Millisecond, Read: 600 * time.Millisecond, Write: time.Second, Idle: 300 * time.Millisecond, MaxHeaderBytes: 4 << 10}
	go func() { done <- ServeWith(ctx, l, h, log.New(io.Discard, "", 0), to) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	// closed reports whether the server closes c within 10 s (the bound is
	// the test's patience, far above the timeouts: a server without them
	// would keep the connection open much longer).
	closed := func(c net.Conn) bool {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := io.ReadAll(c)
		return err == nil // EOF: the server hung up
	}
	for _, tc := range []struct{ name, send string }{
		{"no headers", "POST / HTTP/1.1\r\nHost: x\r\n"},
		{"stalled body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc"},
	} {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(c, tc.send); err != nil {
			t.Fatal(err)
		}
		if !closed(c) {
			t.Errorf("%s: the connection was not closed", tc.name)
		}
		c.Close()
	}
	// Idle keep-alive: served, then closed.
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("a normal request: %v %v", resp, err)
	}
	resp.Body.Close()
	if !closed(c) {
		t.Error("an idle connection was not closed")
	}
	// Oversized headers are refused.
	r, err := http.DefaultClient.Do(&http.Request{Method: "GET", URL: mustURL(t, "http://"+l.Addr().String()+"/"),
		Header: http.Header{"X-Big": {strings.Repeat("a", 8<<10)}}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("8 KB of headers: HTTP %d, want 431", r.StatusCode)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
