package server

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
)

// NewWorkerApp builds the application the Cloudflare Workers build serves
// (cmd/worker): the same API, policy, tickets and STS code as the native
// server, from cfg alone. It starts no local cloud, reads no disk, runs no
// janitor, and serves neither metrics nor web assets. Every outbound call
// (STS, OSS, webhook, JWKS) goes through httpDo, which inside a worker must
// be the fetch-based one: net/http's default transport panics there.
// cfg must be in cloud mode, endpoints pointing at OSS and STS.
//
// The Workers glue (cmd/worker) runs this once per Go instance, in the first
// request the instance serves: it only parses and wires, and makes no
// network call (except the JWKS fetch of OSSUP_AUTH=jwt with
// OSSUP_JWT_JWKS_URL).
func NewWorkerApp(cfg Config, httpDo DoFunc, log *slog.Logger) (*echo.Echo, error) {
	if cfg.Mode != ModeCloud {
		return nil, errors.New("the worker runs in cloud mode only (OSSUP_MODE=cloud): it cannot host the local cloud")
	}
	if httpDo == nil {
		return nil, errors.New("the worker needs an HTTP client (the fetch-based one)")
	}
	if len(cfg.Secret) < 32 {
		return nil, errors.New("the worker needs OSSUP_SECRET, at least 32 characters")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a, err := newApp(cfg, []byte(cfg.Secret), httpDo, log, NewMetrics(nil))
	if err != nil {
		return nil, err
	}
	return a.routes(func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") }), nil
}
