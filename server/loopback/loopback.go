// Package loopback runs the backend on free loopback ports, for tests and
// benchmarks.
package loopback

import (
	"context"
	"fmt"

	"github.com/ossup/ossup/server"
)

// Server is a backend serving on loopback.
type Server struct {
	*server.Server
	// Base is its URL, http://127.0.0.1:port.
	Base string
	stop func() error
}

// Defaults are the settings Start applies under env: every listener on a
// free loopback port (the local OSS and STS too, in dev mode) and no
// janitor, whose sweeps would interfere with what a test looks at.
var Defaults = map[string]string{
	"OSSUP_ADDR": "127.0.0.1:0", "OSSUP_LOCAL_OSS_ADDR": "127.0.0.1:0", "OSSUP_LOCAL_STS_ADDR": "127.0.0.1:0",
	"OSSUP_JANITOR_INTERVAL": "0",
}

// Start configures a backend from env (OSSUP_* settings) over Defaults and
// serves it until Close.
func Start(env map[string]string) (*Server, error) {
	e := make(map[string]string, len(Defaults)+len(env))
	for k, v := range Defaults {
		e[k] = v
	}
	for k, v := range env {
		e[k] = v
	}
	cfg, err := server.LoadConfig(func(k string) string { return e[k] })
	if err != nil {
		return nil, fmt.Errorf("backend config: %w", err)
	}
	srv, err := server.New(cfg, nil)
	if err != nil {
		return nil, fmt.Errorf("start backend: %w", err)
	}
	ln, err := srv.Listen()
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("backend listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	return &Server{Server: srv, Base: "http://" + ln.Addr().String(), stop: func() error {
		cancel()
		<-done
		return srv.Close()
	}}, nil
}

// Close stops serving, waits for the server to return and closes it.
func (s *Server) Close() error { return s.stop() }
