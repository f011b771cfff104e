// Command localcloud runs only the local Alibaba Cloud (the OSS- and
// STS-compatible endpoints), for people who want the emulator without the
// backend. It reads the same environment variables as the server.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
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
	cfg, err := server.LoadConfig(os.Getenv)
	if err != nil {
		return err
	}
	if cfg.Mode != server.ModeDev {
		return fmt.Errorf("the local cloud runs in dev mode only (OSSUP_MODE=%s)", cfg.Mode)
	}
	log := server.NewLogger(cfg.LogLevel)
	cl, err := localcloud.Start(localcloud.Config{
		DataDir: cfg.DataDir, OSSAddr: cfg.LocalOSSAddr, STSAddr: cfg.LocalSTSAddr, Region: cfg.Region,
		AccessKeyID: cfg.AccessKeyID, AccessKeySecret: cfg.AccessKeySecret, Bucket: cfg.Bucket,
		RoleARN: cfg.RoleARN, MinSTSDuration: cfg.MinSTSDuration, Faults: cfg.Faults, Logger: log,
	})
	if err != nil {
		return err
	}
	defer cl.Close()
	fmt.Printf("local OSS  %s  (bucket %s, region %s)\nlocal STS  %s  (role %s)\n",
		cl.OSSEndpoint, cfg.Bucket, cfg.Region, cl.STSEndpoint, cfg.RoleARN)
	if cfg.AccessKeyID == localcloud.DevAccessKeyID {
		fmt.Printf("dev keys   OSS_ACCESS_KEY_ID=%s OSS_ACCESS_KEY_SECRET=%s\n", localcloud.DevAccessKeyID, localcloud.DevAccessKeySecret)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
