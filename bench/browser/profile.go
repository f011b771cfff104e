package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
)

// startProfile starts V8's sampling profiler in the target of ctx (the
// engine's worker), for -profile.
func startProfile(ctx context.Context) error {
	if _, err := chromedp.Call(ctx, profiler.Enable, cdp.Empty{}); err != nil {
		return err
	}
	if _, err := chromedp.Call(ctx, profiler.SetSamplingInterval, profiler.SetSamplingIntervalParams{Interval: 200}); err != nil {
		return err
	}
	_, err := chromedp.Call(ctx, profiler.Start, cdp.Empty{})
	return err
}

// stopProfile stops the profiler and writes, under dir, the raw profile
// (open it in Chrome DevTools' Performance panel) and the functions with
// the most self time.
func stopProfile(ctx context.Context, dir, name string) (string, error) {
	res, err := chromedp.Call(ctx, profiler.Stop, cdp.Empty{})
	if err != nil {
		return "", fmt.Errorf("stop the profiler: %w", err)
	}
	prof := res.Profile
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	raw, err := json.Marshal(prof)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".cpuprofile"), raw, 0o644); err != nil {
		return "", err
	}
	summary := profileSummary(prof, 40)
	path := filepath.Join(dir, name+".txt")
	return path, os.WriteFile(path, []byte(summary), 0o644)
}

// profileSummary lists the top functions by self time, with the share of
// the samples that were not idle.
func profileSummary(p *profiler.Profile, top int) string {
	total := float64(p.EndTime - p.StartTime)
	var samples int64
	self := map[string]int64{}
	for _, n := range p.Nodes {
		name := n.CallFrame.FunctionName
		if name == "" {
			name = "(anonymous)"
		}
		if u := n.CallFrame.URL; u != "" {
			name += "  " + u[strings.LastIndex(u, "/")+1:]
		}
		self[name] += n.HitCount
		samples += n.HitCount
	}
	idle := self["(idle)"] + self["(program)"]
	type row struct {
		name string
		hits int64
	}
	var rows []row
	for k, v := range self {
		rows = append(rows, row{k, v})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].hits > rows[j].hits })
	var b strings.Builder
	fmt.Fprintf(&b, "%.2f s profiled, %d samples, %.1f %% idle or program\n\n", total/1e6, samples, 100*float64(idle)/float64(max(samples, 1)))
	fmt.Fprintf(&b, "%8s %7s  %s\n", "self ms", "share", "function")
	for i, r := range rows {
		if i == top {
			break
		}
		ms := total / 1e3 * float64(r.hits) / float64(max(samples, 1))
		fmt.Fprintf(&b, "%8.1f %6.1f%%  %s\n", ms, 100*float64(r.hits)/float64(max(samples, 1)), r.name)
	}
	return b.String()
}
