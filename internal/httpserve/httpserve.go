// Package httpserve runs an http.Handler on a listener until a context
// ends, then shuts it down gracefully: the one serving loop of vidid's
// HTTP processes.
package httpserve

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"time"
)

// Timeouts bound how long one connection may hold the server: a slow or
// stalled client is cut off instead of holding a goroutine and a socket.
type Timeouts struct {
	// ReadHeader bounds reading the request line and headers; Read the
	// whole request including its body (an upload of MaxImageBytes at a
	// slow 1 Mbit/s takes two minutes: keep Read above what honest clients
	// need); Write the response; Idle a kept-alive connection between
	// requests.
	ReadHeader, Read, Write, Idle time.Duration
	// MaxHeaderBytes bounds the request headers.
	MaxHeaderBytes int
}

// DefaultTimeouts are the public servers' bounds.
var DefaultTimeouts = Timeouts{ReadHeader: 5 * time.Second, Read: 2 * time.Minute, Write: 2 * time.Minute,
	Idle: 30 * time.Second, MaxHeaderBytes: 32 << 10}

// Serve serves h on l with DefaultTimeouts until ctx ends, then gives
// running requests up to ten seconds to finish.
func Serve(ctx context.Context, l net.Listener, h http.Handler, errorLog *log.Logger) error {
	return ServeWith(ctx, l, h, errorLog, DefaultTimeouts)
}

// ServeWith is Serve with other timeouts.
func ServeWith(ctx context.Context, l net.Listener, h http.Handler, errorLog *log.Logger, t Timeouts) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read, WriteTimeout: t.Write,
		IdleTimeout: t.Idle, MaxHeaderBytes: t.MaxHeaderBytes, ErrorLog: errorLog}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			return err
		}
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
