package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/localcloud/faults"
)

// queueBench measures what n queued files cost the page and the engine's
// worker in Chromium: the V8 heaps of both and the engine's wasm memory,
// after a full collection, idle and with n files handed to upload() while
// the running uploads crawl (so the others stay queued). Issue 10's target:
// 10,000 queued files within 20 MiB above idle.
func queueBench(n int) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ossup-queue-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	web := filepath.Join(dir, "web")
	if err := os.MkdirAll(web, 0o755); err != nil {
		return err
	}
	if _, err := buildWeb(root, web, false); err != nil {
		return err
	}
	be, err := startBackend(filepath.Join(dir, "data"), web, 8<<20, 4, false)
	if err != nil {
		return err
	}
	defer be.stop()
	// The uploads that get a slot crawl, so every other one stays queued.
	if err := be.srv.Cloud().Faults.Set(faults.Config{BandwidthBytesPerSec: 1024}); err != nil {
		return err
	}
	br, err := startBrowser(browser.Chromium, filepath.Join(dir, "profile"))
	if err != nil {
		return err
	}
	defer br.Close()
	pg := br.Page()
	tab, ok := browser.CDP(pg)
	if !ok {
		return errors.New("queue: needs Chromium's DevTools protocol")
	}
	ctx, cancel := context.WithTimeout(tab, 10*time.Minute)
	defer cancel()
	stale, err := workerTargets(ctx)
	if err != nil {
		return err
	}
	if err := pg.Navigate(ctx, be.base+"/lab.html"); err != nil {
		return err
	}
	var ready bool
	if err := browser.Poll(ctx, pg, `document.getElementById('engine-status').textContent.startsWith('engine ready')`, time.Minute, &ready); err != nil {
		return fmt.Errorf("queue: engine not ready: %w", err)
	}
	wctx, detach, err := attachWorker(ctx, stale, new(atomic.Int64))
	if err != nil {
		return err
	}
	defer detach()
	mem, err := wasmMemories(wctx)
	if err != nil {
		return err
	}
	type usage struct{ page, worker, wasm float64 }
	measure := func() (usage, error) {
		var u usage
		for _, c := range []context.Context{ctx, wctx} {
			if err := collectGarbage(c); err != nil {
				return u, err
			}
		}
		var err error
		if u.page, _, err = heapUsage(ctx); err != nil {
			return u, err
		}
		if u.worker, _, err = heapUsage(wctx); err != nil {
			return u, err
		}
		u.wasm, err = wasmBytes(wctx, mem)
		return u, err
	}
	// The Files exist before any uploader sees them (the user picked them),
	// so idle holds them too: what is measured is what queuing them costs.
	files := `(() => { const d = new Uint8Array(1000); window.files = [];
	  for (let i = 0; i < ` + strconv.Itoa(n) + `; i++) window.files.push(new File([d], 'queued-' + i + '.bin', { lastModified: 1700000000000 + i }));
	  return true; })()`
	if err := pg.Eval(ctx, files, nil); err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	idle, err := measure()
	if err != nil {
		return err
	}
	start := time.Now()
	js := `(() => { const u = window.ossupDemo.uploader; window.queued = window.files.map(f => u.upload(f)); return true; })()`
	if err := pg.Eval(ctx, js, nil); err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	// Every file reached the engine once its handle reports queued (or the
	// few that got a slot, checking or uploading).
	var all bool
	if err := browser.Poll(ctx, pg, `window.queued.filter(h => h.state !== 'queued' && h.state !== 'checking' && h.state !== 'uploading').length === 0 &&
	  window.queued.filter(h => h.state === 'queued').length >= `+strconv.Itoa(n-8), 5*time.Minute, &all); err != nil {
		return fmt.Errorf("queue: the files never all got queued: %w", err)
	}
	took := time.Since(start)
	time.Sleep(2 * time.Second)
	q, err := measure()
	if err != nil {
		return err
	}
	mib := func(b float64) float64 { return b / (1 << 20) }
	total := (q.page - idle.page) + (q.worker - idle.worker) + (q.wasm - idle.wasm)
	fmt.Printf("queue (Chromium): %d files queued in %s; above idle: page heap %.1f MiB, worker heap %.1f MiB, engine wasm memory %.1f MiB; total %.1f MiB (%.0f B per file; target: <= 20 MiB)\n",
		n, took.Round(time.Millisecond), mib(q.page-idle.page), mib(q.worker-idle.worker), mib(q.wasm-idle.wasm), mib(total), total/float64(n))
	return nil
}
