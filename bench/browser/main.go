// Command browser benchmarks browser uploads to the local OSS side by side,
// in headless Chromium driven by chromedp:
//
//   - limit: plain JS, Blob slices of the File passed straight to fetch, to
//     UploadPart URLs this program presigned (the browser signs, hashes and
//     copies nothing), same part size and concurrency as ours;
//   - ours: the ossup engine through its public JS API (createUploader), in
//     its Web Worker, CRC-64 on, STS credentials from the backend;
//   - ali-oss: its browser bundle's multipartUpload with the same STS
//     credentials, at its defaults and with our part size and concurrency;
//   - native: the OSS Go SDK v2 Uploader from this process.
//
// Contenders alternate run by run (A B C D E, A B C D E, ...) so that drift
// on a shared machine spreads over all of them. Every stored object is
// checked against the file (CRC-64 and size; the harness test compares
// SHA-256), so a fast but wrong upload fails instead of winning. Besides
// throughput it measures peak page memory (CDP Runtime.getHeapUsage on the
// page and the worker, the wasm linear memory; sampled every 100 ms),
// Chromium's CPU time per GiB (/proc), the engine's transfer size and time
// to ready, and the bytes re-sent when the page reloads at 50 %.
//
// The DevTools Network domain, which chromedp enables and which slows
// in-memory request bodies tenfold, is disabled on every measured target.
//
//	go run ./bench/browser [-full] [-runs 3] [-sizes 256,1024] [-out bench/results] [-dir /tmp]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/localcloud/faults"
)

// config is what a benchmark session measures.
type config struct {
	Full                 bool
	SizesMiB             []int
	Runs, Warmup         int
	ResumeRuns, ColdRuns int
	PartSize             int64
	Concurrency          int
	OutDir, Parent       string
	SkipResume, SkipLoad bool
	Diag                 bool
	Profile              string  // -profile: directory for worker CPU profiles
	LinkMBps             float64 // -link-mbps: one shared link to the local OSS
	Custom               bool    // sizes chosen by -sizes
	CheckSHA256          bool
	Contenders           []string // keys; empty = all
	Engine               browser.Engine
	EngineB              string // -engine-b: a second engine.wasm, measured as ours-b
	quiet                bool
	noAssetWait          bool // tests: no brotli wait (no transfer sizes)
}

func main() {
	full := flag.Bool("full", os.Getenv("BENCHFULL") != "", "full mode: 256 MiB, 1 GiB and 4 GiB (also with BENCHFULL=1 in the environment)")
	sizes := flag.String("sizes", "", "file sizes in MiB, comma-separated (default: 256 quick, 256,1024,4096 full)")
	runs := flag.Int("runs", 3, "measured runs per contender and size")
	warmup := flag.Int("warmup", 1, "unmeasured rounds before the measured ones, per size")
	resumeRuns := flag.Int("resume-runs", 0, "reload-at-50 % runs (default 2 quick, 3 full)")
	coldRuns := flag.Int("cold-runs", 0, "cold page loads to time the engine's start (default 3 quick, 5 full)")
	partMiB := flag.Int("part-mib", 8, "part size in MiB, for every contender but ali-oss at its defaults")
	parallel := flag.Int("parallel", 4, "parts in flight, for every contender but ali-oss at its defaults")
	out := flag.String("out", "", "directory for results.md, results.json and chart.svg (default: bench/results in the module)")
	parent := flag.String("dir", "", "directory for the files and the local cloud's data (default: the system temp dir)")
	only := flag.String("only", "", "measure only these contenders, comma-separated keys (limit, limit-read, ours, alioss-defaults, alioss-tuned, native)")
	noResume := flag.Bool("no-resume", false, "skip the reload-at-50 % runs")
	noLoad := flag.Bool("no-load", false, "skip the engine's transfer size and start time")
	link := flag.Float64("link-mbps", 0, "limit all connections to the local OSS together to this many MB/s each way, as one network link (0: loopback at full speed)")
	prof := flag.String("profile", "", "write a V8 CPU profile of the engine's worker, and its top functions, for every run of ours into this directory (build the engine without -s -w to see Go function names)")
	engine := flag.String("engine", "chromium", "browser engine: chromium, firefox or webkit (the CDP-only figures — heap split, worker profile, cold start, resume — are Chromium's)")
	queue := flag.Int("queue", 0, "measure only the page's and the worker's memory for this many queued files (Chromium), then exit")
	engineB := flag.String("engine-b", "", "a second engine.wasm (built elsewhere, e.g. from another commit or with other flags), measured as contender ours-b next to ours in the same run")
	diag := flag.Bool("diag", false, "also run the diagnostic contenders (limit-xhr, limit-read-xhr) that split the gap between the limit and ours")
	flag.Parse()
	if *queue > 0 {
		if err := queueBench(*queue); err != nil {
			fmt.Fprintln(os.Stderr, "browser:", err)
			os.Exit(1)
		}
		return
	}

	cfg := config{Full: *full, Runs: *runs, Warmup: *warmup, ResumeRuns: *resumeRuns, ColdRuns: *coldRuns,
		PartSize: int64(*partMiB) << 20, Concurrency: *parallel, OutDir: *out, Parent: *parent,
		SkipResume: *noResume, SkipLoad: *noLoad, Diag: *diag, Profile: *prof, LinkMBps: *link, EngineB: *engineB}
	if *only != "" {
		cfg.Contenders = strings.Split(*only, ",")
	}
	if es, err := browser.ParseEngines(*engine); err != nil || len(es) != 1 {
		fmt.Fprintf(os.Stderr, "browser: -engine %q: want one of chromium, firefox, webkit\n", *engine)
		os.Exit(2)
	} else {
		cfg.Engine = es[0]
	}
	if cfg.Engine != browser.Chromium {
		// Without the DevTools protocol there is no worker to profile, and
		// the reload run reads the worker's resource timing.
		cfg.SkipResume = true
		if *prof != "" {
			fmt.Fprintln(os.Stderr, "browser: -profile needs -engine chromium")
			os.Exit(2)
		}
	}
	cfg.SizesMiB = []int{256}
	if cfg.Full {
		cfg.SizesMiB = []int{256, 1024, 4096}
	}
	if *sizes != "" {
		cfg.Custom = true
		cfg.SizesMiB = nil
		for _, s := range strings.Split(*sizes, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 {
				fmt.Fprintf(os.Stderr, "browser: bad -sizes entry %q\n", s)
				os.Exit(2)
			}
			cfg.SizesMiB = append(cfg.SizesMiB, n)
		}
	}
	if cfg.ResumeRuns == 0 {
		cfg.ResumeRuns = map[bool]int{false: 2, true: 3}[cfg.Full]
	}
	if cfg.ColdRuns == 0 {
		cfg.ColdRuns = map[bool]int{false: 3, true: 5}[cfg.Full]
	}
	if *link < 0 {
		fmt.Fprintln(os.Stderr, "browser: -link-mbps must not be negative")
		os.Exit(2)
	}
	if cfg.Runs < 1 || cfg.Warmup < 0 || cfg.PartSize < 100<<10 || cfg.Concurrency < 1 {
		fmt.Fprintln(os.Stderr, "browser: -runs and -parallel must be at least 1, -warmup at least 0, -part-mib at least 1")
		os.Exit(2)
	}
	rep, err := benchmark(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "browser:", err)
		os.Exit(1)
	}
	fmt.Print(rep.markdown())
}

// errWrongBytes marks a stored object that differs from the file: a broken
// harness or contender, never a figure.
var errWrongBytes = errors.New("stored object differs from the file")

// benchmark runs a whole session and writes the results.
func benchmark(cfg config) (*report, error) {
	began := time.Now()
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	if cfg.OutDir == "" {
		cfg.OutDir = filepath.Join(root, "bench", "results")
	}
	dir, err := os.MkdirTemp(cfg.Parent, "ossup-bench-browser-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	s, err := newSession(root, dir, cfg)
	if err != nil {
		return nil, err
	}
	defer s.close()
	rep, err := s.run(cfg)
	if err != nil {
		return nil, err
	}
	rep.Seconds = time.Since(began).Seconds()
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(cfg.OutDir, "results.md"), []byte(rep.markdown()), 0o644); err != nil {
		return nil, err
	}
	if err := rep.writeJSON(filepath.Join(cfg.OutDir, "results.json")); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(cfg.OutDir, "chart.svg"), []byte(rep.chart()), 0o644); err != nil {
		return nil, err
	}
	return rep, nil
}

// session is a running backend, browser and bench.
type session struct {
	*bench
	dir   string
	close func()
}

func newSession(root, dir string, cfg config) (*session, error) {
	logf(cfg, "building the engine and the bench pages")
	web := filepath.Join(dir, "web")
	if err := os.MkdirAll(web, 0o755); err != nil {
		return nil, err
	}
	aliVersion, err := buildWeb(root, web, cfg.Profile != "")
	if err != nil {
		return nil, err
	}
	if cfg.EngineB != "" {
		if err := copyFile(cfg.EngineB, filepath.Join(web, engineBFile)); err != nil {
			return nil, fmt.Errorf("-engine-b: %w", err)
		}
	}
	be, err := startBackend(filepath.Join(dir, "data"), web, cfg.PartSize, cfg.Concurrency, !cfg.noAssetWait)
	if err != nil {
		return nil, err
	}
	if cfg.LinkMBps > 0 {
		if err := be.srv.Cloud().Faults.Set(faults.Config{LinkBytesPerSec: int64(cfg.LinkMBps * 1e6)}); err != nil {
			be.stop()
			return nil, fmt.Errorf("link limit: %w", err)
		}
	}
	if cfg.Engine == "" {
		cfg.Engine = browser.Chromium
	}
	br, err := startBrowser(cfg.Engine, filepath.Join(dir, "profile"))
	if err != nil {
		be.stop()
		return nil, err
	}
	closeAll := func() { br.Close(); be.stop() }
	b := newBench(be, br, cfg.PartSize, cfg.Concurrency, aliVersion)
	if cdpTab, ok := browser.CDP(br.Page()); ok {
		if err := disableNetwork(cdpTab); err != nil {
			closeAll()
			return nil, err
		}
		if err := watchNetwork(cdpTab, b.netEvents); err != nil {
			closeAll()
			return nil, err
		}
	}
	b.checkSHA256 = cfg.CheckSHA256
	b.engineB = cfg.EngineB
	b.profileDir = cfg.Profile
	return &session{bench: b, dir: dir, close: closeAll}, nil
}

func logf(cfg config, format string, args ...any) {
	if !cfg.quiet {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}
}

// run measures everything cfg asks for.
func (s *session) run(cfg config) (*report, error) {
	mode := "quick"
	switch {
	case cfg.Custom:
		mode = "custom"
	case cfg.Full:
		mode = "full"
	}
	rep := &report{Mode: mode, Date: nowUTC(), Machine: newMachine(), PartSize: cfg.PartSize, Concurrency: cfg.Concurrency,
		Runs: cfg.Runs, Warmup: cfg.Warmup, NetworkDomain: networkNotes[cfg.Engine],
		LinkMBps: cfg.LinkMBps,
		Engine:   string(cfg.Engine), ThreadNote: threadNotes[cfg.Engine],
		Versions: versions{Browser: s.br.Version(), AliOSS: s.aliVersion, OSSGoSDK: moduleVersion("github.com/aliyun/alibabacloud-oss-go-sdk-v2")}}
	cs := s.contenders()
	if cfg.Diag {
		cs = append(cs, s.diagnosticContenders()...)
	}
	if len(cfg.Contenders) > 0 {
		for _, k := range cfg.Contenders {
			if !slices.ContainsFunc(cs, func(c *contender) bool { return c.Key == k }) {
				return nil, fmt.Errorf("-only: no contender %q", k)
			}
		}
		cs = slices.DeleteFunc(cs, func(c *contender) bool { return !slices.Contains(cfg.Contenders, c.Key) })
	}
	var warm []float64
	for i, sizeMiB := range cfg.SizesMiB {
		size := int64(sizeMiB) << 20
		logf(cfg, "generating a %s file", sizeLabel(size))
		src, err := writeSource(filepath.Join(s.dir, fmt.Sprintf("file-%d.bin", sizeMiB)), size)
		if err != nil {
			return nil, err
		}
		runs := map[string][]runRecord{}
		failures := map[string][]string{}
		for round := -cfg.Warmup; round < cfg.Runs; round++ {
			for _, c := range cs {
				r, err := s.measure(c, src, round)
				label := "warm-up"
				if round >= 0 {
					label = fmt.Sprintf("run %d/%d", round+1, cfg.Runs)
				}
				if err != nil {
					if errors.Is(err, errWrongBytes) || errors.Is(err, errNetworkOn) {
						return nil, fmt.Errorf("%s, %s: %w", c.Name, label, err)
					}
					logf(cfg, "%-8s %-62s FAILED: %v", label, c.Name, err)
					if round >= 0 {
						failures[c.Key] = append(failures[c.Key], err.Error())
					}
					continue
				}
				logf(cfg, "%-8s %-62s %7.1f MB/s  peak memory %6.1f MiB  browser CPU %5.2f s", label, c.Name, r.MBps, r.Memory.Total/mib, r.BrowserCPU)
				if round >= 0 {
					runs[c.Key] = append(runs[c.Key], r)
					if c.Key == "ours" {
						warm = append(warm, r.ReadyMs)
					}
				}
			}
		}
		rep.Sizes = append(rep.Sizes, summarizeSize(size, cs, runs, failures))
		if i == 0 && !cfg.SkipResume {
			for k := 0; k < cfg.ResumeRuns; k++ {
				r, err := s.measureResume(src)
				if err != nil {
					if errors.Is(err, errWrongBytes) {
						return nil, fmt.Errorf("resume: %w", err)
					}
					logf(cfg, "resume   FAILED: %v", err)
					rep.Resume.Failures = append(rep.Resume.Failures, err.Error())
					continue
				}
				logf(cfg, "resume   %s: confirmed %.0f MiB at reload, re-sent %.1f MiB, first part request %.0f ms after the pick",
					sizeLabel(size), float64(r.ConfirmedAtReload)/mib, float64(r.ResentBytes)/mib, r.ToFirstPartMs)
				rep.Resume.Runs = append(rep.Resume.Runs, r)
			}
		}
		if err := os.Remove(src.Path); err != nil {
			return nil, err
		}
	}
	var resent, toUp, toFirst []float64
	for _, r := range rep.Resume.Runs {
		resent = append(resent, float64(r.ResentBytes)/mib)
		toUp = append(toUp, r.ToUploadingMs)
		toFirst = append(toFirst, r.ToFirstPartMs)
	}
	rep.Resume.ResentMiB, rep.Resume.ToUploadingMs, rep.Resume.ToFirstPartMs = summarize(resent), summarize(toUp), summarize(toFirst)
	rep.Resume.BoundMiB = float64(int64(cfg.Concurrency)*cfg.PartSize) / mib

	if !cfg.SkipLoad {
		if err := s.measureLoad(cfg, rep, warm); err != nil {
			return nil, err
		}
	}
	rep.evaluateTargets()
	return rep, nil
}

// measureLoad fills in the engine's transfer size and start time.
func (s *session) measureLoad(cfg config, rep *report, warm []float64) error {
	logf(cfg, "measuring the engine's download and start")
	s.be.srv.Assets().Wait()
	ts, err := s.transferSizes(engineFiles)
	if err != nil {
		return err
	}
	total := transfer{File: "total"}
	for _, t := range ts {
		total.Raw, total.Gzip, total.Brotli = total.Raw+t.Raw, total.Gzip+t.Gzip, total.Brotli+t.Brotli
	}
	ali, err := s.transferSizes([]string{"bench/aliyun-oss-sdk.min.js"})
	if err != nil {
		return err
	}
	ali[0].File = "ali-oss " + s.aliVersion + " aliyun-oss-sdk.min.js"
	var cold []float64
	for i := 0; i < cfg.ColdRuns; i++ {
		ms, err := s.coldReady()
		if err != nil {
			return fmt.Errorf("cold start: %w", err)
		}
		cold = append(cold, ms)
	}
	ctx, cancel := context.WithTimeout(s.tab, time.Minute)
	defer cancel()
	ms, err := openBench(ctx, s.be.base, "ours", "")
	if err != nil {
		return err
	}
	if len(warm) == 0 {
		warm = append(warm, ms)
	}
	if err := evalJSON(ctx, "JSON.stringify(bench.version)", &rep.Versions.Engine); err != nil {
		return err
	}
	rep.Load = loadResult{Transfer: ts, TotalTransfer: total, AliOSSBundle: ali[0], ReadyColdMs: summarize(cold), ReadyWarmMs: summarize(warm)}
	return nil
}

// moduleVersion is the version of a module this binary was built with.
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return ""
}
