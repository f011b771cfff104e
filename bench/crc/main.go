// Command crc measures CRC-64/ECMA in the browser, side by side, in a Web
// Worker as the engine hashes: Go's hash/crc64 on bytes copied into Go
// memory (the engine today), wasm/crckernel driven from Go and from
// JavaScript, and the kernel in two workers at once; each reads the file
// window by window (8 MiB Blob slices, arrayBuffer()) as the engine does,
// and "read" is that reading alone, the ceiling. js-kernel-byob and
// js-kernel-byob4 read through BYOB readers on Blob.stream() into reused
// buffers instead (1 and 4 windows in flight), counting reads that stall
// (no progress for 10 s: abandoned, the window read again with
// arrayBuffer()). Contenders alternate, round by round; every one must give
// the same CRC for every window.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/ossup/ossup/bench/internal/host"
	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/workertest"
)

// The contenders: read only; the engine before the kernel (copy into Go,
// hash/crc64); the engine with it (copy into Go, kernel); the kernel on the
// read's bytes, from Go and from JavaScript; that in two workers; that
// with BYOB reads into reused buffers, 1 and 4 windows in flight.
var contenders = []string{"read", "go-stdlib", "go-copy-kernel", "go-kernel", "js-kernel", "js-kernel-x2", "js-kernel-byob", "js-kernel-byob4"}

func main() {
	mib := flag.Int("size-mib", 256, "bytes hashed per run, MiB")
	rounds := flag.Int("runs", 3, "rounds (each runs every contender once, in turn)")
	engines := flag.String("browsers", "chromium", "comma-separated: chromium, firefox, webkit")
	flag.Parse()
	if err := run(*mib, *rounds, *engines); err != nil {
		fmt.Fprintln(os.Stderr, "bench/crc:", err)
		os.Exit(1)
	}
}

func run(mib, rounds int, list string) error {
	es, err := browser.ParseEngines(list)
	if err != nil {
		return err
	}
	root, err := workertest.Root()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ossup-bench-crc-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := assemble(root, dir); err != nil {
		return err
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()

	fmt.Printf("CRC-64/ECMA in a Web Worker, %d MiB in 8 MiB windows, %d rounds alternating; MB/s median (min-max), ratio to go-stdlib (the engine today):\n", mib, rounds)
	for _, e := range es {
		if err := measure(e, srv.URL, mib, rounds); err != nil {
			return fmt.Errorf("%s: %w", e, err)
		}
	}
	fmt.Printf("\nMachine: nproc %d, %s, load average %s, %s\n", runtime.NumCPU(), host.CPUModel(), host.LoadAvg(), time.Now().UTC().Format(time.RFC3339))
	return nil
}

// assemble writes the page, the helper program, the kernel and wasm_exec.js
// into dir.
func assemble(root, dir string) error {
	for _, f := range []string{"index.html", "bench.js", "worker.js"} {
		b, err := os.ReadFile(filepath.Join(root, "bench", "crc", "page", f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return err
		}
	}
	k, err := os.ReadFile(filepath.Join(root, "wasm", "crckernel", "crc64.wasm"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "crc64.wasm"), k, 0o644); err != nil {
		return err
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return err
	}
	we, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm_exec.js"), we, 0o644); err != nil {
		return err
	}
	// Built as the engine is (make web/engine.wasm).
	cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", filepath.Join(dir, "helper.wasm"), "./wasm/crcbench")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the helper: %w\n%s", err, out)
	}
	return nil
}

type result struct {
	Bytes, HashBytes int
	Cores            int
	Agent            string
	Results          map[string]struct {
		MS     []float64
		CRCs   []string
		HashMS []float64 // hash only, per turn
		Stalls []int     // BYOB reads that stalled, per run
		// Unsupported is why the browser has no BYOB reader on a Blob's
		// stream, for the BYOB contenders.
		Unsupported string
	}
}

func med(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func measure(e browser.Engine, base string, mib, rounds int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	b, err := browser.Launch(ctx, e, browser.Options{})
	if err != nil {
		return err
	}
	defer b.Close()
	p := b.Page()
	if err := p.Navigate(ctx, base+"/index.html"); err != nil {
		return err
	}
	list, _ := json.Marshal(contenders)
	// The run takes minutes, past one call's timeout: it is started, then
	// polled.
	start := fmt.Sprintf("(window.crcDone = null, runBench(%d, %d, %s).then(r => window.crcDone = {r}, e => window.crcDone = {e: String(e) + (e && e.stack ? (' ' + e.stack) : '')}), true)", mib, rounds, list)
	if err := p.Eval(ctx, start, nil); err != nil {
		return err
	}
	var done struct {
		R *result
		E string
	}
	if err := browser.Poll(ctx, p, "window.crcDone", 15*time.Minute, &done); err != nil {
		return fmt.Errorf("%w (page errors: %v)", err, p.Errors())
	}
	if done.E != "" || done.R == nil {
		return fmt.Errorf("the page failed: %s (page errors: %v)", done.E, p.Errors())
	}
	res := *done.R
	ref := res.Results["go-stdlib"].CRCs
	for _, c := range contenders[1:] {
		if res.Results[c].Unsupported != "" {
			continue
		}
		if got := res.Results[c].CRCs; !slices.Equal(got, ref) {
			return fmt.Errorf("%s: CRCs %v differ from go-stdlib's %v", c, got, ref)
		}
	}
	median := func(c string) float64 { return med(res.Results[c].MS) }
	mbps := func(ms float64) float64 { return float64(res.Bytes) / 1e6 / (ms / 1000) }
	fmt.Printf("\n%s (hardwareConcurrency %d):\n\n", b.Version(), res.Cores)
	fmt.Println("| contender | read + hash MB/s | × go-stdlib | hash only MB/s | × go-stdlib (paired) | stalled reads |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	base0 := mbps(median("go-stdlib"))
	ref0 := res.Results["go-stdlib"].HashMS
	for _, c := range contenders {
		r := res.Results[c]
		if r.Unsupported != "" {
			fmt.Printf("| %s | unsupported: %s | | | | |\n", c, r.Unsupported)
			continue
		}
		m := mbps(median(c))
		h, hr := "–", "–"
		if len(r.HashMS) > 0 {
			ratios := make([]float64, len(r.HashMS))
			for i := range r.HashMS {
				ratios[i] = ref0[i] / r.HashMS[i]
			}
			h = fmt.Sprintf("%.0f", float64(res.HashBytes)/1e6/(med(r.HashMS)/1000))
			hr = fmt.Sprintf("%.2f", med(ratios))
		}
		st := "–"
		if strings.Contains(c, "byob") {
			n := 0
			for _, v := range r.Stalls {
				n += v
			}
			st = fmt.Sprintf("%d of %d", n, len(r.Stalls)*len(r.CRCs))
		}
		fmt.Printf("| %s | %.0f (%.0f-%.0f) | %.2f | %s | %s | %s |\n", c, m, mbps(slices.Max(r.MS)), mbps(slices.Min(r.MS)), m/base0, h, hr, st)
	}
	return nil
}
