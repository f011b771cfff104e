package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// chartColors are per contender, in the order of contenders().
var chartColors = map[string]string{
	"limit": "#8c8c8c", "limit-read": "#c7c7c7", "limit-xhr": "#bcbd22", "limit-read-xhr": "#dbdb8d", "ours": "#1f77b4", "ours-b": "#9467bd", "alioss-defaults": "#d62728", "alioss-tuned": "#ff9896", "native": "#2ca02c",
}

// chartLabels are short names for the chart's rows.
var chartLabels = map[string]string{
	"limit": "limit (Blob → fetch)", "limit-read": "limit + read each part", "limit-xhr": "limit via XHR", "limit-read-xhr": "limit + read, via XHR", "ours": "ours (ossup, CRC-64)", "ours-b": "ours, engine B", "alioss-defaults": "ali-oss, defaults",
	"alioss-tuned": "ali-oss, same parts", "native": "native Go SDK",
}

// chart draws median throughput (with min-max whiskers) and median peak
// page memory per contender and file size, side by side, as SVG.
func (r *report) chart() string {
	const (
		width    = 1000
		labelW   = 190
		panelGap = 60
		rowH     = 20
		headH    = 24
		top      = 70
		axisH    = 40
	)
	panelW := (width - labelW - panelGap - 30) / 2
	tpX, memX := labelW, labelW+panelW+panelGap
	rows := 0
	for _, s := range r.Sizes {
		rows += len(s.Contenders)
	}
	height := top + len(r.Sizes)*headH + rows*rowH + axisH + 50

	var maxMBps, maxMem float64
	for _, s := range r.Sizes {
		for _, c := range s.Contenders {
			maxMBps = max(maxMBps, c.MBps.Max)
			maxMem = max(maxMem, c.PeakMemoryMiB.Max)
		}
	}
	tpTicks, tpMax := niceTicks(maxMBps)
	memTicks, memMax := niceTicks(maxMem)
	xs := func(x0 int, v, vmax float64) float64 { return float64(x0) + v/vmax*float64(panelW) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/>`+"\n")
	mode := r.Mode + " mode"
	if r.LinkMBps > 0 {
		mode += fmt.Sprintf(", one %g MB/s link", r.LinkMBps)
	}
	fmt.Fprintf(&b, `<text x="10" y="22" font-size="16" font-weight="bold">ossup browser upload benchmark (%s)</text>`+"\n", mode)
	fmt.Fprintf(&b, `<text x="10" y="40" fill="#555">%s</text>`+"\n", html.EscapeString(fmt.Sprintf("%s · %d cores · %s · %s · ali-oss %s · %d MiB parts × %d · Network domain off",
		r.Date[:10], r.Machine.NumCPU, r.Machine.GoVersion, r.Versions.Browser, r.Versions.AliOSS, r.PartSize>>20, r.Concurrency)))
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">Throughput, MB/s (median; whisker min–max)</text>`+"\n", tpX, top-8)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">Peak page memory, MiB (JS heaps + buffers + wasm)</text>`+"\n", memX, top-8)

	y := top
	for _, s := range r.Sizes {
		fmt.Fprintf(&b, `<text x="10" y="%d" font-weight="bold">%s file</text>`+"\n", y+16, sizeLabel(s.SizeBytes))
		y += headH
		for _, c := range s.Contenders {
			color := chartColors[c.Key]
			label := chartLabels[c.Key]
			if label == "" {
				label = c.Key
			}
			cy := y + rowH/2
			fmt.Fprintf(&b, `<text x="18" y="%d">%s</text>`+"\n", cy+4, html.EscapeString(label))
			if len(c.Runs) == 0 {
				fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#d62728">failed</text>`+"\n", tpX+4, cy+4)
				y += rowH
				continue
			}
			x1 := xs(tpX, c.MBps.Median, tpMax)
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", tpX, y+3, x1-float64(tpX), rowH-6, color)
			wl, wr := xs(tpX, c.MBps.Min, tpMax), xs(tpX, c.MBps.Max, tpMax)
			fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#000"/>`+"\n", wl, wr, cy, cy)
			fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#000"/><line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#000"/>`+"\n",
				wl, wl, cy-4, cy+4, wr, wr, cy-4, cy+4)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%.0f (%.2f×)</text>`+"\n", wr+5, cy+4, c.MBps.Median, c.RatioToLimit)
			if len(c.PeakMemoryMiB.Runs) == 0 {
				fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#777">n/a (not in a browser)</text>`+"\n", memX+4, cy+4)
			} else {
				m1 := xs(memX, c.PeakMemoryMiB.Median, memMax)
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", memX, y+3, m1-float64(memX), rowH-6, color)
				fmt.Fprintf(&b, `<text x="%.1f" y="%d">%.1f</text>`+"\n", m1+5, cy+4, c.PeakMemoryMiB.Median)
			}
			y += rowH
		}
	}
	axis := func(x0 int, ticks []float64, vmax float64) {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#000"/>`+"\n", x0, x0+panelW, y+4, y+4)
		for _, t := range ticks {
			x := xs(x0, t, vmax)
			fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#ccc" stroke-dasharray="2,3"/>`+"\n", x, x, top, y+4)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%g</text>`+"\n", x, y+20, t)
		}
	}
	axis(tpX, tpTicks, tpMax)
	axis(memX, memTicks, memMax)
	fmt.Fprintf(&b, `<text x="10" y="%d" fill="#555">Ratios are to the limit's median throughput. Memory: CDP Runtime.getHeapUsage (V8 heap + ArrayBuffer backing stores)</text>`+"\n", height-26)
	fmt.Fprintf(&b, `<text x="10" y="%d" fill="#555">of the page and of the engine's worker, plus the engine's wasm linear memory; peak of samples every 100 ms, median over the runs.</text>`+"\n", height-10)
	b.WriteString("</svg>\n")
	return b.String()
}

// niceTicks returns 4-6 round tick values from 0 and the axis maximum.
func niceTicks(vmax float64) ([]float64, float64) {
	if vmax <= 0 {
		return []float64{0, 1}, 1
	}
	raw := vmax / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	top := math.Ceil(vmax*1.15/step) * step
	var ticks []float64
	for t := 0.0; t <= top+step/2; t += step {
		ticks = append(ticks, t)
	}
	return ticks, top
}
