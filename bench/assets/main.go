// Command assets measures what a page pays to start the browser engine: the
// size of web/engine.wasm and its JS glue raw, gzip -9 and brotli (best), as
// the backend serves them (precompressed), and the time from navigation to
// "engine ready" in headless Chromium, median of several loads, each in a
// fresh profile (cold HTTP cache, wasm compiled afresh), served by the
// backend on loopback.
//
//	go run ./bench/assets -web web
//	go run ./bench/assets -web web -web-b /tmp/other-web
//	go run ./bench/assets -web web -floors
//
// Each visitor is timed twice: on a fresh profile (cold) and on the same
// profile's second visit (warm). With -web-b, a second backend serves the
// second directory and the loads alternate between the two (A, B, A, B,
// ...), so two builds of the page and its engine compare side by side on a
// noisy machine. -floors adds two contenders to the rotation that bound
// what any engine could reach on this page: the page and its worker with
// no engine at all, and with an empty Go program as the engine.
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
	webB := flag.String("web-b", "", "a second directory of built web assets, timed alternately with -web as contender B")
	floors := flag.Bool("floors", false, "also time the page with no engine and with an empty Go program as the engine (built from ./bench/assets/emptyengine)")
	loads := flag.Int("loads", 5, "visitors to time per contender (each a fresh Chromium profile, visiting twice)")
	exe := flag.String("chromium", "", "Chromium binary (default: $OSSUP_CHROMIUM, /usr/bin/chromium, or chromium on $PATH)")
	flag.Parse()
	if err := run(*web, *webB, *floors, *loads, *exe); err != nil {
		fmt.Fprintln(os.Stderr, "bench/assets:", err)
		os.Exit(1)
	}
}

// source is one contender's web assets: a directory and its name in the
// report.
type source struct{ name, dir string }

func run(web, webB string, floors bool, loads int, exe string) error {
	if loads < 1 {
		return fmt.Errorf("-loads must be at least 1, got %d", loads)
	}
	srcs := []source{{name: web + "/", dir: web}}
	if webB != "" {
		srcs = append(srcs, source{name: webB + "/", dir: webB})
	}
	for _, s := range srcs {
		for _, f := range files {
			if _, err := os.Stat(filepath.Join(s.dir, f)); err != nil {
				return fmt.Errorf("%w (run `make build` first)", err)
			}
		}
	}
	if floors {
		fs, remove, err := makeFloors(".", web)
		if err != nil {
			return err
		}
		defer remove()
		srcs = append(srcs, fs...)
	}
	exe, err := browser.ChromiumPath(exe)
	if err != nil {
		return err
	}
	// contender is one source: its backend, its sizes and its loads.
	type contender struct {
		name  string
		b     *backend
		sizes []fileSize
		times []loadTime
	}
	var cs []*contender
	for _, src := range srcs {
		// Brotli at its best quality takes seconds on the engine: the local
		// figures are computed while the backend compresses its own copies.
		type measured struct {
			sizes []fileSize
			err   error
		}
		local := make(chan measured, 1)
		go func() {
			s, err := measureFiles(src.dir)
			local <- measured{s, err}
		}()
		b, err := startBackend(src.dir)
		if err != nil {
			return err
		}
		defer b.stop()
		m := <-local
		if m.err != nil {
			return m.err
		}
		if err := b.checkServed(m.sizes); err != nil {
			return err
		}
		cs = append(cs, &contender{name: src.name, b: b, sizes: m.sizes})
	}
	for i := range loads {
		for _, c := range cs {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			lt, err := timeLoad(ctx, exe, c.b.base)
			cancel()
			if err != nil {
				return fmt.Errorf("%s: visitor %d: %w", c.name, i+1, err)
			}
			c.times = append(c.times, lt)
		}
	}
	var rs []result
	for _, c := range cs {
		rs = append(rs, result{name: c.name, sizes: c.sizes, times: c.times, engineServed: c.b.engineServed()})
	}
	report(os.Stdout, rs, chromiumVersion(exe))
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
