package rp

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// maxURLLen bounds callback and return URLs.
const maxURLLen = 2048

// CheckURL parses raw and checks that the client may use it as a callback
// or return URL: absolute, https (or http to a loopback host, for demos and
// tests), no user info, and a host in AllowedCallbackHosts. An entry with a
// port matches only that port; an entry without one matches any port.
// Errors wrap ErrURLNotAllowed.
func (c Client) CheckURL(raw string) (*url.URL, error) {
	if raw == "" || len(raw) > maxURLLen {
		return nil, fmt.Errorf("%w: empty or longer than %d bytes", ErrURLNotAllowed, maxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrURLNotAllowed, err)
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case !u.IsAbs() || host == "":
		return nil, fmt.Errorf("%w: %q is not an absolute URL", ErrURLNotAllowed, raw)
	case u.User != nil:
		return nil, fmt.Errorf("%w: user info in URL", ErrURLNotAllowed)
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(host):
	default:
		return nil, fmt.Errorf("%w: scheme %q: use https (http only to loopback)", ErrURLNotAllowed, u.Scheme)
	}
	hostPort := strings.ToLower(u.Host)
	for _, allowed := range c.AllowedCallbackHosts {
		if allowed == hostPort || strings.Trim(allowed, "[]") == host {
			return u, nil
		}
	}
	return nil, fmt.Errorf("%w: host %q is not in the client's allow-list", ErrURLNotAllowed, host)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
