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

// Serve serves h on l until ctx ends, then gives running requests up to
// ten seconds to finish.
func Serve(ctx context.Context, l net.Listener, h http.Handler, errorLog *log.Logger) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errorLog}
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
