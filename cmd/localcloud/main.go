// Command localcloud runs only the local Alibaba Cloud (the OSS- and
// STS-compatible endpoints), for people who want the emulator without the
// backend. It reads the same environment variables as the server.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ossup/ossup/internal/localcloud"
	"github.com/ossup/ossup/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "localcloud:", err)
		os.Exit(1)
	}
}

func run() error {
	cl, banner, err := start(os.Getenv)
	if err != nil {
		return err
	}
	defer cl.Close()
	fmt.Print(banner)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

// start runs the local cloud the environment getenv describes and returns
// it with the lines to print.
func start(getenv func(string) string) (*localcloud.Cloud, string, error) {
	cfg, err := server.LoadConfig(getenv)
	if err != nil {
		return nil, "", err
	}
	if cfg.Mode != server.ModeDev {
		return nil, "", fmt.Errorf("the local cloud runs in dev mode only (OSSUP_MODE=%s)", cfg.Mode)
	}
	log := server.NewLogger(cfg.LogLevel)
	// The same local cloud as the backend's dev mode: this data dir's
	// random root keys and a CORS rule naming the dev origins (plus
	// OSSUP_CORS_ORIGINS), never published keys or every origin.
	lc, generated, err := server.DevCloudConfig(cfg, log)
	if err != nil {
		return nil, "", err
	}
	cl, err := localcloud.Start(lc)
	if err != nil {
		return nil, "", err
	}
	banner := fmt.Sprintf("local OSS  %s  (bucket %s, region %s; CORS origins %s)\nlocal STS  %s  (role %s)\n",
		cl.OSSEndpoint, cfg.Bucket, cfg.Region, strings.Join(lc.CORSOrigins, " "), cl.STSEndpoint, cfg.RoleARN)
	if generated {
		banner += fmt.Sprintf("root keys  OSS_ACCESS_KEY_ID=%s OSS_ACCESS_KEY_SECRET=%s (this data dir's, local cloud only: %s)\n",
			lc.AccessKeyID, lc.AccessKeySecret, cfg.DataDir)
	}
	return cl, banner, nil
}
