// Command assets measures what a page pays to start the browser engine: the
// size of web/engine.wasm and its JS glue raw, gzip -9 and brotli (best), as
// the backend serves them (precompressed), and the time from navigation to
// "engine ready" in headless Chromium, median of several loads, each in a
// fresh profile (cold HTTP cache, wasm compiled afresh), served by the
// backend on loopback.
//
//	go run ./bench/assets -web web
//
// Build the engine first (`make build`, with internal/enginebuild.Flags). Output is
// Markdown.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/server"
)

// files are the assets a page loads to run the engine, in the table's order.
var files = []string{"engine.wasm", "wasm_exec.js", "ossup-worker.js", "ossup.js"}

func main() {
	web := flag.String("web", "web", "directory of the built web assets")
	loads := flag.Int("loads", 5, "page loads to time (each in a fresh Chromium profile)")
	exe := flag.String("chromium", "", "Chromium binary (default: $OSSUP_CHROMIUM, /usr/bin/chromium, or chromium on $PATH)")
	flag.Parse()
	if err := run(*web, *loads, *exe); err != nil {
		fmt.Fprintln(os.Stderr, "bench/assets:", err)
		os.Exit(1)
	}
}

func run(web string, loads int, exe string) error {
	if loads < 1 {
		return fmt.Errorf("-loads must be at least 1, got %d", loads)
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(web, f)); err != nil {
			return fmt.Errorf("%w (run `make build` first)", err)
		}
	}
	exe, err := browser.ChromiumPath(exe)
	if err != nil {
		return err
	}
	// Brotli at its best quality takes seconds on the engine: the local
	// figures are computed while the backend compresses its own copies.
	type measured struct {
		sizes []fileSize
		err   error
	}
	local := make(chan measured, 1)
	go func() {
		s, err := measureFiles(web)
		local <- measured{s, err}
	}()
	b, err := startBackend(web)
	if err != nil {
		return err
	}
	defer b.stop()
	m := <-local
	if m.err != nil {
		return m.err
	}
	sizes := m.sizes
	if err := b.checkServed(sizes); err != nil {
		return err
	}
	var times []loadTime
	for i := range loads {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		lt, err := timeLoad(ctx, exe, b.base)
		cancel()
		if err != nil {
			return fmt.Errorf("load %d: %w", i+1, err)
		}
		times = append(times, lt)
	}
	report(os.Stdout, web, sizes, times, b.engineServed(), chromiumVersion(exe))
	return nil
}

// startBackend runs the backend in dev mode (with its local cloud, which
// the engine's whoami call needs) serving web, and waits for the brotli
// compression it does in the background, so every load gets brotli.
func startBackend(web string) (*backend, error) {
	dir, err := os.MkdirTemp("", "ossup-bench-assets-")
	if err != nil {
		return nil, err
	}
	env := map[string]string{
		"OSSUP_ADDR": "127.0.0.1:0", "OSSUP_LOCAL_OSS_ADDR": "127.0.0.1:0", "OSSUP_LOCAL_STS_ADDR": "127.0.0.1:0",
		"OSSUP_DATA_DIR": dir, "OSSUP_WEB_DIR": web, "OSSUP_JANITOR_INTERVAL": "0",
	}
	cfg, err := server.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	srv, err := server.New(cfg, nil)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	srv.Assets().Wait()
	b, err := serve(srv)
	if err != nil {
		srv.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	stop := b.stop
	b.stop = func() { stop(); srv.Close(); os.RemoveAll(dir) }
	return b, nil
}

func goVersion() string { return runtime.Version() }
