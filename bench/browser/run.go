package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/chromedp/cdproto/target"

	"github.com/ossup/ossup/internal/browser"
)

// bench is one benchmark session: a backend with its local cloud, one
// Chromium, and the settings every contender shares.
type bench struct {
	be *backend
	br browser.Browser
	// tab is the context of every step on the measuring page (withPage);
	// for Chromium it is also chromedp's context of the tab (Network
	// domain off), and cdp is true.
	tab         context.Context
	cdp         bool
	admin       *oss.Client // the account's keys: presigning, checks, clean-up
	api         *apiClient
	bucket      string
	partSize    int64
	concurrency int
	aliVersion  string
	seq         int
	// netEvents counts DevTools Network events from the measured targets;
	// a run during which it moves is refused.
	netEvents *atomic.Int64
	// checkSHA256 reads every object back and compares its SHA-256 with the
	// file's (the harness test); otherwise the stored CRC-64 and size are
	// compared, which costs no read.
	checkSHA256 bool
	// profileDir, if set, receives a V8 CPU profile of the engine's worker
	// for every run of ours (-profile).
	profileDir string
	// engineB is -engine-b's engine: contender ours-b runs it.
	engineB string
}

func newBench(be *backend, br browser.Browser, partSize int64, concurrency int, aliVersion string) *bench {
	tab, cdp := browser.CDP(br.Page())
	if !cdp {
		tab = context.Background()
	}
	tab = withPage(tab, br.Page())
	cl := be.srv.Cloud()
	admin := oss.NewClient(oss.LoadDefaultConfig().WithEndpoint(cl.OSSEndpoint).WithRegion(cl.Config.Region).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cl.Config.AccessKeyID, cl.Config.AccessKeySecret)))
	return &bench{be: be, br: br, tab: tab, cdp: cdp, admin: admin, netEvents: new(atomic.Int64), api: newAPIClient(be.base), bucket: cl.Config.Bucket,
		partSize: partSize, concurrency: concurrency, aliVersion: aliVersion}
}

// errNetworkOn refuses a run measured with the DevTools Network domain on:
// Chromium then sends in-memory bodies about ten times slower.
var errNetworkOn = errors.New("the DevTools Network domain was on in a measured target")

// runRecord is one measured upload.
type runRecord struct {
	Contender string  `json:"contender"`
	Round     int     `json:"round"`
	SizeBytes int64   `json:"sizeBytes"`
	Seconds   float64 `json:"seconds"`
	MBps      float64 `json:"MBps"`
	// PageMs is the page's own time for the upload, where it ran in the page.
	PageMs float64 `json:"pageMs,omitempty"`
	// ReadyMs is navigation start to ready (warm: the same browser profile
	// loaded the page before).
	ReadyMs float64 `json:"readyMs,omitempty"`
	Memory  memPeak `json:"memory"`
	// BrowserCPU is the CPU time of every Chromium process during the run;
	// GoCPU that of this process (the local OSS and the backend, and the
	// native contender's client).
	BrowserCPU float64 `json:"browserCpuSeconds"`
	// ThreadCPU splits BrowserCPU by Chromium thread name.
	ThreadCPU map[string]float64 `json:"browserCpuSecondsByThread,omitempty"`
	GoCPU     float64            `json:"goCpuSeconds"`
	// PartRequests and PartBytes are the UploadPart requests and body bytes
	// the local OSS counted.
	PartRequests int64 `json:"partRequests"`
	PartBytes    int64 `json:"partBytes"`
}

// runTimeout bounds one upload of size bytes: at 2 MB/s plus set-up, far
// beyond any contender's real time, so a hang fails instead of waiting.
func runTimeout(size int64) time.Duration {
	return time.Duration(size/2e6)*time.Second + 2*time.Minute
}

// measure runs contender c once on src and checks the stored object.
func (b *bench) measure(c *contender, src source, round int) (runRecord, error) {
	rec := runRecord{Contender: c.Key, Round: round, SizeBytes: src.Size}
	ctx, cancel := context.WithTimeout(b.tab, runTimeout(src.Size))
	defer cancel()
	var mem memTarget
	if c.Page != "" {
		q := ""
		if c.Page == "ours" {
			q = "concurrency=" + strconv.Itoa(b.concurrency)
			if c.Key == "ours-b" {
				q += "&engine=" + engineBFile
			}
		}
		var stale map[target.ID]bool
		if b.cdp {
			var err error
			if stale, err = workerTargets(ctx); err != nil {
				return rec, err
			}
		}
		ready, err := openBench(ctx, b.be.base, c.Page, q)
		if err != nil {
			return rec, err
		}
		rec.ReadyMs = ready
		if err := pick(ctx, src.Path); err != nil {
			return rec, err
		}
		if c.Page == "ours" && b.cdp {
			wctx, wcancel, err := attachWorker(ctx, stale, b.netEvents)
			if err != nil {
				return rec, err
			}
			defer wcancel()
			mem.worker = wctx
			if mem.wasm, err = wasmMemories(wctx); err != nil {
				return rec, fmt.Errorf("find the engine's wasm memory: %w", err)
			}
		}
		if b.cdp {
			mem.page = ctx
			if err := mem.collect(); err != nil {
				return rec, err
			}
		}
	}
	stats := b.be.srv.Cloud().OSS.Stats()
	before := stats.Snapshot()["UploadPart"]
	net0 := b.netEvents.Load()
	procs0, self0 := browserProcs(), selfCPU()
	threads0 := threadCPU(procs0)
	var smp *sampler
	if c.Page != "" {
		smp = startSampler(mem)
	}
	profiling := b.profileDir != "" && mem.worker != nil
	if profiling {
		if err := startProfile(mem.worker); err != nil {
			return rec, fmt.Errorf("profile: %w", err)
		}
	}
	began := time.Now()
	out, err := c.run(ctx, src)
	took := time.Since(began)
	if profiling {
		path, perr := stopProfile(mem.worker, b.profileDir, fmt.Sprintf("%s-%s-round%d", c.Key, sizeLabel(src.Size), round))
		if perr != nil {
			return rec, perr
		}
		fmt.Fprintln(os.Stderr, "worker profile:", path)
	}
	if smp != nil {
		rec.Memory = smp.stop()
	}
	procs1 := browserProcs()
	rec.BrowserCPU = cpuDelta(procs0, procs1).Seconds()
	rec.ThreadCPU = threadDelta(threads0, threadCPU(procs1))
	rec.GoCPU = (selfCPU() - self0).Seconds()
	if smp != nil && err == nil && b.cdp {
		if err := mem.collect(); err != nil {
			return rec, err
		}
		if s, ok := mem.sample(); ok {
			rec.Memory.AfterGC = s.Total
		}
	}
	if err != nil {
		return rec, err
	}
	if n := b.netEvents.Load() - net0; n > 0 {
		return rec, fmt.Errorf("%w: %d Network events during the run", errNetworkOn, n)
	}
	after := stats.Snapshot()["UploadPart"]
	rec.PartRequests, rec.PartBytes = after.Requests-before.Requests, after.BytesIn-before.BytesIn
	if rec.PartBytes < src.Size {
		// The engine resumed what an earlier, failed run left: not a
		// measurement of an upload.
		return rec, fmt.Errorf("only %d of %d bytes were uploaded: the run resumed an earlier upload", rec.PartBytes, src.Size)
	}
	rec.Seconds, rec.MBps, rec.PageMs = took.Seconds(), float64(src.Size)/took.Seconds()/1e6, out.PageMs
	if err := b.check(ctx, out.Key, src); err != nil {
		return rec, err
	}
	return rec, nil
}

// check compares the stored object with the file, then deletes it so the
// disk holds one copy at a time.
func (b *bench) check(ctx context.Context, key string, src source) error {
	bucket := oss.Ptr(b.bucket)
	head, err := b.admin.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: bucket, Key: oss.Ptr(key)})
	if err != nil {
		return fmt.Errorf("head %s: %w", key, err)
	}
	want := strconv.FormatUint(src.CRC64, 10)
	if got := oss.ToString(head.HashCRC64); got != want || head.ContentLength != src.Size {
		return fmt.Errorf("%w: %s has %d bytes, CRC-64 %s; the file has %d bytes, CRC-64 %s",
			errWrongBytes, key, head.ContentLength, got, src.Size, want)
	}
	if b.checkSHA256 {
		if err := b.checkContent(ctx, key, src); err != nil {
			return err
		}
	}
	if _, err := b.admin.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: bucket, Key: oss.Ptr(key)}); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// checkContent reads the object back and compares its SHA-256 with the
// file's.
func (b *bench) checkContent(ctx context.Context, key string, src source) error {
	res, err := b.admin.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b.bucket), Key: oss.Ptr(key)})
	if err != nil {
		return fmt.Errorf("read back %s: %w", key, err)
	}
	defer res.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, res.Body); err != nil {
		return fmt.Errorf("read back %s: %w", key, err)
	}
	if got := h.Sum(nil); !bytes.Equal(got, src.SHA256[:]) {
		return fmt.Errorf("%w: %s has SHA-256 %x; the file has %x", errWrongBytes, key, got, src.SHA256)
	}
	return nil
}
