package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/ossup/ossup/bench/internal/host"
)

// ratioTarget is the goal for ours/raw-disk; it is reported, never enforced.
const ratioTarget = 0.7

// stats are MB/s figures (MB = 10^6 bytes) of one contender.
type stats struct {
	Key    string    `json:"key"`
	Name   string    `json:"name"`
	Runs   []float64 `json:"runsMBps"`
	Min    float64   `json:"minMBps"`
	Median float64   `json:"medianMBps"`
	Max    float64   `json:"maxMBps"`
}

type machine struct {
	NumCPU     int    `json:"nproc"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"goVersion"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	CPUModel   string `json:"cpuModel,omitempty"`
	LoadAvg    string `json:"loadAvg,omitempty"`
	Date       string `json:"date"`
	Dir        string `json:"dir"`
}

type report struct {
	SizeBytes  int64   `json:"sizeBytes"`
	Runs       int     `json:"runs"`
	Warmup     int     `json:"warmupRounds"`
	Machine    machine `json:"machine"`
	Contenders []stats `json:"contenders"`
	// Ratios of medians; the target applies to OursOverRawDisk.
	OursOverRawDisk    float64 `json:"oursOverRawDisk"`
	OursOverRawDiscard float64 `json:"oursOverRawDiscard"`
	Target             float64 `json:"target"`
}

func mbps(size int64, d time.Duration) float64 { return float64(size) / d.Seconds() / 1e6 }

func newReport(size int64, runs, warmup int, dir string, cs []*contender, times map[string][]time.Duration) *report {
	r := &report{SizeBytes: size, Runs: runs, Warmup: warmup, Target: ratioTarget, Machine: machine{
		NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(),
		OS: runtime.GOOS, Arch: runtime.GOARCH, CPUModel: host.CPUModel(), LoadAvg: host.LoadAvg(),
		Date: time.Now().UTC().Format(time.RFC3339), Dir: dir,
	}}
	medians := map[string]float64{}
	for _, c := range cs {
		s := stats{Key: c.Key, Name: c.Name}
		for _, d := range times[c.Key] {
			s.Runs = append(s.Runs, mbps(size, d))
		}
		sorted := slices.Sorted(slices.Values(s.Runs))
		s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
		if m := len(sorted) / 2; len(sorted)%2 == 1 {
			s.Median = sorted[m]
		} else {
			s.Median = (sorted[m-1] + sorted[m]) / 2
		}
		medians[c.Key] = s.Median
		r.Contenders = append(r.Contenders, s)
	}
	r.OursOverRawDisk = medians["ours"] / medians["raw-disk"]
	r.OursOverRawDiscard = medians["ours"] / medians["raw-discard"]
	return r
}

func (r *report) markdown() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "## Local OSS ingest throughput\n\n")
	fmt.Fprintf(&b, "%d MiB file, %d measured runs per contender (after %d warm-up round(s)), interleaved; MB = 10^6 bytes.\n\n",
		r.SizeBytes>>20, r.Runs, r.Warmup)
	fmt.Fprintf(&b, "| Contender | min MB/s | median MB/s | max MB/s |\n|---|---:|---:|---:|\n")
	for _, s := range r.Contenders {
		fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.1f |\n", s.Name, s.Min, s.Median, s.Max)
	}
	verdict := "meets"
	if r.OursOverRawDisk < r.Target {
		verdict = "below"
	}
	fmt.Fprintf(&b, "\nRatio of medians: ours / raw-disk = **%.2f×** (%s the %.1f× target); ours / raw-discard = %.2f×.\n\n",
		r.OursOverRawDisk, verdict, r.Target, r.OursOverRawDiscard)
	fmt.Fprintf(&b, "Machine: nproc %d (GOMAXPROCS %d), %s %s/%s", m.NumCPU, m.GOMAXPROCS, m.GoVersion, m.OS, m.Arch)
	if m.CPUModel != "" {
		fmt.Fprintf(&b, ", %s", m.CPUModel)
	}
	if m.LoadAvg != "" {
		fmt.Fprintf(&b, ", load average %s", m.LoadAvg)
	}
	fmt.Fprintf(&b, "; %s; files in %s.\n", m.Date, m.Dir)
	return b.String()
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
