// Command checkpoint measures what checkpointing costs the engine over one
// multipart upload of many parts: the CPU spent encoding and the bytes
// handed to storage, for the current format (internal/checkpoint: a small
// record written a few times, one small entry per confirmed part) against
// the first format (bench/checkpoint/v1, the code that shipped: the whole
// record re-encoded and rewritten after every part).
//
// It runs natively and, compiled to WebAssembly, under node with Go's
// wasm_exec (the engine runs as wasm in a Web Worker, single-threaded, so
// wasm time is worker CPU). Storage is in memory: IndexedDB's own cost
// comes on top, and grows with the bytes written, which are counted
// exactly. The first format's cost grows with the square of the part
// count, so it is measured up to -v1-parts and extrapolated (a + b·n + c·n²
// fitted through three measured counts); its bytes are computed exactly.
//
// Figures, not assertions: a shared machine makes them vary.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/ossup/ossup/bench/checkpoint/v1"
	"github.com/ossup/ossup/internal/checkpoint"
)

func main() {
	parts := flag.Int("parts", 10000, "parts of the upload")
	v1Parts := flag.Int("v1-parts", 2000, "largest part count the first format is measured at")
	runs := flag.Int("runs", 3, "runs of each measurement (the fastest is reported)")
	op := flag.String("op", "", "run one operation and exit: none, v2 or v1 (the wasm child, timed from outside)")
	noWasm := flag.Bool("no-wasm", false, "skip the wasm run under node")
	flag.Parse()
	if *op != "" {
		var err error
		switch *op {
		case "none":
		case "v2":
			_, _, err = v2Upload(*parts)
		case "v1":
			_, _, err = v1Upload(*parts)
		case "v2setup", "v2load":
			var load func() error
			load, err = v2Resume(*parts)
			if err == nil && *op == "v2load" {
				err = load()
			}
		case "v1setup", "v1load":
			var load func() error
			load, err = v1Resume(*parts)
			if err == nil && *op == "v1load" {
				err = load()
			}
		default:
			err = fmt.Errorf("unknown op %q", *op)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "checkpoint bench:", err)
			os.Exit(1)
		}
		return
	}
	native := measure(*parts, *v1Parts, *runs)
	var wasm *result
	var wasmErr error
	if !*noWasm {
		wasm, wasmErr = runWasm(*parts, *v1Parts, *runs)
	}
	report(native, wasm, wasmErr)
}

type result struct {
	Platform string
	Parts    int
	PartSize int64
	// Current format.
	V2CPU        time.Duration // whole upload: record saves, part entries, final delete
	V2PerPart    time.Duration // one SavePart
	V2Bytes      int64
	V2Puts       int64
	V2PartBytes  int64 // one part entry (key + value)
	V2RecordSize int64
	V2Load       time.Duration // Load of the record with every part (a resume)
	// First format.
	V1Measured   []point // part counts measured and their CPU
	V1CPU        time.Duration
	V1Bytes      int64
	V1RecordSize int64 // the record with every part
	V1LastSave   time.Duration
	V1Load       time.Duration
}

type point struct {
	Parts int
	CPU   time.Duration
}

const partSize = 8 << 20

func record(parts int) *checkpoint.Record {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	return &checkpoint.Record{
		File: checkpoint.FileIdentity{Name: "recording-2026-12-02.mkv", Size: int64(parts) * partSize, LastModified: 1764669600000,
			Type: "video/x-matroska", Fingerprint: 0x0123456789abcdef},
		Bucket: "ossup-uploads", Key: "users/u-4f1c/2026/12/02/4d2f9e1a-recording-2026-12-02.mkv",
		Ticket:   strings.Repeat("t", 300), // a signed ticket is a few hundred bytes
		UploadID: "0004B9894A22E5B1888A1E29F8236E5F", Endpoint: "https://oss-cn-hangzhou.aliyuncs.com", Region: "cn-hangzhou",
		PartSize: partSize, Concurrency: 4, Phase: checkpoint.PhaseSending, Created: now, Updated: now,
		TicketExpires: now.Add(24 * time.Hour),
	}
}

func part(n int) checkpoint.Part {
	// OSS ETags are quoted upper-case MD5 hex; CRCs use all 64 bits.
	return checkpoint.Part{Number: n, ETag: fmt.Sprintf(`"%032X"`, uint64(n)*0x9E3779B97F4A7C15), CRC64: uint64(n) * 0xD6E8FEB86659FD93, Size: partSize}
}

// v2Upload does what the engine does for one upload: the record after the
// initiate, an entry per part, the record again when stored (verify-only),
// the delete after verification.
func v2Upload(n int) (time.Duration, checkpoint.Stats, error) {
	ctx := context.Background()
	s := checkpoint.NewMemoryStore().(*checkpoint.MemoryStore)
	r := record(n)
	id := checkpoint.ID(r.File)
	start := cpuTime()
	if err := s.Save(ctx, id, r); err != nil {
		return 0, checkpoint.Stats{}, err
	}
	var mu sync.Mutex
	for i := 1; i <= n; i++ {
		p := part(i)
		mu.Lock()
		r.AddPart(p)
		mu.Unlock()
		if err := s.SavePart(ctx, id, r.UploadID, p); err != nil {
			return 0, checkpoint.Stats{}, err
		}
	}
	r.Phase, r.CRC64, r.CRCKnown = checkpoint.PhaseStored, 42, true
	r.Updated = r.Updated.Add(time.Hour)
	if err := s.Save(ctx, id, r); err != nil {
		return 0, checkpoint.Stats{}, err
	}
	st := s.Stats()
	if err := s.Delete(ctx, id); err != nil {
		return 0, checkpoint.Stats{}, err
	}
	return cpuTime() - start, st, nil
}

// v2Resume stores an upload of n confirmed parts and returns the Load a
// resume does.
func v2Resume(n int) (func() error, error) {
	ctx := context.Background()
	s := checkpoint.NewMemoryStore()
	r := record(n)
	id := checkpoint.ID(r.File)
	if err := s.Save(ctx, id, r); err != nil {
		return nil, err
	}
	for i := 1; i <= n; i++ {
		if err := s.SavePart(ctx, id, r.UploadID, part(i)); err != nil {
			return nil, err
		}
	}
	return func() error {
		got, err := s.Load(ctx, id)
		if err == nil && len(got.Parts) != n {
			err = fmt.Errorf("loaded %d parts of %d", len(got.Parts), n)
		}
		return err
	}, nil
}

// v1Resume is v2Resume for the first format.
func v1Resume(n int) (func() error, error) {
	ctx := context.Background()
	s := v1.NewKVStore(&countKV{m: map[string][]byte{}})
	r := v1Record(record(n))
	for i := 1; i <= n; i++ {
		r.AddPart(v1.Part(part(i)))
	}
	id := v1.ID(r.File)
	if err := s.Save(ctx, id, r); err != nil {
		return nil, err
	}
	return func() error {
		got, err := s.Load(ctx, id)
		if err == nil && len(got.Parts) != n {
			err = fmt.Errorf("loaded %d parts of %d", len(got.Parts), n)
		}
		return err
	}, nil
}

// countKV is a v1.KV in memory counting the bytes put.
type countKV struct {
	mu      sync.Mutex
	m       map[string][]byte
	written int64
}

func (k *countKV) Get(_ context.Context, key string) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	b, ok := k.m[key]
	return bytes.Clone(b), ok, nil
}

func (k *countKV) Put(_ context.Context, key string, v []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[key] = bytes.Clone(v)
	k.written += int64(len(key) + len(v))
	return nil
}

func (k *countKV) Delete(_ context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, key)
	return nil
}

func (k *countKV) Keys(context.Context) ([]string, error) { return nil, nil }

func v1Record(r *checkpoint.Record) *v1.Record {
	return &v1.Record{File: v1.FileIdentity{Name: r.File.Name, Size: r.File.Size, LastModified: r.File.LastModified, Type: r.File.Type, Fingerprint: r.File.Fingerprint}, Bucket: r.Bucket, Key: r.Key, Ticket: r.Ticket, UploadID: r.UploadID,
		Endpoint: r.Endpoint, Region: r.Region, PartSize: r.PartSize, Created: r.Created, Updated: r.Updated}
}

// v1Upload does what the first format's engine did: the anchor after the
// initiate, then the whole record saved (sealed, validated, marshalled)
// after every part, under the record lock, and the delete of both.
func v1Upload(n int) (time.Duration, int64, error) {
	ctx := context.Background()
	kv := &countKV{m: map[string][]byte{}}
	s := v1.NewKVStore(kv)
	r := v1Record(record(n))
	id := v1.ID(r.File)
	start := cpuTime()
	if err := s.Save(ctx, id+":anchor", r); err != nil {
		return 0, 0, err
	}
	var mu sync.Mutex
	for i := 1; i <= n; i++ {
		p := part(i)
		mu.Lock()
		r.AddPart(v1.Part(p))
		r.Updated = r.Updated.Add(time.Second) // whole seconds: the encoding keeps its length
		err := s.Save(ctx, id, r)
		mu.Unlock()
		if err != nil {
			return 0, 0, err
		}
	}
	written := kv.written
	if err := errors.Join(s.Delete(ctx, id), s.Delete(ctx, id+":anchor")); err != nil {
		return 0, 0, err
	}
	return cpuTime() - start, written, nil
}

// v1Bytes is exactly what the first format writes over n parts: the
// anchor, then a record of k parts for k = 1..n, computed from the
// encodings without the quadratic work.
func v1Bytes(n int) (total, last int64, err error) {
	r := v1Record(record(n))
	id := v1.ID(r.File)
	r.Seal()
	anchor, err := v1.Marshal(r)
	if err != nil {
		return 0, 0, err
	}
	total = int64(len(id+":anchor") + len(anchor))
	// A record of k parts is the anchor's encoding with "parts":[...],
	// inserted: the brackets, the key and the parts joined by commas (the
	// checksum is the same length; updated times are the same length).
	base := int64(len(anchor)) + int64(len(`"parts":[],`))
	var partsLen int64
	for k := 1; k <= n; k++ {
		b, _ := json.Marshal(v1.Part(part(k)))
		partsLen += int64(len(b))
		if k > 1 {
			partsLen++
		}
		last = base + partsLen
		total += int64(len(id)) + last
	}
	return total, last, nil
}

func fastest(runs int, f func() (time.Duration, error)) (time.Duration, error) {
	var best time.Duration
	for i := 0; i < runs; i++ {
		runtime.GC()
		d, err := f()
		if err != nil {
			return 0, err
		}
		if i == 0 || d < best {
			best = d
		}
	}
	return best, nil
}

func measure(n, v1n, runs int) *result {
	res := &result{Platform: runtime.GOOS + "/" + runtime.GOARCH, Parts: n, PartSize: partSize}
	must := func(err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, "checkpoint bench:", err)
			os.Exit(1)
		}
	}
	var st checkpoint.Stats
	d, err := fastest(runs, func() (time.Duration, error) {
		d, s, err := v2Upload(n)
		st = s
		return d, err
	})
	must(err)
	res.V2CPU, res.V2Bytes, res.V2Puts = d, st.BytesWritten, st.Puts

	// One part entry, and the per-part time measured on its own.
	{
		s := checkpoint.NewMemoryStore().(*checkpoint.MemoryStore)
		r := record(n)
		id := checkpoint.ID(r.File)
		must(s.Save(context.Background(), id, r))
		before := s.Stats().BytesWritten
		must(s.SavePart(context.Background(), id, r.UploadID, part(n)))
		res.V2PartBytes = s.Stats().BytesWritten - before
		b, _, _ := s.KV().Get(context.Background(), checkpoint.RecordKey(id))
		res.V2RecordSize = int64(len(b))
		for i := 1; i <= n; i++ {
			must(s.SavePart(context.Background(), id, r.UploadID, part(i)))
		}
		d, err := fastest(runs, func() (time.Duration, error) {
			t := cpuTime()
			for i := 1; i <= 1000; i++ {
				if err := s.SavePart(context.Background(), id, r.UploadID, part(i)); err != nil {
					return 0, err
				}
			}
			return (cpuTime() - t) / 1000, nil
		})
		must(err)
		res.V2PerPart = d
		d, err = fastest(runs, func() (time.Duration, error) {
			t := cpuTime()
			got, err := s.Load(context.Background(), id)
			if err == nil && len(got.Parts) != n {
				err = fmt.Errorf("loaded %d parts of %d", len(got.Parts), n)
			}
			return cpuTime() - t, err
		})
		must(err)
		res.V2Load = d
	}

	// First format: measured at three counts up to v1n, fitted, extrapolated.
	counts := []int{v1n / 4, v1n / 2, v1n}
	for _, c := range counts {
		var written int64
		d, err := fastest(runs, func() (time.Duration, error) {
			d, w, err := v1Upload(c)
			written = w
			return d, err
		})
		must(err)
		res.V1Measured = append(res.V1Measured, point{c, d})
		// The computed bytes must be the measured ones.
		if want, _, err := v1Bytes(c); err != nil || want != written {
			must(fmt.Errorf("first format at %d parts: computed %d bytes, wrote %d (%v)", c, want, written, err))
		}
	}
	res.V1CPU = extrapolate(res.V1Measured, n)
	res.V1Bytes, res.V1RecordSize, err = v1Bytes(n)
	must(err)
	// The last save and a load, at the full count: one each is affordable.
	{
		kv := &countKV{m: map[string][]byte{}}
		s := v1.NewKVStore(kv)
		r := v1Record(record(n))
		for i := 1; i <= n; i++ {
			r.AddPart(v1.Part(part(i)))
		}
		id := v1.ID(r.File)
		d, err := fastest(runs, func() (time.Duration, error) {
			t := cpuTime()
			err := s.Save(context.Background(), id, r)
			return cpuTime() - t, err
		})
		must(err)
		res.V1LastSave = d
		d, err = fastest(runs, func() (time.Duration, error) {
			t := cpuTime()
			_, err := s.Load(context.Background(), id)
			return cpuTime() - t, err
		})
		must(err)
		res.V1Load = d
	}
	return res
}

// extrapolate fits t = a + b·n + c·n² through the three points and
// evaluates it at n.
func extrapolate(ps []point, n int) time.Duration {
	x := [3]float64{float64(ps[0].Parts), float64(ps[1].Parts), float64(ps[2].Parts)}
	y := [3]float64{ps[0].CPU.Seconds(), ps[1].CPU.Seconds(), ps[2].CPU.Seconds()}
	// Lagrange form.
	var t float64
	xn := float64(n)
	for i := 0; i < 3; i++ {
		l := 1.0
		for j := 0; j < 3; j++ {
			if j != i {
				l *= (xn - x[j]) / (x[i] - x[j])
			}
		}
		t += y[i] * l
	}
	return time.Duration(t * float64(time.Second))
}

// runWasm builds this command for js/wasm and runs each operation in its
// own node process, timing the process's CPU (user + system, every thread)
// from outside, less that of a process that only starts and exits.
func runWasm(n, v1n, runs int) (*result, error) {
	dir, err := os.MkdirTemp("", "ckptbench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bench.wasm")
	build := exec.Command("go", "build", "-o", bin, "./bench/checkpoint")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build for wasm: %v: %s", err, out)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return nil, err
	}
	runner := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec_node.js")
	node := func(op string, parts int) (time.Duration, error) {
		var best time.Duration
		for i := 0; i < runs; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			cmd := exec.CommandContext(ctx, "node", runner, bin, "-op="+op, fmt.Sprint("-parts=", parts))
			out, err := cmd.CombinedOutput()
			cancel()
			if err != nil {
				return 0, fmt.Errorf("node %s: %v: %s", op, err, out)
			}
			d := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			if i == 0 || d < best {
				best = d
			}
		}
		return best, nil
	}
	base, err := node("none", 0)
	if err != nil {
		return nil, err
	}
	res := &result{Platform: "js/wasm (node " + nodeVersion() + ")", Parts: n}
	d, err := node("v2", n)
	if err != nil {
		return nil, err
	}
	res.V2CPU = max(d-base, 0)
	for _, c := range []int{v1n / 4, v1n / 2, v1n} {
		d, err := node("v1", c)
		if err != nil {
			return nil, err
		}
		res.V1Measured = append(res.V1Measured, point{c, max(d-base, 0)})
	}
	res.V1CPU = extrapolate(res.V1Measured, n)
	for _, f := range []struct {
		op  string
		out *time.Duration
	}{{"v2", &res.V2Load}, {"v1", &res.V1Load}} {
		setup, err := node(f.op+"setup", n)
		if err != nil {
			return nil, err
		}
		load, err := node(f.op+"load", n)
		if err != nil {
			return nil, err
		}
		*f.out = max(load-setup, 0)
	}
	return res, nil
}

func nodeVersion() string {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func report(native, wasm *result, wasmErr error) {
	fmt.Printf("\nCheckpoint cost of one upload of %d parts of %d MiB (storage in memory; IndexedDB's own cost comes on top, in proportion to bytes written).\n",
		native.Parts, native.PartSize>>20)
	fmt.Printf("First format measured at %v parts and extrapolated (quadratic fit); its bytes are exact.\n\n", counts(native.V1Measured))
	fmt.Println("| platform | format | CPU, whole upload | per part | bytes written | record | load (resume) |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|")
	rows := []*result{native}
	if wasm != nil {
		rows = append(rows, wasm)
	}
	for _, r := range rows {
		if r == wasm {
			// Bytes and sizes are the same code's, so the same. The
			// per-part figure is the whole upload's share; a load is
			// timed as a process that stores and loads, less one that
			// only stores.
			fmt.Printf("| %s | current (record + part entries) | %s | %s | same | same | %s |\n", r.Platform, dur(r.V2CPU), dur(r.V2CPU/time.Duration(r.Parts)), dur(r.V2Load))
			fmt.Printf("| %s | first (whole record per part) | %s (measured: %s) | | same | same | %s |\n", r.Platform, dur(r.V1CPU), measured(r.V1Measured), dur(r.V1Load))
			continue
		}
		fmt.Printf("| %s | current (record + part entries) | %s | %s | %s (%d writes) | %s | %s |\n", r.Platform,
			dur(r.V2CPU), dur(r.V2PerPart), size(r.V2Bytes), r.V2Puts, size(r.V2RecordSize), dur(r.V2Load))
		fmt.Printf("| %s | first (whole record per part) | %s (measured: %s) | last save %s | %s (%d writes) | %s | %s |\n", r.Platform,
			dur(r.V1CPU), measured(r.V1Measured), dur(r.V1LastSave), size(r.V1Bytes), r.Parts+1, size(r.V1RecordSize), dur(r.V1Load))
	}
	fmt.Println("\nCPU: process CPU time (user + system, garbage collection included); wasm: the node process's, less a process that only starts.")
	fmt.Printf("\nPart entry: %d bytes (key + value), whatever the part count.\n", native.V2PartBytes)
	if wasmErr != nil {
		fmt.Printf("wasm under node: not measured: %v\n", wasmErr)
	}
	fmt.Printf("Machine: nproc %d, %s %s/%s, %s\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, time.Now().UTC().Format(time.RFC3339))
}

func counts(ps []point) []int {
	var out []int
	for _, p := range ps {
		out = append(out, p.Parts)
	}
	return out
}

func measured(ps []point) string {
	var s []string
	for _, p := range ps {
		s = append(s, fmt.Sprintf("%d: %s", p.Parts, dur(p.CPU)))
	}
	return strings.Join(s, ", ")
}

func dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
