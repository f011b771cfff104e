// Command worker measures the Cloudflare Workers build of the backend
// (cmd/worker) in local workerd next to the native server, both in cloud
// mode against one local cloud in this process: the module's compressed
// size, cold start, and the latency of create-session (one AssumeRole per
// call), and workerd's CPU time per request. Calls are sequential: one Go
// instance serves them all (worker/glue/worker.mjs starts one per isolate,
// more only for requests that overlap). -profile writes V8 profiles of the
// worker instead.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossup/ossup/bench/internal/host"
	"github.com/ossup/ossup/internal/localcloud"
	"github.com/ossup/ossup/internal/workertest"
	"github.com/ossup/ossup/server"
)

const token = "bench-token-0123456789abcdef"

func main() {
	n := flag.Int("n", 200, "create-session calls per target per round")
	rounds := flag.Int("rounds", 3, "rounds (each measures both targets, alternating) and cold starts of the worker")
	dir := flag.String("dir", "", "use the build in this directory (workerd.capnp and build/, as `make worker` leaves worker/); default: build afresh into a temporary directory")
	prof := flag.String("profile", "", "instead of the benchmark, profile create-session and /healthz in workerd's V8 and write the profiles into this directory (build with names: no -s)")
	flag.Parse()
	if err := run(*n, *rounds, *dir, *prof); err != nil {
		fmt.Fprintln(os.Stderr, "bench/worker:", err)
		os.Exit(1)
	}
}

func run(n, rounds int, dir, prof string) error {
	root, err := workertest.Root()
	if err != nil {
		return err
	}
	bin, err := workertest.Workerd(root)
	if err != nil {
		return err
	}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "ossup-bench-worker-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := workertest.Build(ctx, "go", root, tmp); err != nil {
			return err
		}
		dir = tmp
	}
	if err := printSize(dir); err != nil {
		return err
	}

	data, err := os.MkdirTemp("", "ossup-bench-worker-cloud-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	cl, err := localcloud.Start(localcloud.Config{DataDir: data, OSSAddr: "127.0.0.1:0", STSAddr: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	defer cl.Close()
	// The backend mints no credentials for a bucket without its overwrite
	// rule (server/writeonce.go); an operator sets it once.
	admin := oss.NewClient(oss.LoadDefaultConfig().WithEndpoint(cl.OSSEndpoint).WithRegion(cl.Config.Region).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cl.Config.AccessKeyID, cl.Config.AccessKeySecret)))
	if _, err := admin.InvokeOperation(context.Background(), &oss.OperationInput{
		OpName: "PutBucketOverwriteConfig", Method: http.MethodPut, Bucket: oss.Ptr(cl.Config.Bucket),
		Parameters: map[string]string{"overwriteConfig": ""}, Headers: map[string]string{"Content-Type": "application/xml"},
		Body: bytes.NewReader(server.WriteOnceConfigXML("uploads/", cl.Config.RoleARN)),
	}); err != nil {
		return fmt.Errorf("bucket overwrite rule: %w", err)
	}
	env := map[string]string{
		"OSSUP_MODE": "cloud", "OSSUP_AUTH": "token", "OSSUP_AUTH_TOKENS": token + "=bench",
		"OSS_ACCESS_KEY_ID": cl.Config.AccessKeyID, "OSS_ACCESS_KEY_SECRET": cl.Config.AccessKeySecret,
		"OSSUP_ROLE_ARN": cl.Config.RoleARN, "OSSUP_SECRET": strings.Repeat("b", 40),
		"OSSUP_OSS_ENDPOINT": cl.OSSEndpoint, "OSSUP_STS_ENDPOINT": cl.STSEndpoint,
		"OSSUP_RATE_LIMIT_IP": "1000000", "OSSUP_RATE_LIMIT_USER": "1000000", "OSSUP_LOG_LEVEL": "warn",
	}
	if prof != "" {
		return profile(bin, dir, env, n, prof)
	}

	// Cold starts: a fresh workerd each time, from exec to the first
	// /healthz answer, then the first create-session on that process.
	var ready, first []time.Duration
	for r := 0; r < rounds; r++ {
		w, err := workertest.Start(bin, dir, env)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		d, err := w.Ready(ctx)
		cancel()
		if err == nil {
			var c time.Duration
			if c, err = timedCreate(w.URL); err == nil {
				ready, first = append(ready, d), append(first, c)
			}
		}
		w.Close()
		if err != nil {
			return fmt.Errorf("cold start %d: %w\n%s", r+1, err, w.Output())
		}
	}

	w, err := workertest.Start(bin, dir, env)
	if err != nil {
		return err
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := w.Ready(ctx); err != nil {
		return err
	}
	native, stopNative, nativeReady, err := startNative(env)
	if err != nil {
		return err
	}
	defer stopNative()

	targets := []*target{{name: "worker in workerd", base: w.URL, pid: w.Pid()}, {name: "native server", base: native}}
	for _, t := range targets { // warm-up, not counted
		if err := t.creates(20); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		t.lat, t.createCPU = nil, 0
	}
	for r := 0; r < rounds; r++ {
		for _, t := range targets {
			if err := t.creates(n); err != nil {
				return fmt.Errorf("%s: %w\n%s", t.name, err, w.Output())
			}
			if err := t.healthz(n / 4); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
		}
	}

	fmt.Printf("\nCold start of the worker in workerd %s, %d runs (exec to first /healthz 200, then the first create-session):\n", workerdVersion(bin), rounds)
	fmt.Printf("  ready    median %.0f ms (min %.0f, max %.0f)\n", ms(pct(ready, 0.5)), ms(slices.Min(ready)), ms(slices.Max(ready)))
	fmt.Printf("  first create-session  median %.1f ms (min %.1f, max %.1f)\n", ms(pct(first, 0.5)), ms(slices.Min(first)), ms(slices.Max(first)))
	fmt.Printf("  native server, in-process construction to first /healthz 200: %.1f ms\n", ms(nativeReady))
	fmt.Printf("\nCreate-session on loopback (object scope: one AssumeRole to the local STS per call), %d sequential calls per target per round, %d rounds, alternating:\n\n", n, rounds)
	fmt.Println("| target | create p50 ms | create p99 ms | /healthz p50 ms |")
	fmt.Println("|---|---:|---:|---:|")
	for _, t := range targets {
		fmt.Printf("| %s | %.2f | %.2f | %.2f |\n", t.name, ms(pct(t.lat, 0.5)), ms(pct(t.lat, 0.99)), ms(pct(t.health, 0.5)))
	}
	if wt := targets[0]; wt.createCPU > 0 {
		create := ms(wt.createCPU) / float64(len(wt.lat))
		fmt.Printf("\nworkerd CPU time (user+system, /proc) per request: create-session %.1f ms, /healthz %.1f ms.\n",
			create, ms(wt.healthCPU)/float64(len(wt.health)))
		verdict := "met"
		if create > 10 {
			verdict = "MISSED"
		}
		fmt.Printf("  target <= 10 ms CPU per create-session (the free plan's limit): %s. These include workerd's own HTTP work and the machine's load (see below); Cloudflare counts the isolate's CPU only.\n", verdict)
	}
	fmt.Printf("The worker's /healthz is its per-request floor: the glue, the bridge into Go and Echo's routing; the Go program was started once, by the first request.\n")
	fmt.Printf("Machine: nproc %d, %s %s/%s, load average %s, %s\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, host.LoadAvg(), time.Now().UTC().Format(time.RFC3339))
	return nil
}

// printSize reports the upload's size as Workers counts it: compressed.
func printSize(dir string) error {
	files := []string{"app.wasm", "worker.mjs", "wasm_exec.js"}
	var raw, gz, wasmRaw, wasmGz int64
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, "build", f))
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		raw += int64(len(b))
		gz += int64(buf.Len())
		if f == "app.wasm" {
			wasmRaw, wasmGz = int64(len(b)), int64(buf.Len())
		}
	}
	fmt.Printf("Worker size (go build %s):\n", strings.Join(workertest.BuildFlags, " "))
	fmt.Printf("  app.wasm       %s raw, %s gzip -9\n", size(wasmRaw), size(wasmGz))
	fmt.Printf("  whole upload   %s raw, %s gzip -9 (app.wasm + glue)\n", size(raw), size(gz))
	// The target is the compressed limit the Workers free plan had (3 MiB;
	// paid 10 MiB), which wrangler reports as "gzip".
	if over := gz - 3<<20; over > 0 {
		fmt.Printf("  target <= 3 MiB gzip: OVER by %.2f MiB\n", float64(over)/(1<<20))
	} else {
		fmt.Printf("  target <= 3 MiB gzip: met (%.2f MiB to spare)\n", float64(-over)/(1<<20))
	}
	return nil
}

func size(b int64) string { return fmt.Sprintf("%d B (%.2f MiB)", b, float64(b)/(1<<20)) }

func workerdVersion(bin string) string {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(bin), "..", "workerd", "package.json"))
	var p struct{ Version string }
	if err != nil || json.Unmarshal(b, &p) != nil || p.Version == "" {
		return "(" + bin + ")"
	}
	return p.Version
}

// startNative runs the native server in cloud mode on a loopback port and
// returns its origin and how long construction to first /healthz 200 took.
func startNative(env map[string]string) (string, func(), time.Duration, error) {
	web, err := os.MkdirTemp("", "ossup-bench-worker-web-")
	if err != nil {
		return "", nil, 0, err
	}
	e := map[string]string{"OSSUP_ADDR": "127.0.0.1:0", "OSSUP_WEB_DIR": web, "OSSUP_JANITOR_INTERVAL": "0"}
	for k, v := range env {
		e[k] = v
	}
	start := time.Now()
	cfg, err := server.LoadConfig(func(k string) string { return e[k] })
	if err != nil {
		return "", nil, 0, err
	}
	srv, err := server.New(cfg, nil)
	if err != nil {
		return "", nil, 0, err
	}
	ln, err := srv.Listen()
	if err != nil {
		return "", nil, 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx, ln); close(done) }()
	base := "http://" + ln.Addr().(*net.TCPAddr).String()
	stop := func() { cancel(); <-done; srv.Close(); os.RemoveAll(web) }
	if _, err := get(base + "/healthz"); err != nil {
		stop()
		return "", nil, 0, err
	}
	return base, stop, time.Since(start), nil
}

var client = &http.Client{Timeout: 30 * time.Second}

type target struct {
	name, base  string
	lat, health []time.Duration
	// pid, if not 0, is a process whose CPU time the calls are charged
	// with: createCPU and healthCPU add it up.
	pid                  int
	createCPU, healthCPU time.Duration
}

// cpuTime is the user+system CPU time of process pid, from /proc (Linux;
// USER_HZ is 100 there). It is 0 where /proc is missing.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the parenthesised command name; utime and stime are
	// the 14th and 15th fields of the whole line.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func (t *target) creates(n int) error {
	if t.pid != 0 {
		before := cpuTime(t.pid)
		defer func() { t.createCPU += cpuTime(t.pid) - before }()
	}
	for i := 0; i < n; i++ {
		d, err := timedCreate(t.base)
		if err != nil {
			return err
		}
		t.lat = append(t.lat, d)
	}
	return nil
}

func (t *target) healthz(n int) error {
	if t.pid != 0 {
		before := cpuTime(t.pid)
		defer func() { t.healthCPU += cpuTime(t.pid) - before }()
	}
	for i := 0; i < n; i++ {
		d, err := get(t.base + "/healthz")
		if err != nil {
			return err
		}
		t.health = append(t.health, d)
	}
	return nil
}

func timedCreate(base string) (time.Duration, error) {
	body, _ := json.Marshal(map[string]any{"name": "photo.jpg", "size": 123456, "type": "image/jpeg"})
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/uploads", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	t := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(t)
	if resp.StatusCode != http.StatusCreated || !bytes.Contains(b, []byte(`"securityToken"`)) {
		return 0, fmt.Errorf("create answered %d: %.300s", resp.StatusCode, b)
	}
	return d, nil
}

func get(url string) (time.Duration, error) {
	t := time.Now()
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return time.Since(t), nil
}

func pct(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
