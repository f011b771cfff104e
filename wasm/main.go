//go:build js && wasm

// Command wasm is the browser upload engine, compiled to WebAssembly and run
// inside a dedicated Web Worker (web/ossup-worker.js). It binds
// internal/engine to the browser: Files as Blob-slice sources, XHR as the
// transport, IndexedDB for checkpoints and Web Locks so that two tabs never
// drive one upload. The worker glue calls the functions of
// self.ossupEngine; the engine reports through self.ossupEmit(id, event).
// web/protocol.json declares both sides of that contract.
package main

import (
	"context"
	"errors"
	"runtime/debug"
	"sync"
	"syscall/js"
	"time"

	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/engine"
	"github.com/ossup/ossup/internal/pageauth"
)

// version is reported to the page so it can tell which engine it loaded.
const version = "0.2.0-dev"

type app struct {
	mu    sync.Mutex
	eng   *engine.Engine
	auth  *pageauth.Transport
	store checkpoint.Store
	// jobs are the uploads the page started, by page id, from the start
	// message on (before the engine has the upload: control messages that
	// arrive in that window are kept on the job, never dropped) until they
	// end.
	jobs map[string]*job
	// byKey is the page id of the job driving each checkpoint id: the same
	// file twice in this uploader is told apart from another tab's lock.
	byKey map[string]string
	// failed keeps the checkpoint id of each failed upload, so cancel()
	// on its handle discards it (aborts the multipart upload, deletes the
	// checkpoint). Only strings: the engine's upload and its File are let go.
	failed map[string]string
	global js.Value
}

// job is one upload the page started.
type job struct {
	id, key string
	mu      sync.Mutex
	u       *engine.Upload
	paused  bool
	cancel  bool
	// isBound: u is set or the job ended without an engine upload
	// (refused by the lock, not a file...). bound is closed then; it is
	// made only for a cancel that must wait (boundChan): 10,000 queued
	// files carry none.
	isBound bool
	bound   chan struct{}
	warned  map[string]bool
}

// markBoundLocked records that the job is bound; j.mu is held.
func (j *job) markBoundLocked() {
	if j.isBound {
		return
	}
	j.isBound = true
	if j.bound != nil {
		close(j.bound)
	}
}

// boundChan is closed once the job is bound.
func (j *job) boundChan() <-chan struct{} {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.bound == nil {
		j.bound = make(chan struct{})
		if j.isBound {
			close(j.bound)
		}
	}
	return j.bound
}

// jobKey is the context key of the page id of the upload a call works for
// (the KV's warnings find their upload by it).
type jobKey struct{}

// gcPercent is the Go heap's GOGC in the worker (main).
const gcPercent = 25

// Deadlines of the waits the page cannot see.
const (
	lockTimeout   = 10 * time.Second
	cancelTimeout = 2 * time.Minute
)

func main() {
	// Wasm linear memory never shrinks, so the heap's high-water mark is
	// what the worker keeps: a heap goal of 1.5× live instead of 2× keeps
	// a burst of queued files (10,000 from a folder drop) within bounds.
	// The cost is small: the live heap is a few MiB, and file reads already
	// force a collection every 32 MiB (blobSource).
	debug.SetGCPercent(gcPercent)
	a := &app{jobs: map[string]*job{}, byKey: map[string]string{}, failed: map[string]string{}, global: js.Global()}
	a.store = checkpoint.NewKVStore(idbKV{api: a.global.Get("ossupKV"), trouble: a.storageTrouble})
	api := js.Global().Get("Object").New()
	api.Set("version", version)
	api.Set("configure", safeFunc("configure", a.configure))
	api.Set("setHeaders", safeFunc("setHeaders", a.setHeaders))
	api.Set("start", safeFunc("start", a.start))
	api.Set("resumeStored", safeFunc("resumeStored", a.resumeStored))
	api.Set("pause", safeFunc("pause", a.control(false)))
	api.Set("resume", safeFunc("resume", a.control(true)))
	api.Set("cancel", safeFunc("cancel", a.cancel))
	api.Set("discard", safeFunc("discard", a.discard))
	api.Set("pending", safeFunc("pending", a.pending))
	js.Global().Set("ossupEngine", api)
	js.Global().Set("ossupEngineVersion", version)
	select {}
}

// configure({backend, headers, concurrency, maxBytesInFlight,
// patienceSeconds}) sets up the engine; the glue calls it once before any
// start. Backend calls go through a pageauth.Transport: the page settles
// their credentials mode and where their headers come from with setHeaders.
func (a *app) configure(_ js.Value, args []js.Value) any {
	o := arg0(args)
	t := &xhrTransport{}
	// The engine runs on the backend's clock, learnt from the serverTime of
	// its answers (see pageauth.Clock). clockOffsetMs is a test hook: a
	// browser clock that far off.
	clk := &pageauth.Clock{Base: shiftedClock(0)}
	if v := o.Get("clockOffsetMs"); v.Type() == js.TypeNumber {
		clk.Base = shiftedClock(time.Duration(v.Float() * float64(time.Millisecond)))
	}
	auth := &pageauth.Transport{Next: t, Ask: a.askHeaders, OnServerTime: clk.Learn}
	b := &engine.Backend{BaseURL: o.Get("backend").String(), T: auth, Header: headerFromJS(o.Get("headers"))}
	opts := engine.Options{Store: a.store, WaitOnline: a.waitOnline, InUse: a.inUse, Lock: a.engineLock,
		EarlierVersions: a.earlierVersions, OnEvent: a.onEvent, Routes: engine.KVRoutes(idbKV{api: a.global.Get("ossupKV")})}
	opts.Clock = clk
	if v := o.Get("concurrency"); v.Type() == js.TypeNumber {
		opts.Concurrency = v.Int()
	}
	if v := o.Get("maxBytesInFlight"); v.Type() == js.TypeNumber {
		opts.MaxBytesInFlight = int64(v.Float())
	}
	if v := o.Get("patienceSeconds"); v.Type() == js.TypeNumber && v.Float() > 0 {
		opts.Patience = time.Duration(v.Float() * float64(time.Second))
	}
	a.mu.Lock()
	a.eng, a.auth = engine.New(t, b, opts), auth
	a.mu.Unlock()
	return nil
}

// setHeaders({headers, credentials, ask}): headers (when an object)
// replace the backend calls' headers and wake the uploads waiting in state
// unauthenticated; credentials and ask (when booleans) settle whether
// backend calls carry cookies and whether the page is asked for headers
// before each one (its headers function).
func (a *app) setHeaders(_ js.Value, args []js.Value) any {
	o := arg0(args)
	a.mu.Lock()
	eng, auth := a.eng, a.auth
	a.mu.Unlock()
	if eng == nil {
		return nil
	}
	if c, k := o.Get("credentials"), o.Get("ask"); c.Type() == js.TypeBoolean && k.Type() == js.TypeBoolean {
		auth.Set(c.Bool(), k.Bool())
	}
	if h := o.Get("headers"); h.Type() == js.TypeObject && !h.IsNull() {
		eng.SetHeaders(headerFromJS(h))
	}
	return nil
}

// askHeaders asks the page for its headers function's answer (within
// 30 s: a page that never answers must not hold a backend call).
func (a *app) askHeaders(ctx context.Context, after401 bool) (engine.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := awaitCall(ctx, a.global, "ossupAskHeaders", after401)
	if err != nil {
		return nil, err
	}
	return headerFromJS(v), nil
}

// shiftedClock is the system clock moved by a fixed duration.
type shiftedClock time.Duration

func (s shiftedClock) Now() time.Time                         { return time.Now().Add(time.Duration(s)) }
func (s shiftedClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// headerFromJS reads a plain object of string values.
func headerFromJS(h js.Value) engine.Header {
	out := engine.Header{}
	if h.Type() != js.TypeObject || h.IsNull() {
		return out
	}
	keys := js.Global().Get("Object").Call("keys", h)
	for i := 0; i < keys.Length(); i++ {
		k := keys.Index(i).String()
		out.Set(k, h.Get(k).String())
	}
	return out
}

// locksAvailable reports whether the browser has Web Locks: not in
// insecure contexts (plain-http intranet hosts) nor Safari before 15.4.
func (a *app) locksAvailable() bool { return a.global.Get("ossupLocksAvailable").Truthy() }

// inUse reports whether another tab drives the upload with checkpoint id:
// it holds the upload's Web Lock. When unsure (no Web Locks, an error), it
// says yes, the safe side.
func (a *app) inUse(ctx context.Context, id string) bool {
	if !a.locksAvailable() {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, lockTimeout)
	defer cancel()
	v, err := awaitCall(ctx, a.global, "ossupLockHeld", lockName(id))
	return err != nil || v.Truthy()
}

// earlierVersions is the engine's Options.EarlierVersions: the checkpoints
// whose kept file handle is the same entry as the one kept for key (the
// only proof a browser gives that a file was edited, not another file of
// the same name). Any failure proves nothing.
func (a *app) earlierVersions(ctx context.Context, key string) []string {
	ctx, cancel := context.WithTimeout(ctx, lockTimeout)
	defer cancel()
	v, err := awaitCall(ctx, a.global, "ossupEarlierVersions", key)
	if err != nil || v.Type() != js.TypeObject {
		return nil
	}
	var out []string
	for i := 0; i < v.Length(); i++ {
		if s := v.Index(i); s.Type() == js.TypeString {
			out = append(out, s.String())
		}
	}
	return out
}

func lockName(key string) string { return "ossup-upload:" + key }

// lock takes the Web Lock of checkpoint key for this tab. release is nil
// without Web Locks (the caller warns); errLocked means another tab holds
// it.
func (a *app) lock(key string) (release func(), err error) {
	if !a.locksAvailable() {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), lockTimeout)
	defer cancel()
	rel, err := awaitCall(ctx, a.global, "ossupLock", lockName(key))
	if err != nil {
		return nil, coded("locked", "could not take the upload's Web Lock: %w", err)
	}
	if rel.Type() != js.TypeFunction {
		return nil, errLocked
	}
	return func() { _, _ = call(rel, "call") }, nil
}

var errLocked = coded("locked", "this upload is being driven by another tab or window")

// engineLock is the engine's Options.Lock: the upload's Web Lock, taken
// when it gets a slot (queued uploads hold none).
func (a *app) engineLock(_ context.Context, key string) (func(), error) {
	release, err := a.lock(key)
	switch {
	case err != nil && errors.Is(err, errLocked):
		return nil, engine.ErrLocked
	case err != nil:
		return nil, err
	case release == nil:
		return nil, engine.ErrNoLocks
	}
	return release, nil
}

// waitOnline blocks while the browser says it is offline.
func (a *app) waitOnline(ctx context.Context) error {
	for {
		on, err := a.onLine()
		if err != nil || on {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (a *app) onLine() (on bool, err error) {
	defer recoverJS("navigator.onLine", &err)
	return a.global.Get("navigator").Get("onLine").Truthy(), nil
}

// start(id, file, handle, options) begins (or resumes, when a checkpoint matches) an
// upload. The page id is bound at once, so pause, resume and cancel sent
// right after start are applied, whenever the engine gets the upload. It
// then takes the Web Lock named after the file's identity: a second tab
// asking for the same upload is told so instead of racing the first. A
// FileSystemFileHandle, when the page has one, is kept with the checkpoint
// until the upload ends, so a reload resumes without a re-pick.
func (a *app) start(_ js.Value, args []js.Value) any {
	id := arg0(args).String()
	j := &job{id: id}
	var file, handle js.Value
	if len(args) > 1 {
		file = args[1]
	}
	if len(args) > 2 && args[2].Truthy() {
		handle = args[2]
	}
	// The file's path below a picked or dropped folder, which the backend
	// may put in the key; part of the file's identity.
	path := ""
	var meta map[string]string
	if len(args) > 3 && args[3].Type() == js.TypeObject {
		if p := args[3].Get("relativePath"); p.Type() == js.TypeString {
			path = p.String()
		}
		// Application metadata: string values only (ossup.js keeps no
		// others), checked by the backend.
		if m := args[3].Get("meta"); m.Type() == js.TypeObject {
			keys := js.Global().Get("Object").Call("keys", m)
			meta = map[string]string{}
			for i := 0; i < keys.Length(); i++ {
				k := keys.Index(i).String()
				if v := m.Get(k); v.Type() == js.TypeString {
					meta[k] = v.String()
				}
			}
		}
	}
	src, err := newBlobSource(file, path)
	if err == nil {
		src.meta = meta
	}
	a.mu.Lock()
	a.jobs[id] = j
	if err == nil {
		j.key = checkpoint.ID(src.Identity())
		if other, busy := a.byKey[j.key]; busy {
			err = coded("already_uploading", "%s is already uploading in this page (upload %s)", src.Identity().Name, other)
			j.key = ""
		} else {
			a.byKey[j.key] = id
		}
	}
	a.mu.Unlock()
	if err != nil {
		a.end(j, err)
		return nil
	}
	go a.run(j, src, handle)
	return nil
}

// resumeStored(id, key) resumes the pending upload with checkpoint key
// without its file: only a verify-only one (its object stored, the
// backend's verification left), which sends no data; any other fails with
// file_needed.
func (a *app) resumeStored(_ js.Value, args []js.Value) any {
	id := arg0(args).String()
	var key string
	if len(args) > 1 && args[1].Type() == js.TypeString {
		key = args[1].String()
	}
	j := &job{id: id}
	var err error
	a.mu.Lock()
	a.jobs[id] = j
	if other, busy := a.byKey[key]; busy {
		err = coded("already_uploading", "this upload is already running in this page (upload %s)", other)
	} else if key == "" {
		err = coded("file_needed", "no pending upload named: pick the file again")
	} else {
		j.key = key
		a.byKey[key] = id
	}
	a.mu.Unlock()
	if err != nil {
		a.end(j, err)
		return nil
	}
	go a.run(j, nil, js.Undefined())
	return nil
}

// run drives job j to its end. Any panic (a JS exception the safe calls
// missed, a bug) fails this upload alone.
func (a *app) run(j *job, src *blobSource, handle js.Value) {
	// src nil: a verify-only upload resumed without its file (resumeStored).
	var failure error
	defer func() {
		if r := recover(); r != nil {
			failure = jsPanicError("upload", r)
		}
		a.end(j, failure)
	}()
	ctx := context.WithValue(context.Background(), jobKey{}, j.id)
	a.mu.Lock()
	eng := a.eng
	a.mu.Unlock()
	if eng == nil {
		failure = coded("not_configured", "configure the engine first")
		return
	}
	handles := a.global.Get("ossupHandles")
	if handle.Truthy() {
		hctx, cancel := context.WithTimeout(ctx, kvTimeout)
		_, err := awaitCall(hctx, handles, "put", j.key, handle)
		cancel()
		if err != nil {
			// Not fatal: the file can still be re-picked after a reload.
			a.warn(j.id, "handle_not_kept", "could not keep the file handle: "+err.Error())
		}
	}
	j.mu.Lock()
	var u *engine.Upload
	var err error
	if src == nil {
		u, err = eng.ResumeStored(ctx, j.key)
	} else {
		u, err = eng.Start(ctx, src)
	}
	if err != nil {
		j.markBoundLocked()
		j.mu.Unlock()
		failure = err
		return
	}
	j.u = u
	if j.paused {
		u.Pause()
	}
	j.markBoundLocked()
	j.mu.Unlock()
	a.mu.Lock()
	if id := u.ID(); j.key == id && a.byKey[j.key] == j.id {
		// The same id as the engine's, to keep one copy of it per file
		// (80 bytes each).
		delete(a.byKey, j.key)
		j.key = id
		a.byKey[id] = j.id
	}
	a.mu.Unlock()
	// From here on the engine's events (onEvent, from one goroutine of the
	// engine) drive the job to its end: a queued upload holds no goroutine.
	failure = errEmitted
}

// onEvent is the engine's Options.OnEvent: it forwards the event of the
// upload with checkpoint key to the page and, at its final state, ends the
// job. The final event goes out after the bookkeeping, so a cancel() that
// follows it finds the failed upload.
func (a *app) onEvent(key string, ev engine.Event) {
	a.mu.Lock()
	id, ok := a.byKey[key]
	j := a.jobs[id]
	a.mu.Unlock()
	if !ok || j == nil {
		return
	}
	st := ev.Progress.State
	if ev.Kind != engine.EventState || !st.Final() {
		a.emit(j.id, eventJS(ev))
		return
	}
	j.mu.Lock()
	j.u = nil
	j.mu.Unlock()
	a.finish(j, st)
	a.emit(j.id, eventJS(ev))
	if st == engine.StateDone || st == engine.StateCanceled {
		go func() {
			hctx, cancel := context.WithTimeout(context.Background(), kvTimeout)
			defer cancel()
			_, _ = awaitCall(hctx, a.global.Get("ossupHandles"), "del", key)
		}()
	}
}

// errEmitted tells end that the final event went out already.
var errEmitted = errors.New("final event emitted")

// finish forgets job j, which ended in state s; a failed upload's
// checkpoint id is kept for cancel().
func (a *app) finish(j *job, s engine.State) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.jobs[j.id] == j {
		delete(a.jobs, j.id)
	}
	if j.key != "" && a.byKey[j.key] == j.id {
		delete(a.byKey, j.key)
	}
	if s == engine.StateFailed && j.key != "" {
		a.failed[j.id] = j.key
	}
}

// end finishes job j: err (unless errEmitted) fails it before or outside
// the engine.
func (a *app) end(j *job, err error) {
	j.mu.Lock()
	j.markBoundLocked()
	j.mu.Unlock()
	if errors.Is(err, errEmitted) {
		return
	}
	if err == nil {
		err = errors.New("the engine ended the upload without a final state")
	}
	a.finish(j, engine.StateFailed)
	a.emit(j.id, map[string]any{"kind": "error", "state": string(engine.StateFailed), "error": errorJS(err)})
}

// control returns pause (resume false) or resume. Before the engine has
// the upload, the wish is kept on the job and applied when it does.
func (a *app) control(resume bool) func(js.Value, []js.Value) any {
	return func(_ js.Value, args []js.Value) any {
		a.mu.Lock()
		j := a.jobs[arg0(args).String()]
		a.mu.Unlock()
		if j == nil {
			return nil
		}
		j.mu.Lock()
		j.paused = !resume
		u := j.u
		j.mu.Unlock()
		switch {
		case u == nil:
		case resume:
			u.Resume()
		default:
			u.Pause()
		}
		return nil
	}
}

// cancel(id) stops the upload, aborts it through the backend and removes
// its checkpoint; it returns a promise settled when that is done. Sent
// before the engine has the upload, it waits for it; sent after the upload
// failed, it discards what the failure left (the checkpoint, the multipart
// upload). After done it does nothing.
func (a *app) cancel(_ js.Value, args []js.Value) any {
	id := arg0(args).String()
	return promise(func(ctx context.Context) (any, error) {
		ctx, stop := context.WithTimeout(ctx, cancelTimeout)
		defer stop()
		a.mu.Lock()
		j := a.jobs[id]
		key, failed := a.failed[id]
		a.mu.Unlock()
		if j == nil {
			if !failed {
				return nil, nil
			}
			err := a.discardKey(ctx, key)
			if err == nil {
				a.mu.Lock()
				delete(a.failed, id)
				a.mu.Unlock()
			}
			return nil, err
		}
		j.mu.Lock()
		j.cancel = true
		j.mu.Unlock()
		select {
		case <-j.boundChan():
		case <-ctx.Done():
			return nil, coded("timeout", "the upload did not start within %v; cancel again", cancelTimeout)
		}
		j.mu.Lock()
		u := j.u
		j.mu.Unlock()
		if u == nil {
			// Ended before the engine had it (refused by the lock, not a
			// file): a failed one is discarded like any failed upload.
			a.mu.Lock()
			key, failed := a.failed[id]
			a.mu.Unlock()
			if failed {
				return nil, a.discardKey(ctx, key)
			}
			return nil, nil
		}
		return nil, u.Cancel(ctx)
	})
}

// discard(id) abandons the pending upload with checkpoint id: the backend
// aborts its multipart upload and the checkpoint and kept handle are
// deleted. An upload running in this page is refused (cancel its handle),
// and so is one another tab drives.
func (a *app) discard(_ js.Value, args []js.Value) any {
	key := arg0(args).String()
	return promise(func(ctx context.Context) (any, error) {
		ctx, stop := context.WithTimeout(ctx, cancelTimeout)
		defer stop()
		return nil, a.discardKey(ctx, key)
	})
}

func (a *app) discardKey(ctx context.Context, key string) error {
	a.mu.Lock()
	eng := a.eng
	_, busy := a.byKey[key]
	a.mu.Unlock()
	if busy {
		return coded("already_uploading", "this upload is running in this page: cancel its handle instead")
	}
	if eng == nil {
		return coded("not_configured", "configure the engine first")
	}
	release, err := a.lock(key)
	if err != nil {
		return err
	}
	if release != nil {
		defer release()
	}
	if err := eng.Discard(ctx, key); err != nil {
		return err
	}
	_, err = awaitCall(ctx, a.global.Get("ossupHandles"), "del", key)
	return err
}

// pending() resolves to the resumable uploads in IndexedDB, for a
// "resumable uploads" list after a reload.
func (a *app) pending(js.Value, []js.Value) any {
	return promise(func(ctx context.Context) (any, error) {
		a.mu.Lock()
		eng := a.eng
		a.mu.Unlock()
		if eng == nil {
			return []any{}, nil
		}
		recs, err := eng.Pending(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(recs))
		for _, r := range recs {
			if r.Damaged && r.File.Name == "" {
				continue // nothing to show: the janitor reaps what it named
			}
			e := map[string]any{
				"id": r.ID, "name": r.File.Name, "size": float64(r.File.Size), "type": r.File.Type,
				"lastModified": float64(r.File.LastModified), "key": r.Key, "path": r.File.Path,
				"bytesDone": float64(r.BytesDone), "updated": r.Updated.UnixMilli(), "verifyOnly": r.VerifyOnly,
			}
			if r.Damaged {
				// Picking the file again uploads it afresh and aborts the
				// old upload; discarding it aborts it too.
				e["damaged"], e["reason"] = true, r.Reason
			}
			out = append(out, e)
		}
		return out, nil
	})
}

// storageTrouble warns the upload a failing KV call worked for: it goes
// on without resuming.
func (a *app) storageTrouble(ctx context.Context, err error) {
	if id, ok := ctx.Value(jobKey{}).(string); ok {
		a.warn(id, "storage_unavailable", "checkpoints cannot be saved or read, so this upload cannot resume after a reload: "+err.Error())
	}
}

// warn sends upload id a warning event (once per code): something that
// costs a feature, not the upload.
func (a *app) warn(id, code, message string) {
	a.mu.Lock()
	j := a.jobs[id]
	a.mu.Unlock()
	if j == nil {
		return
	}
	j.mu.Lock()
	seen := j.warned[code]
	if j.warned == nil {
		j.warned = map[string]bool{} // made on the first warning: queued jobs carry none
	}
	j.warned[code] = true
	j.mu.Unlock()
	if !seen {
		a.emit(id, map[string]any{"kind": "warning", "warning": map[string]any{"code": code, "message": message}})
	}
}

// promise runs f on a goroutine and returns a JS Promise of its result; a
// panic in f rejects it.
func promise(f func(ctx context.Context) (any, error)) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			defer executor.Release()
			var v any
			var err error
			func() {
				defer recoverJS("engine call", &err)
				v, err = f(context.Background())
			}()
			if err != nil {
				_, _ = call(reject, "call", js.Undefined(), jsErr(err))
				return
			}
			if _, err := call(resolve, "call", js.Undefined(), v); err != nil {
				_, _ = call(reject, "call", js.Undefined(), jsErr(err))
			}
		}()
		return nil
	})
	return js.Global().Get("Promise").New(executor)
}

// emit posts an event to the page; a failure to post is lost with the
// page, so it is not an upload's business.
func (a *app) emit(id string, ev map[string]any) {
	_, _ = call(a.global, "ossupEmit", id, ev)
}
