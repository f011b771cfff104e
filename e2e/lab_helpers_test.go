package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
)

// labJS installs window.lab in a page of the backend's origin: uploaders
// of the page module made by the test (besides the demo's own), Files made
// in the page, and what every handle did. Files are made once per name, so
// uploading the same name again gives the same File (same identity, same
// checkpoint).
const labJS = `(async () => {
  if (window.lab) return true;
  const lab = window.lab = { ups: [], h: {}, ev: {}, res: {}, err: {}, files: {} };
  lab.mod = await import('/ossup.js');
  lab.make = (opts) => { lab.ups.push(lab.mod.createUploader(opts || {})); return lab.ups.length - 1; };
  lab.file = (name, n) => lab.files[name] || (lab.files[name] = (() => {
    const b = new Uint8Array(n);
    let x = (n ^ 0x9e3779b9) | 0;
    for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; b[i] = x & 255; }
    return new File([b], name, { type: 'application/octet-stream', lastModified: 1700000000000 });
  })());
  lab.track = (key, h) => {
    lab.h[key] = h;
    const ev = lab.ev[key] = [];
    for (const type of ['state', 'progress', 'retry', 'error', 'done', 'warning']) {
      h.addEventListener(type, (e) => {
        const d = e.detail || {};
        ev.push({ type, state: h.state, t: performance.now(), code: d.code || (d.error && d.error.code) || '',
          message: d.message || (d.error && d.error.message) || '',
          confirmed: h.progress.bytesConfirmed, total: h.progress.total });
      });
    }
    h.done.then((r) => { lab.res[key] = r; }, (e) => { lab.err[key] = { code: e.code || '', message: e.message, t: performance.now() }; });
    return key;
  };
  lab.upload = (u, key, name, n) => lab.track(key, lab.ups[u].upload(lab.file(name, n)));
  lab.state = (key, last) => JSON.stringify({ state: lab.h[key] && lab.h[key].state, res: lab.res[key] || null, err: lab.err[key] || null,
    progress: lab.h[key] && lab.h[key].progress, events: (lab.ev[key] || []).filter((e, i, a) => !last || e.type !== 'progress' || i === a.length - 1) });
  return true;
})()`

// labFile is the content lab.file(name, n) gives: xorshift32 seeded by n.
func labFile(n int) []byte {
	b := make([]byte, n)
	x := uint32(n) ^ 0x9e3779b9
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// labEvent is one event a lab handle dispatched.
type labEvent struct {
	Type, State, Code, Message string
	T                          float64
	Confirmed, Total           *float64
}

// labState is what a lab handle did so far.
type labState struct {
	State string
	Res   *pageResult
	Err   *struct {
		Code, Message string
		T             float64
	}
	Progress map[string]any
	Events   []labEvent
}

// openLab opens the demo page of base in a new browser of engine e and
// installs the lab.
func openLab(t testing.TB, e browser.Engine, base string, opts browser.Options) *tab {
	t.Helper()
	pg := openDemoWith(t, e, base, opts)
	installLab(pg, t)
	return pg
}

func installLab(pg *tab, t testing.TB) {
	t.Helper()
	if _, err := evalAs[bool](pg, labJS); err != nil {
		t.Fatalf("install the lab: %v", err)
	}
}

// labEval evaluates js in the lab page and fails the test on an error.
func labEval[T any](pg *tab, t testing.TB, js string) T {
	t.Helper()
	v, err := evalAs[T](pg, js)
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// labWait polls until handle key is in one of the given states (any
// final one if none given) and returns what it did.
func labWait(pg *tab, t testing.TB, key string, timeout time.Duration, states ...string) labState {
	t.Helper()
	if len(states) == 0 {
		states = []string{"done", "failed", "canceled"}
	}
	want, _ := json.Marshal(states)
	raw, err := pollAs[string](pg, `(h => h && `+string(want)+`.includes(h.state) && (h.state !== 'done' || lab.res[`+strconv.Quote(key)+`]) ? lab.state(`+strconv.Quote(key)+`) : null)(window.lab.h[`+strconv.Quote(key)+`])`, timeout)
	if err != nil {
		st, _ := evalAs[string](pg, `window.lab.state(`+strconv.Quote(key)+`, true)`)
		t.Fatalf("upload %s never reached %v: %v; it did %s", key, states, err, st)
	}
	return labDecode(t, raw)
}

func labNow(pg *tab, t testing.TB, key string) labState {
	t.Helper()
	return labDecode(t, labEval[string](pg, t, `window.lab.state(`+strconv.Quote(key)+`)`))
}

func labDecode(t testing.TB, raw string) labState {
	t.Helper()
	var s labState
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return s
}

// webWith is a copy of the built web files plus extra files (name to
// content), for a backend that serves test-only scripts next to the real
// ones.
func webWith(t testing.TB, extra map[string]string) string {
	t.Helper()
	src := builtWeb(t)
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range extra {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// faultWorkerJS is a worker that runs the real glue (ossup-worker.js, with
// the same query) after arming JS exceptions the test switches on by
// message: {type: 'test.throw', faults: {setRequestHeader: 1, open: 1,
// slice: 1}} makes the next call of each throw once, as a browser does
// for a header value, a URL or a blob it refuses. {type: 'test.crash',
// how: 'throw'} throws an exception nothing catches; how: 'exit' ends the
// Go program's run as the runtime's exit does (wasm_exec.js: exited, and
// the run promise resolves).
const faultWorkerJS = `'use strict';
const faults = {};
const take = (name) => faults[name] > 0 && (faults[name]--, true);
const real = { setRequestHeader: XMLHttpRequest.prototype.setRequestHeader, open: XMLHttpRequest.prototype.open, slice: Blob.prototype.slice };
XMLHttpRequest.prototype.setRequestHeader = function (...a) { if (take('setRequestHeader')) throw new DOMException('injected: invalid header value', 'SyntaxError'); return real.setRequestHeader.apply(this, a); };
XMLHttpRequest.prototype.open = function (...a) { if (take('open')) throw new DOMException('injected: invalid URL', 'SyntaxError'); return real.open.apply(this, a); };
Blob.prototype.slice = function (...a) { if (take('slice')) throw new TypeError('injected: slice refused'); return real.slice.apply(this, a); };
self.addEventListener('message', (e) => {
  const m = e.data || {};
  if (m.type === 'test.throw') { Object.assign(faults, m.faults); e.stopImmediatePropagation(); }
  if (m.type === 'test.crash') {
    e.stopImmediatePropagation();
    if (m.how === 'throw') setTimeout(() => { throw new Error('injected uncaught exception'); });
    if (m.how === 'exit') { self.testGo.exited = true; self.testGo._resolveExitPromise(); }
  }
});
importScripts('/ossup-worker.js' + self.location.search);
// The glue calls run after the engine is fetched, so this wrapper is in
// place by then.
const run = Go.prototype.run;
Go.prototype.run = function (inst) { self.testGo = this; return run.call(this, inst); };
`

// String is the state without its progress events, for messages.
func (s labState) String() string {
	var evs []string
	for _, ev := range s.Events {
		if ev.Type != "progress" {
			evs = append(evs, ev.Type+":"+ev.State+":"+ev.Code)
		}
	}
	return fmt.Sprintf("state %s, error %+v, events %v", s.State, s.Err, evs)
}
