//go:build js && wasm

// Command wasm is the browser upload engine, compiled to WebAssembly and run
// inside a dedicated Web Worker (web/ossup-worker.js). It binds
// internal/engine to the browser: Files as Blob-slice sources, XHR as the
// transport, IndexedDB for checkpoints and Web Locks so that two tabs never
// drive one upload. The worker glue calls the functions of
// self.ossupEngine; the engine reports through self.ossupEmit(id, event).
package main

import (
	"context"
	"sync"
	"syscall/js"
	"time"

	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/engine"
)

// version is reported to the page so it can tell which engine it loaded.
const version = "0.2.0-dev"

type app struct {
	mu      sync.Mutex
	eng     *engine.Engine
	store   checkpoint.Store
	uploads map[string]*engine.Upload
	global  js.Value
}

func main() {
	a := &app{uploads: map[string]*engine.Upload{}, global: js.Global()}
	a.store = checkpoint.NewKVStore(idbKV{api: a.global.Get("ossupKV")})
	api := js.Global().Get("Object").New()
	api.Set("version", version)
	api.Set("configure", js.FuncOf(a.configure))
	api.Set("start", js.FuncOf(a.start))
	api.Set("pause", js.FuncOf(a.control(func(u *engine.Upload) { u.Pause() })))
	api.Set("resume", js.FuncOf(a.control(func(u *engine.Upload) { u.Resume() })))
	api.Set("cancel", js.FuncOf(a.cancel))
	api.Set("pending", js.FuncOf(a.pending))
	js.Global().Set("ossupEngine", api)
	js.Global().Set("ossupEngineVersion", version)
	select {}
}

// configure({backend, headers, concurrency, maxBytesInFlight}) sets up the
// engine; the glue calls it once before any start.
func (a *app) configure(_ js.Value, args []js.Value) any {
	o := arg0(args)
	t := &xhrTransport{}
	b := &engine.Backend{BaseURL: o.Get("backend").String(), T: t, Header: map[string][]string{},
		Credentials: o.Get("withCredentials").Truthy()}
	if h := o.Get("headers"); h.Type() == js.TypeObject {
		keys := js.Global().Get("Object").Call("keys", h)
		for i := 0; i < keys.Length(); i++ {
			k := keys.Index(i).String()
			b.Header.Set(k, h.Get(k).String())
		}
	}
	opts := engine.Options{Store: a.store, WaitOnline: a.waitOnline, InUse: a.inUse}
	if v := o.Get("concurrency"); v.Type() == js.TypeNumber {
		opts.Concurrency = v.Int()
	}
	if v := o.Get("maxBytesInFlight"); v.Type() == js.TypeNumber {
		opts.MaxBytesInFlight = int64(v.Float())
	}
	a.mu.Lock()
	a.eng = engine.New(t, b, opts)
	a.mu.Unlock()
	return nil
}

// inUse reports whether another tab drives the upload with checkpoint id:
// it holds the upload's Web Lock. When unsure, it says yes, the safe side.
func (a *app) inUse(ctx context.Context, id string) bool {
	v, err := await(ctx, a.global.Call("ossupLockHeld", "ossup-upload:"+id))
	return err != nil || v.Truthy()
}

// waitOnline blocks while the browser says it is offline.
func (a *app) waitOnline(ctx context.Context) error {
	nav := a.global.Get("navigator")
	for !nav.Get("onLine").Truthy() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil
}

// start(id, file, handle) begins (or resumes, when a checkpoint matches) an
// upload. It first takes the Web Lock named after the file's identity: a
// second tab asking for the same upload is told so instead of racing the
// first. A FileSystemFileHandle, when the page has one, is kept with the
// checkpoint until the upload ends, so a reload resumes without a re-pick.
func (a *app) start(_ js.Value, args []js.Value) any {
	id, file := args[0].String(), args[1]
	var handle js.Value
	if len(args) > 2 && !args[2].IsNull() && !args[2].IsUndefined() {
		handle = args[2]
	}
	src := newBlobSource(file)
	go func() {
		key := checkpoint.ID(src.Identity())
		lockName := "ossup-upload:" + key
		release, err := await(context.Background(), a.global.Call("ossupLock", lockName))
		if err != nil || release.IsNull() || release.IsUndefined() {
			a.emit(id, map[string]any{"kind": "error", "code": "locked",
				"message": "this upload is being driven by another tab or window"})
			return
		}
		defer release.Invoke()
		a.mu.Lock()
		eng := a.eng
		a.mu.Unlock()
		if eng == nil {
			a.emit(id, map[string]any{"kind": "error", "code": "not_configured", "message": "configure the engine first"})
			return
		}
		handles := a.global.Get("ossupHandles")
		if handle.Truthy() {
			if _, err := await(context.Background(), handles.Call("put", key, handle)); err != nil {
				// Not fatal: the file can still be re-picked after a reload.
				a.emit(id, map[string]any{"kind": "warning", "message": "could not keep the file handle: " + err.Error()})
			}
		}
		u := eng.Start(context.Background(), src)
		a.mu.Lock()
		a.uploads[id] = u
		a.mu.Unlock()
		var last engine.State
		for ev := range u.Events() {
			last = ev.Progress.State
			a.emit(id, eventJS(ev))
		}
		if last == engine.StateDone || last == engine.StateCanceled {
			_, _ = await(context.Background(), handles.Call("del", key))
		}
		a.mu.Lock()
		delete(a.uploads, id)
		a.mu.Unlock()
	}()
	return nil
}

func (a *app) control(f func(*engine.Upload)) func(js.Value, []js.Value) any {
	return func(_ js.Value, args []js.Value) any {
		a.mu.Lock()
		u := a.uploads[arg0(args).String()]
		a.mu.Unlock()
		if u != nil {
			f(u)
		}
		return nil
	}
}

// cancel(id) stops the upload, aborts it through the backend and removes
// its checkpoint; it returns a promise settled when that is done.
func (a *app) cancel(_ js.Value, args []js.Value) any {
	id := arg0(args).String()
	return promise(func(ctx context.Context) (any, error) {
		a.mu.Lock()
		u := a.uploads[id]
		a.mu.Unlock()
		if u == nil {
			return nil, nil
		}
		return nil, u.Cancel(ctx)
	})
}

// pending() resolves to the resumable uploads in IndexedDB, for a
// "resumable uploads" list after a reload.
func (a *app) pending(js.Value, []js.Value) any {
	return promise(func(ctx context.Context) (any, error) {
		recs, err := engine.Pending(ctx, a.store)
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(recs))
		for _, r := range recs {
			out = append(out, map[string]any{
				"id": checkpoint.ID(r.File), "name": r.File.Name, "size": float64(r.File.Size), "type": r.File.Type,
				"lastModified": float64(r.File.LastModified), "key": r.Key,
				"bytesDone": float64(r.Done()), "updated": r.Updated.UnixMilli(),
			})
		}
		return out, nil
	})
}

// promise runs f on a goroutine and returns a JS Promise of its result.
func promise(f func(ctx context.Context) (any, error)) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			defer executor.Release()
			v, err := f(context.Background())
			if err != nil {
				reject.Invoke(js.Global().Get("Error").New(err.Error()))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	return js.Global().Get("Promise").New(executor)
}

func (a *app) emit(id string, ev map[string]any) {
	a.global.Call("ossupEmit", id, ev)
}
