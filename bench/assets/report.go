package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/ossup/ossup/internal/enginebuild"
)

// result is what one contender measured.
type result struct {
	name         string
	sizes        []fileSize
	times        []loadTime
	engineServed string
}

// report prints each contender's sizes, then one table of the visits with
// a row per contender and visit, so alternated contenders read side by side.
func report(w io.Writer, rs []result, chromium string) {
	for _, r := range rs {
		sizeTable(w, r.name, r.sizes)
	}
	fmt.Fprintf(w, "### Navigation to \"engine ready\" (%s headless, backend on loopback, DevTools Network domain off", chromium)
	if len(rs) > 1 {
		fmt.Fprint(w, "; contenders alternated visitor by visitor")
	}
	fmt.Fprint(w, ")\n\n")
	fmt.Fprintln(w, "| Web assets | Visit | Loads | Load event (median) | Engine ready (median) | min | max | each (ms) |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---|")
	for _, warm := range []bool{false, true} {
		for _, r := range rs {
			ready := make([]float64, len(r.times))
			load := make([]float64, len(r.times))
			var runs []string
			for i, t := range r.times {
				ready[i], load[i] = t.ready, t.load
				if warm {
					ready[i], load[i] = t.warmReady, t.warmLoad
				}
				runs = append(runs, strconv.FormatFloat(ready[i], 'f', 0, 64))
			}
			visit := "cold (fresh profile)"
			if warm {
				visit = fmt.Sprintf("warm (same profile, %s later)", warmAfter)
			}
			fmt.Fprintf(w, "| %s | %s | %d | %.0f ms | **%.0f ms** | %.0f ms | %.0f ms | %s |\n", r.name, visit, len(r.times), median(load), median(ready),
				slices.Min(ready), slices.Max(ready), strings.Join(runs, ", "))
		}
	}
	fmt.Fprintln(w)
	for _, r := range rs {
		fmt.Fprintf(w, "engine.wasm as the backend sent it to the timed pages of %s: %s. ", r.name, r.engineServed)
	}
	fmt.Fprintf(w, "Bench run with %s.\n", goVersion())
}

func sizeTable(w io.Writer, name string, sizes []fileSize) {
	fmt.Fprintf(w, "### Browser engine assets (%s; engine.wasm built with %s)\n\n", name, strings.Join(enginebuild.Flags, " "))
	fmt.Fprintln(w, "| File | Raw | gzip -9 | brotli 11 | Served (Accept-Encoding: br) |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	var raw, gz, br int
	var served int64
	for _, s := range sizes {
		enc := s.servedEncoding
		if enc == "" {
			enc = "identity"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s (%s) |\n", s.name, bytesStr(int64(s.raw)), bytesStr(int64(s.gzip)),
			bytesStr(int64(s.brotli)), bytesStr(s.served), enc)
		raw, gz, br, served = raw+s.raw, gz+s.gzip, br+s.brotli, served+s.served
	}
	fmt.Fprintf(w, "| **total** | %s | %s | %s | %s |\n\n", bytesStr(int64(raw)), bytesStr(int64(gz)), bytesStr(int64(br)), bytesStr(served))
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// bytesStr prints n with thousands separators and, from 1 KiB on, its
// binary-prefixed size.
func bytesStr(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String() + " B"
	switch {
	case n >= 1<<20:
		out += fmt.Sprintf(" (%.2f MiB)", float64(n)/(1<<20))
	case n >= 1<<10:
		out += fmt.Sprintf(" (%.1f KiB)", float64(n)/(1<<10))
	}
	return out
}
