package server

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// AdminGuardConfig configures AdminGuard.
type AdminGuardConfig struct {
	// Skipper, if set, lets a request through unchecked.
	Skipper func(echo.Context) bool
	// Token, if set, is the bearer token that admits a request from
	// anywhere (a remote Prometheus); without it only loopback requests
	// are admitted.
	Token string
	// What names the guarded thing in the refusal ("metrics").
	What string
}

// forwardingHeaders mark a request relayed by a proxy: its loopback peer
// is the proxy, not the client.
var forwardingHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-Ip"}

// AdminGuard admits a request to an admin endpoint when it carries the
// configured token, or when it comes from this machine: a loopback peer,
// a loopback Host (a DNS-rebound page reaches the loopback peer with its
// own name as Host) and no proxy's forwarding headers (behind a same-host
// reverse proxy every peer is loopback).
func AdminGuard(cfg AdminGuardConfig) echo.MiddlewareFunc {
	if cfg.What == "" {
		cfg.What = "this endpoint"
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if cfg.Skipper != nil && cfg.Skipper(c) {
				return next(c)
			}
			r := c.Request()
			if cfg.Token != "" {
				got, ok := strings.CutPrefix(r.Header.Get(echo.HeaderAuthorization), "Bearer ")
				if ok && subtle.ConstantTimeCompare([]byte(got), []byte(cfg.Token)) == 1 {
					return next(c)
				}
				return newAPIError(http.StatusUnauthorized, "unauthenticated", cfg.What+" need the bearer token (OSSUP_METRICS_TOKEN)")
			}
			if reason := notLocal(r); reason != "" {
				return newAPIError(http.StatusForbidden, "forbidden", cfg.What+" are served to this machine only: "+reason+"; set OSSUP_METRICS_TOKEN to scrape from elsewhere")
			}
			return next(c)
		}
	}
}

// notLocal says why r did not come from this machine ("" if it did).
func notLocal(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return "the peer is not a loopback address"
	}
	h := r.Host
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	if !loopbackHost(h) {
		return "the Host is not a loopback name"
	}
	for _, f := range forwardingHeaders {
		if r.Header.Get(f) != "" {
			return "the request came through a proxy (" + f + ")"
		}
	}
	return ""
}
