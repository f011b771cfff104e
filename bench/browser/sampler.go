package main

import (
	"context"
	"sync"
	"time"

	"github.com/chromedp/cdproto/runtime"
)

// sampleEvery is the memory sampling period.
const sampleEvery = 100 * time.Millisecond

// memPeak is the peak memory of one run, in bytes, each figure the largest
// of its samples. Total is the largest sum in one sample, so it is at most
// the sum of the separate peaks.
type memPeak struct {
	PageHeap      float64 `json:"pageHeap"`      // V8 heap in use on the page
	PageBuffers   float64 `json:"pageBuffers"`   // ArrayBuffer backing stores on the page
	WorkerHeap    float64 `json:"workerHeap"`    // the same in the engine's worker
	WorkerBuffers float64 `json:"workerBuffers"` // (file bytes read for CRC-64 live here until collected)
	Wasm          float64 `json:"wasm"`          // the engine's WebAssembly linear memory
	Total         float64 `json:"total"`         // page + worker + wasm
	RendererRSS   float64 `json:"rendererRSS"`   // resident memory of the renderer processes
	Samples       int     `json:"samples"`
	// AfterGC is Total once the run is over and a garbage collection was
	// forced on the page and the worker: what the contender still holds.
	AfterGC float64 `json:"afterGC"`
}

// memTarget is what the sampler reads: the page, and for ours the engine's
// worker with a handle on its wasm memory (Chromium; with no page, only
// the content processes' resident memory is sampled).
type memTarget struct {
	page, worker context.Context
	wasm         runtime.RemoteObjectID
}

// sample takes one sample; ok is false when the page did not answer.
func (m memTarget) sample() (s memPeak, ok bool) {
	// Each CDP call gets a bound, so a stuck page cannot stall the run's end.
	if m.page == nil {
		// Not Chromium: no heap figures, the content processes' RSS only.
		s.RendererRSS = float64(rendererRSS(browserProcs()))
		return s, true
	}
	pctx, pcancel := context.WithTimeout(m.page, 2*time.Second)
	defer pcancel()
	if u, b, err := heapUsage(pctx); err == nil {
		s.PageHeap, s.PageBuffers, ok = u, b, true
	}
	if m.worker != nil {
		wctx, wcancel := context.WithTimeout(m.worker, 2*time.Second)
		defer wcancel()
		if u, b, err := heapUsage(wctx); err == nil {
			s.WorkerHeap, s.WorkerBuffers, ok = u, b, true
		}
		if m.wasm != "" {
			if n, err := wasmBytes(wctx, m.wasm); err == nil {
				s.Wasm = n
			}
		}
	}
	s.RendererRSS = float64(rendererRSS(browserProcs()))
	s.Total = s.PageHeap + s.PageBuffers + s.WorkerHeap + s.WorkerBuffers + s.Wasm
	return s, ok
}

// collect forces a full garbage collection on the page and the worker, so
// that a run starts without the previous page's garbage (the renderer
// process, and so the V8 isolate, is reused across navigations).
func (m memTarget) collect() error {
	if m.page == nil {
		return nil
	}
	if err := collectGarbage(m.page); err != nil {
		return err
	}
	if m.worker != nil {
		return collectGarbage(m.worker)
	}
	return nil
}

// sampler samples a memTarget every sampleEvery until stop.
type sampler struct {
	stop func() memPeak
}

func startSampler(m memTarget) *sampler {
	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu   sync.Mutex
		peak memPeak
		wg   sync.WaitGroup
	)
	one := func() {
		s, ok := m.sample()
		if !ok {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		peak.Samples++
		peak.PageHeap = max(peak.PageHeap, s.PageHeap)
		peak.PageBuffers = max(peak.PageBuffers, s.PageBuffers)
		peak.WorkerHeap = max(peak.WorkerHeap, s.WorkerHeap)
		peak.WorkerBuffers = max(peak.WorkerBuffers, s.WorkerBuffers)
		peak.Wasm = max(peak.Wasm, s.Wasm)
		peak.Total = max(peak.Total, s.Total)
		peak.RendererRSS = max(peak.RendererRSS, s.RendererRSS)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			one()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return &sampler{stop: func() memPeak {
		cancel()
		wg.Wait()
		one() // the state at the end counts too
		mu.Lock()
		defer mu.Unlock()
		return peak
	}}
}
