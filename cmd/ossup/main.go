// Command ossup runs the signing backend. In dev mode (the default) it also
// runs the local Alibaba Cloud in-process. Configuration is by environment
// variables; see the README.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ossup/ossup/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ossup:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := server.LoadConfig(os.Getenv)
	if err != nil {
		return err
	}
	log := server.NewLogger(cfg.LogLevel)
	srv, err := server.New(cfg, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := srv.Listen()
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	fmt.Print(srv.Banner(ln.Addr().String()))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return srv.Serve(ctx, ln)
}
