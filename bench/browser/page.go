package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/ossup/ossup/internal/browser"
)

// The Network domain. chromedp v0.23 enables it on every target it attaches
// to (chromedp.go, attachTarget: log.Enable, network.Enable, ...), and with
// it on Chromium sends in-memory request bodies (ali-oss's) about ten times
// slower (see ../shared/docs/platform-findings.md). So every target the
// benchmark talks to gets network.Disable right after it is attached, before
// anything is measured, and nothing here ever enables it again.
func disableNetwork(ctx context.Context) error {
	if _, err := chromedp.Call(ctx, network.Disable, cdp.Empty{}); err != nil {
		return fmt.Errorf("Network.disable: %w", err)
	}
	return nil
}

// watchNetwork counts the DevTools Network events the target sends: with
// the domain off there are none, so any count proves a run was measured
// with it on (see disableNetwork) and must not be reported.
func watchNetwork(ctx context.Context, count *atomic.Int64) error {
	return chromedp.Listen(ctx, func(ev any) {
		if strings.HasPrefix(fmt.Sprintf("%T", ev), "*network.") {
			count.Add(1)
		}
	})
}

type pageKey struct{}

// withPage is ctx carrying the page the helpers below drive: every engine's
// page goes through internal/browser; Chromium's ctx is also chromedp's
// context of the same tab, for what only the DevTools protocol measures.
func withPage(ctx context.Context, p browser.Page) context.Context {
	return context.WithValue(ctx, pageKey{}, p)
}

func pageOf(ctx context.Context) browser.Page {
	p, _ := ctx.Value(pageKey{}).(browser.Page)
	return p
}

// openBench navigates the tab to the benchmark page for one contender and
// waits until it is ready (for ours: the engine loaded in its worker). It
// returns the page's own time from navigation start to ready.
func openBench(ctx context.Context, base, contender, query string) (readyMs float64, err error) {
	u := base + "/bench/bench.html?c=" + contender
	if query != "" {
		u += "&" + query
	}
	if err := pageOf(ctx).Navigate(ctx, u); err != nil {
		return 0, fmt.Errorf("open %s: %w", u, err)
	}
	return waitReady(ctx)
}

// waitReady polls window.bench until the page is ready or reports an error.
// It tolerates the page navigating meanwhile (a reload).
func waitReady(ctx context.Context) (float64, error) {
	var r struct {
		Error   string
		ReadyMs float64
	}
	err := browser.Poll(ctx, pageOf(ctx), `(b => !b ? null : b.error ? {error: b.error} : b.ready ? {readyMs: b.readyMs} : null)(window.bench)`,
		time.Until(deadlineOf(ctx)), &r)
	if err != nil {
		return 0, fmt.Errorf("the bench page never got ready: %w", err)
	}
	if r.Error != "" {
		return 0, fmt.Errorf("the bench page failed to start: %s", r.Error)
	}
	return r.ReadyMs, nil
}

// deadlineOf is ctx's deadline, or 10 minutes from now.
func deadlineOf(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(10 * time.Minute)
}

// pick gives the page's file input a file from disk, as a person picking it.
func pick(ctx context.Context, path string) error {
	if err := pageOf(ctx).SetFiles(ctx, "#file", path); err != nil {
		return fmt.Errorf("pick %s: %w", path, err)
	}
	return nil
}

// evalJSON evaluates expr, which yields (a promise of) a JSON string, and
// decodes it into out.
func evalJSON(ctx context.Context, expr string, out any) error {
	var s string
	if err := pageOf(ctx).Eval(ctx, expr, &s); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal([]byte(s), out); err != nil {
		return fmt.Errorf("decode the page's answer %.200q: %w", s, err)
	}
	return nil
}

// cdpEvalJSON is evalJSON on a chromedp target of its own (the engine's
// worker), which no browser.Page stands for.
func cdpEvalJSON(ctx context.Context, expr string, out any) error {
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(s), out); err != nil {
		return fmt.Errorf("decode the target's answer %.200q: %w", s, err)
	}
	return nil
}

// jsArg is v as a JavaScript literal (JSON is one).
func jsArg(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// workerTargets lists the dedicated workers the browser has now. Taken
// before a navigation, it names the workers of the page going away, which
// can stay listed for a moment after the new page's worker appeared.
func workerTargets(ctx context.Context) (map[target.ID]bool, error) {
	infos, err := chromedp.Targets(ctx)
	if err != nil {
		return nil, fmt.Errorf("list targets: %w", err)
	}
	ids := map[target.ID]bool{}
	for _, t := range infos {
		if t.Type == "worker" {
			ids[t.TargetID] = true
		}
	}
	return ids, nil
}

// attachWorker attaches to the page's dedicated worker (our engine's), the
// one worker not in stale, and returns a context for it with the Network
// domain turned off again (and watched, into netEvents). The cancel
// detaches without ending the worker.
func attachWorker(ctx context.Context, stale map[target.ID]bool, netEvents *atomic.Int64) (context.Context, context.CancelFunc, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ids, err := workerTargets(ctx)
		if err != nil {
			return nil, nil, err
		}
		var fresh []target.ID
		for id := range ids {
			if !stale[id] {
				fresh = append(fresh, id)
			}
		}
		if len(fresh) > 1 {
			return nil, nil, fmt.Errorf("%d new worker targets; expected the engine's only", len(fresh))
		}
		if len(fresh) == 1 {
			wctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(fresh[0]), chromedp.WithDetachOnCancel())
			if err := disableNetwork(wctx); err != nil {
				cancel()
				return nil, nil, fmt.Errorf("attach to the worker: %w", err)
			}
			if err := watchNetwork(wctx, netEvents); err != nil {
				cancel()
				return nil, nil, err
			}
			return wctx, cancel, nil
		}
		if time.Now().After(deadline) {
			return nil, nil, errors.New("the engine's worker target never appeared")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// heapUsage is Runtime.getHeapUsage of a target: the V8 heap in use and
// the backing stores of its ArrayBuffers (file parts read into memory live
// there, not in the heap).
func heapUsage(ctx context.Context) (used, backing float64, err error) {
	r, err := chromedp.Call(ctx, runtime.GetHeapUsage, cdp.Empty{})
	if err != nil {
		return 0, 0, err
	}
	return r.UsedSize, r.BackingStorageSize, nil
}

// wasmMemories returns a handle on every WebAssembly.Memory alive in the
// target (the Go engine's linear memory), found once by prototype so that
// sampling is a cheap call on the handle.
func wasmMemories(ctx context.Context) (runtime.RemoteObjectID, error) {
	proto, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: "WebAssembly.Memory.prototype", ObjectGroup: "bench"})
	if err != nil {
		return "", err
	}
	if proto.Result == nil || proto.Result.ObjectID == "" {
		return "", errors.New("no WebAssembly.Memory prototype")
	}
	res, err := chromedp.Call(ctx, runtime.QueryObjects, runtime.QueryObjectsParams{PrototypeObjectID: proto.Result.ObjectID, ObjectGroup: "bench"})
	if err != nil {
		return "", err
	}
	if res.Objects == nil || res.Objects.ObjectID == "" {
		return "", errors.New("queryObjects returned nothing")
	}
	return res.Objects.ObjectID, nil
}

// wasmBytes sums the linear memory sizes of the memories behind handle.
func wasmBytes(ctx context.Context, handle runtime.RemoteObjectID) (float64, error) {
	t := true
	r, err := chromedp.Call(ctx, runtime.CallFunctionOn, runtime.CallFunctionOnParams{
		FunctionDeclaration: "function() { return this.reduce((s, m) => s + m.buffer.byteLength, 0); }",
		ObjectID:            handle, ReturnByValue: &t,
	})
	if err != nil {
		return 0, err
	}
	if r.ExceptionDetails != nil {
		return 0, fmt.Errorf("wasm memory size: %s", r.ExceptionDetails.Text)
	}
	var n float64
	if err := json.Unmarshal(r.Result.Value, &n); err != nil {
		return 0, fmt.Errorf("wasm memory size: %w", err)
	}
	return n, nil
}

// collectGarbage forces a full garbage collection in the target.
func collectGarbage(ctx context.Context) error {
	if _, err := chromedp.Call(ctx, heapprofiler.CollectGarbage, cdp.Empty{}); err != nil {
		return fmt.Errorf("HeapProfiler.collectGarbage: %w", err)
	}
	return nil
}
