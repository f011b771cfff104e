package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/ossup/ossup/bench/internal/host"

	"github.com/ossup/ossup/internal/browser"
)

const (
	mib = 1 << 20
	gib = 1 << 30
)

// Targets from the issue; reported, never enforced.
const (
	targetOursOverLimit   = 0.95
	targetOursOverAliOSS  = 2.0
	targetMemoryBaseBytes = 64 << 20 // plus concurrency × part size
)

// figure is min/median/max of some runs.
type figure struct {
	Min    float64   `json:"min"`
	Median float64   `json:"median"`
	Max    float64   `json:"max"`
	Runs   []float64 `json:"runs"`
}

func summarize(xs []float64) figure {
	if len(xs) == 0 {
		return figure{}
	}
	s := slices.Sorted(slices.Values(xs))
	f := figure{Min: s[0], Max: s[len(s)-1], Runs: xs}
	if m := len(s) / 2; len(s)%2 == 1 {
		f.Median = s[m]
	} else {
		f.Median = (s[m-1] + s[m]) / 2
	}
	return f
}

// contenderResult are one contender's figures at one file size.
type contenderResult struct {
	Key  string      `json:"key"`
	Page string      `json:"page,omitempty"`
	Name string      `json:"name"`
	Runs []runRecord `json:"runs"`
	// Failures are runs that did not produce the right object.
	Failures []string `json:"failures,omitempty"`
	MBps     figure   `json:"MBps"`
	// RatioToLimit is median / the limit's median; PairedRatio the ratio of
	// each run to the limit's run of the same round.
	RatioToLimit float64 `json:"ratioToLimit"`
	PairedRatio  figure  `json:"pairedRatioToLimit"`
	// PeakMemoryMiB is page + worker JS heaps and ArrayBuffers + wasm.
	PeakMemoryMiB figure `json:"peakMemoryMiB"`
	PeakWasmMiB   figure `json:"peakWasmMiB"`
	// AfterGCMiB is what the page and worker still held after the run with
	// a garbage collection forced: memory the contender keeps, not garbage.
	AfterGCMiB     figure `json:"afterGcMiB"`
	RendererRSSMiB figure `json:"rendererRssMiB"`
	// CPU seconds per GiB uploaded: every Chromium process, and this
	// process (local OSS and backend; for native also the client).
	BrowserCPUPerGiB figure `json:"browserCpuSecondsPerGiB"`
	GoCPUPerGiB      figure `json:"goCpuSecondsPerGiB"`
	// ThreadCPUPerGiB is BrowserCPUPerGiB by Chromium thread name (median
	// over the runs; threads under 0.05 s/GiB left out).
	ThreadCPUPerGiB map[string]float64 `json:"browserCpuSecondsPerGiBByThread,omitempty"`
	// CPUBusyPct is (browser + this process) CPU time / wall time / cores:
	// how close the run came to using the whole machine.
	CPUBusyPct figure `json:"cpuBusyPercent"`
	// MeanPartMiB is UploadPart bytes / requests, as the local OSS saw them.
	MeanPartMiB float64 `json:"meanPartMiB"`
}

type sizeResult struct {
	SizeBytes  int64             `json:"sizeBytes"`
	Contenders []contenderResult `json:"contenders"`
}

type machine struct {
	NumCPU    int    `json:"nproc"`
	GoVersion string `json:"goVersion"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUModel  string `json:"cpuModel,omitempty"`
	MemTotal  string `json:"memTotal,omitempty"`
	LoadAvg   string `json:"loadAvg,omitempty"`
}

type versions struct {
	Browser  string `json:"browser"`
	AliOSS   string `json:"aliOSS"`
	Engine   string `json:"engine"`
	OSSGoSDK string `json:"ossGoSDK"`
}

type loadResult struct {
	Transfer      []transfer `json:"transfer"`
	TotalTransfer transfer   `json:"totalTransfer"`
	AliOSSBundle  transfer   `json:"aliOSSBundle"`
	// Navigation start to engine ready: in a fresh browser context (cold
	// caches), and on the measured runs' page loads (warm).
	ReadyColdMs figure `json:"readyColdMs"`
	ReadyWarmMs figure `json:"readyWarmMs"`
}

type resumeResult struct {
	Runs          []resumeRecord `json:"runs"`
	ResentMiB     figure         `json:"resentMiB"`
	BoundMiB      float64        `json:"boundMiB"`
	ToUploadingMs figure         `json:"toUploadingMs"`
	ToFirstPartMs figure         `json:"toFirstPartMs"`
	Failures      []string       `json:"failures,omitempty"`
}

type targetResult struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target float64 `json:"target"`
	Unit   string  `json:"unit"`
	Met    bool    `json:"met"`
	Note   string  `json:"note,omitempty"`
}

type report struct {
	Mode          string   `json:"mode"`
	Engine        string   `json:"engine"`
	ThreadNote    string   `json:"-"`
	Date          string   `json:"date"`
	Machine       machine  `json:"machine"`
	Versions      versions `json:"versions"`
	PartSize      int64    `json:"partSize"`
	Concurrency   int      `json:"concurrency"`
	Runs          int      `json:"runs"`
	Warmup        int      `json:"warmupRounds"`
	NetworkDomain string   `json:"networkDomain"`
	// LinkMBps is the link all connections to the local OSS shared, in MB/s
	// each way (-link-mbps); 0 for loopback at full speed.
	LinkMBps float64        `json:"linkMBps,omitempty"`
	Sizes    []sizeResult   `json:"sizes"`
	Load     loadResult     `json:"load"`
	Resume   resumeResult   `json:"resume"`
	Targets  []targetResult `json:"targets"`
	Seconds  float64        `json:"benchSeconds"`
}

// networkNotes say, per engine, how the browser was driven; Chromium's is
// said in every output: throughput through chromedp is only
// meaningful with the DevTools Network domain off.
var networkNotes = map[browser.Engine]string{
	browser.Chromium: "headless Chromium driven by chromedp; DevTools Network domain disabled (Network.disable) on the measuring tab and on the engine's worker right after chromedp attached to them, before any measurement",
	browser.Firefox:  "headless Firefox driven over its WebDriver BiDi (no network instrumentation enabled; heap figures are Chromium-only, memory is the content processes' resident size)",
	browser.WebKit:   "WebKitGTK MiniBrowser under Xvfb driven by WebKitWebDriver (WebDriver classic, no network instrumentation; heap figures are Chromium-only, memory is the web processes' resident size; Xvfb's CPU counts as the browser's)",
}

// threadNotes say what the busiest thread names of each engine are.
var threadNotes = map[browser.Engine]string{
	browser.Chromium: "chromium = the processes' main threads (the page's JS among them), DedicatedWorker = the engine's Web Worker, " +
		"ThreadPoolForeg = the thread pool (file reads for Blob bodies and for arrayBuffer()), Chrome_IOThread / Chrome_ChildIOT = IPC and sockets",
	browser.Firefox: "firefox-esr / Isolated Web Co = the parent's and the content process's main threads, DOM Worker = Web Workers, " +
		"Socket Thread = the network, BgIOThreadPool / IPC I/O = file and IPC",
	browser.WebKit: "WebKitWebProces = the page's main thread, a worker runs on its own thread in that process, WebKitNetworkP = the network process, " +
		"Xvfb = the X server MiniBrowser draws on",
}

func newMachine() machine {
	return machine{NumCPU: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPUModel: host.CPUModel(), MemTotal: host.MemTotal(), LoadAvg: host.LoadAvg()}
}

// summarizeSize builds one size's figures from its runs (in round order).
func summarizeSize(size int64, cs []*contender, runs map[string][]runRecord, failures map[string][]string) sizeResult {
	sr := sizeResult{SizeBytes: size}
	limitByRound := map[int]float64{}
	for _, r := range runs["limit"] {
		limitByRound[r.Round] = r.MBps
	}
	var limitMedian float64
	for _, c := range cs {
		cr := contenderResult{Key: c.Key, Page: c.Page, Name: c.Name, Runs: runs[c.Key], Failures: failures[c.Key]}
		var mbps, paired, mem, kept, wasm, rss, bcpu, gcpu, busy []float64
		var reqs, bytes int64
		for _, r := range cr.Runs {
			mbps = append(mbps, r.MBps)
			if l, ok := limitByRound[r.Round]; ok && l > 0 {
				paired = append(paired, r.MBps/l)
			}
			gibs := float64(r.SizeBytes) / gib
			bcpu = append(bcpu, r.BrowserCPU/gibs)
			gcpu = append(gcpu, r.GoCPU/gibs)
			if r.Seconds > 0 {
				busy = append(busy, 100*(r.BrowserCPU+r.GoCPU)/r.Seconds/float64(runtime.NumCPU()))
			}
			if c.Page != "" {
				mem = append(mem, r.Memory.Total/mib)
				kept = append(kept, r.Memory.AfterGC/mib)
				wasm = append(wasm, r.Memory.Wasm/mib)
				rss = append(rss, r.Memory.RendererRSS/mib)
			}
			reqs += r.PartRequests
			bytes += r.PartBytes
		}
		cr.MBps, cr.PairedRatio = summarize(mbps), summarize(paired)
		byThread := map[string][]float64{}
		for _, r := range cr.Runs {
			for name, sec := range r.ThreadCPU {
				byThread[name] = append(byThread[name], sec/(float64(r.SizeBytes)/gib))
			}
		}
		for name, xs := range byThread {
			for len(xs) < len(cr.Runs) {
				xs = append(xs, 0) // a run where the thread did nothing
			}
			if m := summarize(xs).Median; m >= 0.05 {
				if cr.ThreadCPUPerGiB == nil {
					cr.ThreadCPUPerGiB = map[string]float64{}
				}
				cr.ThreadCPUPerGiB[name] = m
			}
		}
		cr.PeakMemoryMiB, cr.PeakWasmMiB, cr.RendererRSSMiB, cr.AfterGCMiB = summarize(mem), summarize(wasm), summarize(rss), summarize(kept)
		cr.BrowserCPUPerGiB, cr.GoCPUPerGiB, cr.CPUBusyPct = summarize(bcpu), summarize(gcpu), summarize(busy)
		if reqs > 0 {
			cr.MeanPartMiB = float64(bytes) / float64(reqs) / mib
		}
		if c.Key == "limit" {
			limitMedian = cr.MBps.Median
		}
		sr.Contenders = append(sr.Contenders, cr)
	}
	for i := range sr.Contenders {
		if limitMedian > 0 {
			sr.Contenders[i].RatioToLimit = sr.Contenders[i].MBps.Median / limitMedian
		}
	}
	return sr
}

// threadTable writes where the browser's CPU time went, by Chromium thread,
// for the threads that matter (the busiest five of each contender).
func (s sizeResult) threadTable(b *strings.Builder, note string) {
	var names []string
	for _, c := range s.Contenders {
		ns := slices.Collect(maps.Keys(c.ThreadCPUPerGiB))
		slices.SortFunc(ns, func(x, y string) int { return cmp.Compare(c.ThreadCPUPerGiB[y], c.ThreadCPUPerGiB[x]) })
		for _, n := range ns[:min(5, len(ns))] {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return
	}
	slices.Sort(names)
	fmt.Fprintf(b, "Browser CPU by thread, s/GiB (median; thread names as the browser sets them, truncated to 15 bytes by Linux: %s):\n\n| contender |", note)
	for _, n := range names {
		fmt.Fprintf(b, " %s |", n)
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|", len(names)) + "\n")
	for _, c := range s.Contenders {
		if c.Page == "" {
			continue // not in the browser
		}
		fmt.Fprintf(b, "| %s |", c.Key)
		for _, n := range names {
			fmt.Fprintf(b, " %.2f |", c.ThreadCPUPerGiB[n])
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

func (s sizeResult) get(key string) *contenderResult {
	for i := range s.Contenders {
		if s.Contenders[i].Key == key {
			return &s.Contenders[i]
		}
	}
	return nil
}

// evaluateTargets compares the figures with the targets.
func (r *report) evaluateTargets() {
	for _, s := range r.Sizes {
		ours, limit, ali := s.get("ours"), s.get("limit"), s.get("alioss-defaults")
		label := sizeLabel(s.SizeBytes)
		if r.LinkMBps > 0 {
			label += fmt.Sprintf(" over a %g MB/s link", r.LinkMBps)
		}
		if ours != nil && limit != nil && ours.MBps.Median > 0 && limit.MBps.Median > 0 {
			v := ours.MBps.Median / limit.MBps.Median
			r.Targets = append(r.Targets, targetResult{Name: "ours / limit, " + label + " (CRC-64 on)", Value: v,
				Target: targetOursOverLimit, Unit: "×", Met: v >= targetOursOverLimit})
		}
		if ours != nil && ali != nil && ours.MBps.Median > 0 && ali.MBps.Median > 0 {
			v := ours.MBps.Median / ali.MBps.Median
			r.Targets = append(r.Targets, targetResult{Name: "ours / ali-oss at its defaults, " + label, Value: v,
				Target: targetOursOverAliOSS, Unit: "×", Met: v >= targetOursOverAliOSS})
		}
	}
	bound := float64(targetMemoryBaseBytes+int64(r.Concurrency)*r.PartSize) / mib
	var peak, first, last, kept float64
	var firstSize, lastSize int64
	for _, s := range r.Sizes {
		if c := s.get("ours"); c != nil && len(c.Runs) > 0 {
			peak = max(peak, c.PeakMemoryMiB.Max)
			kept = max(kept, c.AfterGCMiB.Max)
			if firstSize == 0 {
				first, firstSize = c.PeakMemoryMiB.Median, s.SizeBytes
			}
			last, lastSize = c.PeakMemoryMiB.Median, s.SizeBytes
		}
	}
	if peak > 0 {
		note := "one file size measured: flatness needs the full mode"
		if lastSize != firstSize {
			note = fmt.Sprintf("median peak %.1f MiB at %s, %.1f MiB at %s", first, sizeLabel(firstSize), last, sizeLabel(lastSize))
		}
		note += fmt.Sprintf("; still held after a forced GC: up to %.1f MiB", kept)
		r.Targets = append(r.Targets, targetResult{Name: "ours, peak page + worker memory (JS heaps, ArrayBuffers, wasm), largest of all runs",
			Value: peak, Target: bound, Unit: "MiB", Met: peak <= bound, Note: note})
	}
	if len(r.Resume.Runs) > 0 {
		v := r.Resume.ResentMiB.Max
		r.Targets = append(r.Targets, targetResult{Name: "resume after a reload at 50 %: bytes re-sent, largest of all runs",
			Value: v, Target: r.Resume.BoundMiB, Unit: "MiB", Met: v <= r.Resume.BoundMiB,
			Note: fmt.Sprintf("bound = parts in flight = %d × %d MiB", r.Concurrency, r.PartSize>>20)})
	}
}

func sizeLabel(n int64) string {
	if n >= gib && n%gib == 0 {
		return fmt.Sprintf("%d GiB", n/gib)
	}
	return fmt.Sprintf("%d MiB", n/mib)
}

func (r *report) markdown() string {
	var b strings.Builder
	m := r.Machine
	if r.LinkMBps > 0 {
		fmt.Fprintf(&b, "# Browser upload benchmark, %s (%s mode, %g MB/s link)\n\n", r.Versions.Browser, r.Mode, r.LinkMBps)
	} else {
		fmt.Fprintf(&b, "# Browser upload benchmark, %s (%s mode)\n\n", r.Versions.Browser, r.Mode)
	}
	fmt.Fprintf(&b, "%s; %d-core %s, %s RAM, %s %s/%s; %s; ali-oss %s; engine %s; OSS Go SDK %s.\n",
		r.Date, m.NumCPU, orDash(m.CPUModel), orDash(m.MemTotal), m.GoVersion, m.OS, m.Arch, r.Versions.Browser,
		r.Versions.AliOSS, r.Versions.Engine, r.Versions.OSSGoSDK)
	fmt.Fprintf(&b, "Everything runs on this machine: the backend in dev mode with its local OSS in-process on loopback "+
		"(data on the same disk as the file), %s. "+
		"Contenders alternate run by run (%d measured rounds after %d warm-up round(s)); each browser run loads a fresh page. "+
		"MB = 10^6 bytes; memory in MiB; figures are min / median / max over the runs.\n\n", r.NetworkDomain, r.Runs, r.Warmup)
	if r.LinkMBps > 0 {
		fmt.Fprintf(&b, "The local OSS limits all its connections together to %g MB/s each way (faults `linkBytesPerSec`), "+
			"as an uplink of %g Mbit/s would: every contender, the native one included, shares that one link.\n\n", r.LinkMBps, r.LinkMBps*8)
	} else {
		b.WriteString("No link limit: loopback at full speed, so the figures measure each contender's CPU cost on this machine, " +
			"where the local OSS hashes and writes every byte on the same cores.\n\n")
	}

	for _, s := range r.Sizes {
		fmt.Fprintf(&b, "## Throughput, %s file\n\n", sizeLabel(s.SizeBytes))
		fmt.Fprintf(&b, "| contender | MB/s min / median / max | × limit (median) | peak page memory MiB | retained after GC MiB | browser CPU s/GiB | local OSS + backend CPU s/GiB | machine CPU busy %% | mean part MiB |\n")
		fmt.Fprintf(&b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, c := range s.Contenders {
			if len(c.Runs) == 0 {
				fmt.Fprintf(&b, "| %s | failed: %s | | | | | | | |\n", c.Name, oneLine(strings.Join(c.Failures, "; ")))
				continue
			}
			mem, kept, goLabel := "–", "–", ""
			switch {
			case r.Engine != "" && r.Engine != string(browser.Chromium) && len(c.RendererRSSMiB.Runs) > 0:
				// No heap figures outside Chromium: the content
				// processes' resident memory, the page's baseline in it.
				mem = fig1(c.RendererRSSMiB) + " RSS"
			case len(c.PeakMemoryMiB.Runs) > 0:
				mem, kept = fig1(c.PeakMemoryMiB), fig1(c.AfterGCMiB)
			}
			if c.Key == "native" {
				goLabel = " (with the client)"
			}
			fmt.Fprintf(&b, "| %s | %s | %.2f× | %s | %s | %s | %s%s | %.0f | %.1f |\n", c.Name, fig0(c.MBps), c.RatioToLimit, mem, kept,
				fig2(c.BrowserCPUPerGiB), fig2(c.GoCPUPerGiB), goLabel, c.CPUBusyPct.Median, c.MeanPartMiB)
			if len(c.Failures) > 0 {
				fmt.Fprintf(&b, "| ↳ %d failed run(s) | %s | | | | | | | |\n", len(c.Failures), oneLine(strings.Join(c.Failures, "; ")))
			}
		}
		b.WriteString("\n")
		s.threadTable(&b, r.ThreadNote)
	}
	if len(r.Sizes) > 1 {
		fmt.Fprintf(&b, "## Peak page memory by file size (median MiB: page + worker JS heaps and ArrayBuffers + wasm)\n\n| contender |")
		for _, s := range r.Sizes {
			fmt.Fprintf(&b, " %s |", sizeLabel(s.SizeBytes))
		}
		b.WriteString("\n|---|" + strings.Repeat("---:|", len(r.Sizes)) + "\n")
		for i, c := range r.Sizes[0].Contenders {
			if c.Key == "native" {
				continue
			}
			fmt.Fprintf(&b, "| %s |", c.Name)
			for _, s := range r.Sizes {
				if len(s.Contenders[i].PeakMemoryMiB.Runs) == 0 {
					b.WriteString(" – |")
					continue
				}
				fmt.Fprintf(&b, " %.1f |", s.Contenders[i].PeakMemoryMiB.Median)
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}

	l := r.Load
	fmt.Fprintf(&b, "## Engine download and start\n\n| file | raw KB | gzip KB | brotli KB |\n|---|---:|---:|---:|\n")
	for _, t := range append(append([]transfer{}, l.Transfer...), l.TotalTransfer) {
		fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.1f |\n", t.File, float64(t.Raw)/1e3, float64(t.Gzip)/1e3, float64(t.Brotli)/1e3)
	}
	fmt.Fprintf(&b, "| (for comparison) %s | %.1f | %.1f | %.1f |\n", l.AliOSSBundle.File, float64(l.AliOSSBundle.Raw)/1e3,
		float64(l.AliOSSBundle.Gzip)/1e3, float64(l.AliOSSBundle.Brotli)/1e3)
	fmt.Fprintf(&b, "\nNavigation start to engine ready (`await uploader.ready`): cold (fresh browser context) %s ms; "+
		"warm (the measured runs' page loads) %s ms.\n\n", fig0(l.ReadyColdMs), fig0(l.ReadyWarmMs))

	if len(r.Resume.Runs) > 0 || len(r.Resume.Failures) > 0 {
		rs := r.Resume
		fmt.Fprintf(&b, "## Resume after a reload at 50 %% (ours)\n\n")
		fmt.Fprintf(&b, "The page reloads as soon as OSS confirmed half of the file; the same file is picked again on the new page. "+
			"Bytes re-sent = UploadPart body bytes the local OSS received in both page lives − file size "+
			"(parts cut by the reload count with what they had sent).\n\n")
		fmt.Fprintf(&b, "| file | confirmed at reload MiB | sending at reload MiB (last progress event) | re-sent MiB | bound MiB | pick → uploading ms | pick → first part request ms | pick → done ms |\n")
		fmt.Fprintf(&b, "|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, x := range rs.Runs {
			fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.1f | %.0f | %.0f | %.0f | %.0f |\n", sizeLabel(x.SizeBytes),
				float64(x.ConfirmedAtReload)/mib, float64(x.SendingAtReload)/mib, float64(x.ResentBytes)/mib,
				float64(x.BoundBytes)/mib, x.ToUploadingMs, x.ToFirstPartMs, x.TotalMs)
		}
		for _, f := range rs.Failures {
			fmt.Fprintf(&b, "| failed: %s | | | | | | | |\n", f)
		}
		b.WriteString("\n")
	}

	fmt.Fprintf(&b, "## Targets (figures, not tests)\n\n| target | value | goal | |\n|---|---:|---:|---|\n")
	for _, t := range r.Targets {
		verdict := "met"
		if !t.Met {
			verdict = "**missed**"
		}
		if t.Note != "" {
			verdict += " (" + t.Note + ")"
		}
		op := "≥"
		if t.Unit == "MiB" {
			op = "≤"
		}
		fmt.Fprintf(&b, "| %s | %.2f %s | %s %.2f %s | %s |\n", t.Name, t.Value, t.Unit, op, t.Target, t.Unit, verdict)
	}
	fmt.Fprintf(&b, "\nReproduce: `make bench` (quick) or `BENCHFULL=1 make bench` (256 MiB, 1 GiB and 4 GiB); "+
		"the benchmark alone: `go run ./bench/browser [-full]`. Took %.0f s.\n", r.Seconds)
	return b.String()
}

// oneLine keeps an error message inside one Markdown table cell.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "|", "/")
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}

func fig0(f figure) string { return fmt.Sprintf("%.0f / %.0f / %.0f", f.Min, f.Median, f.Max) }
func fig1(f figure) string { return fmt.Sprintf("%.1f / %.1f / %.1f", f.Min, f.Median, f.Max) }
func fig2(f figure) string { return fmt.Sprintf("%.2f / %.2f / %.2f", f.Min, f.Median, f.Max) }

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func (r *report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func nowUTC() string { return time.Now().UTC().Format(time.RFC3339) }
