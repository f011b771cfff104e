package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/ossup/ossup/internal/localcloud/faults"
)

// The harness (engine build, backend with its local cloud, headless
// Chromium) takes a while to start, so the tests share one, with small
// parts, that reads every stored object back to compare its SHA-256 with
// the file's.
const testPartSize, testConcurrency = 1 << 20, 2

var (
	shared     *session
	sharedErr  error
	sharedOnce sync.Once
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.close()
	}
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

var sharedDir string

func testSession(t *testing.T) *session {
	t.Helper()
	sharedOnce.Do(func() {
		root, err := repoRoot()
		if err != nil {
			sharedErr = err
			return
		}
		if sharedDir, sharedErr = os.MkdirTemp("", "ossup-bench-browser-test-"); sharedErr != nil {
			return
		}
		shared, sharedErr = newSession(root, sharedDir, config{PartSize: testPartSize, Concurrency: testConcurrency, CheckSHA256: true, quiet: true, noAssetWait: true})
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// TestEveryContenderUploadsTheRightBytes runs each contender once on a
// small multi-part file through the same code the benchmark uses. measure
// fails when the stored object's SHA-256 (and CRC-64, size) differs from
// the file's, so a contender that uploads the wrong bytes, or a harness
// that measures something else than an upload, fails here.
func TestEveryContenderUploadsTheRightBytes(t *testing.T) {
	s := testSession(t)
	src, err := writeSource(filepath.Join(t.TempDir(), "file.bin"), 3<<20+12345)
	if err != nil {
		t.Fatal(err)
	}
	cs := s.contenders()
	if len(cs) != 6 {
		t.Fatalf("%d contenders, want limit, limit-read, ours, ali-oss ×2, native", len(cs))
	}
	for _, c := range cs {
		rec, err := s.measure(c, src, 0)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		// Every byte of the file went through UploadPart exactly once.
		if rec.PartBytes != src.Size || rec.PartRequests < 4 {
			t.Errorf("%s: the local OSS received %d UploadPart bytes in %d requests; the file has %d bytes",
				c.Name, rec.PartBytes, rec.PartRequests, src.Size)
		}
		if rec.Seconds <= 0 || rec.MBps <= 0 {
			t.Errorf("%s: time %v s, %v MB/s", c.Name, rec.Seconds, rec.MBps)
		}
		if c.Page != "" && (rec.Memory.Samples == 0 || rec.Memory.PageHeap <= 0 || rec.BrowserCPU <= 0) {
			t.Errorf("%s: no page measurements: %+v, browser CPU %v s", c.Name, rec.Memory, rec.BrowserCPU)
		}
		if c.Key == "ours" && (rec.Memory.WorkerHeap <= 0 || rec.Memory.Wasm <= 0) {
			t.Errorf("ours: the engine's worker and wasm memory were not sampled: %+v", rec.Memory)
		}
		t.Logf("%s: %.1f MB/s, %d parts, peak %.1f MiB", c.Name, rec.MBps, rec.PartRequests, rec.Memory.Total/mib)
	}
}

// TestResumeMeasurement reloads the page mid-upload (the links slowed so
// the reload lands at 50 %) and checks what the harness reports against the
// local OSS's own counters and the stored object.
func TestResumeMeasurement(t *testing.T) {
	s := testSession(t)
	cloud := s.be.srv.Cloud()
	if err := cloud.Faults.Set(faults.Config{BandwidthBytesPerSec: 512 << 10}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cloud.Faults.Set(faults.Config{}) })
	src, err := writeSource(filepath.Join(t.TempDir(), "file.bin"), 6<<20+777)
	if err != nil {
		t.Fatal(err)
	}
	before := s.be.srv.Cloud().OSS.Stats().Snapshot()["UploadPart"].BytesIn
	rec, err := s.measureResume(src)
	if err != nil {
		t.Fatal(err)
	}
	sent := s.be.srv.Cloud().OSS.Stats().Snapshot()["UploadPart"].BytesIn - before
	if rec.PartBytes != sent || rec.ResentBytes != sent-src.Size || rec.ResentBytes < 0 {
		t.Errorf("reported %d bytes sent, %d re-sent; the local OSS counted %d for a %d-byte file", rec.PartBytes, rec.ResentBytes, sent, src.Size)
	}
	if rec.ConfirmedAtReload < src.Size/2 || rec.ConfirmedAtReload >= src.Size {
		t.Errorf("reloaded with %d of %d bytes confirmed, want from half on", rec.ConfirmedAtReload, src.Size)
	}
	if rec.ToUploadingMs <= 0 || rec.ToFirstPartMs <= 0 || rec.TotalMs < rec.ToFirstPartMs {
		t.Errorf("times after the pick: uploading %v ms, first part %v ms, done %v ms", rec.ToUploadingMs, rec.ToFirstPartMs, rec.TotalMs)
	}
	t.Logf("%+v", rec)
}

// TestCheckRefusesWrongBytes: the check every run ends with fails on an
// object whose bytes differ from the file, at the same size.
func TestCheckRefusesWrongBytes(t *testing.T) {
	s := testSession(t)
	src, err := writeSource(filepath.Join(t.TempDir(), "file.bin"), 300<<10)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(src.Path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	put := func(key string, b []byte) {
		t.Helper()
		if _, err := s.admin.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(s.bucket), Key: oss.Ptr(key), Body: bytes.NewReader(b)}); err != nil {
			t.Fatal(err)
		}
	}
	put("bench/wrong.bin", data)
	if err := s.check(ctx, "bench/wrong.bin", src); !errors.Is(err, errWrongBytes) {
		t.Fatalf("check of a corrupted object: %v, want errWrongBytes", err)
	}
	put("bench/short.bin", data[:len(data)-1])
	if err := s.check(ctx, "bench/short.bin", src); !errors.Is(err, errWrongBytes) {
		t.Fatalf("check of a short object: %v, want errWrongBytes", err)
	}
	data[len(data)/2] ^= 1
	put("bench/right.bin", data)
	if err := s.check(ctx, "bench/right.bin", src); err != nil {
		t.Fatalf("check of the right object: %v", err)
	}
}

// TestNetworkDomainGuard: a run measured with the DevTools Network domain
// on (which slows in-memory request bodies tenfold) is refused, not
// reported.
func TestNetworkDomainGuard(t *testing.T) {
	s := testSession(t)
	src, err := writeSource(filepath.Join(t.TempDir(), "file.bin"), 2<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(s.tab, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := disableNetwork(s.tab); err != nil {
			t.Error(err)
		}
	})
	if _, err := s.measure(s.contenders()[0], src, 0); !errors.Is(err, errNetworkOn) {
		t.Fatalf("a run with the Network domain on: %v, want errNetworkOn", err)
	}
}

// TestOutputs renders a report with every section from made-up runs and
// checks that the JSON reads back, the chart is well-formed XML and the
// table names every contender.
func TestOutputs(t *testing.T) {
	b := &bench{partSize: 8 << 20, concurrency: 4, aliVersion: "6.23.0"}
	cs := b.contenders()
	var sizes []sizeResult
	for _, size := range []int64{256 << 20, 1 << 30} {
		runs := map[string][]runRecord{}
		for round := 0; round < 3; round++ {
			for i, c := range cs {
				r := runRecord{Contender: c.Key, Round: round, SizeBytes: size, Seconds: 1 + float64(i+round)/10,
					BrowserCPU: 1, GoCPU: 1, PartRequests: 32, PartBytes: size}
				r.MBps = float64(size) / r.Seconds / 1e6
				if c.Page != "" {
					r.Memory = memPeak{PageHeap: 2 * mib, Wasm: 10 * mib, Total: 12 * mib, AfterGC: 3 * mib, Samples: 10}
				}
				runs[c.Key] = append(runs[c.Key], r)
			}
		}
		sizes = append(sizes, summarizeSize(size, cs, runs, map[string][]string{"alioss-defaults": {"crashed | badly\nhere"}}))
	}
	rep := &report{Mode: "quick", Date: nowUTC(), Machine: newMachine(), PartSize: 8 << 20, Concurrency: 4, Runs: 3, Sizes: sizes,
		Resume: resumeResult{Runs: []resumeRecord{{SizeBytes: 256 << 20, ResentBytes: 3 << 20, BoundBytes: 32 << 20}}, BoundMiB: 32,
			ResentMiB: summarize([]float64{3})}}
	rep.evaluateTargets()
	if len(rep.Targets) != 6 {
		t.Errorf("%d targets, want 2 per size + memory + resume", len(rep.Targets))
	}
	md := rep.markdown()
	for _, c := range cs {
		if !strings.Contains(md, c.Name) {
			t.Errorf("the table lacks %s", c.Name)
		}
	}
	if strings.Contains(md, "badly\nhere") {
		t.Error("a failure message broke the table")
	}
	dir := t.TempDir()
	if err := rep.writeJSON(filepath.Join(dir, "r.json")); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "r.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back report
	if err := json.Unmarshal(raw, &back); err != nil || len(back.Sizes) != 2 || back.Sizes[1].Contenders[2].MBps.Median == 0 {
		t.Fatalf("JSON does not read back: %v", err)
	}
	dec := xml.NewDecoder(strings.NewReader(rep.chart()))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart.svg is not well-formed: %v", err)
		}
	}
}
