package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/ossup/ossup/internal/enginebuild"
)

func report(w io.Writer, web string, sizes []fileSize, times []loadTime, engineServed, chromium string) {
	fmt.Fprintf(w, "### Browser engine assets (%s/; engine.wasm as `make build` makes it, %s)\n\n", web, strings.Join(enginebuild.Flags, " "))
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

	ready := make([]float64, len(times))
	load := make([]float64, len(times))
	var runs []string
	for i, t := range times {
		ready[i], load[i] = t.ready, t.load
		runs = append(runs, strconv.FormatFloat(t.ready, 'f', 0, 64))
	}
	fmt.Fprintf(w, "### Navigation to \"engine ready\" (%s headless, backend on loopback, fresh profile per load, DevTools Network domain off)\n\n", chromium)
	fmt.Fprintln(w, "| Loads | Load event (median) | Engine ready (median) | min | max | each (ms) |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---|")
	fmt.Fprintf(w, "| %d | %.0f ms | **%.0f ms** | %.0f ms | %.0f ms | %s |\n\n", len(times), median(load), median(ready),
		slices.Min(ready), slices.Max(ready), strings.Join(runs, ", "))
	fmt.Fprintf(w, "engine.wasm as the backend sent it to the timed pages: %s. Bench run with %s.\n", engineServed, goVersion())
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
