package browser

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"

	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testPage has a file input, logs an error at load and starts a worker
// that answers fetch results, so every method of Page has something to
// act on.
const testPage = `<!doctype html><meta charset="utf-8"><title>driver test</title>
<input type="file" id="f" multiple>
<p id="out">loaded</p>
<x-host></x-host>
<script>
window.shadowPicked = [];
const sr = document.querySelector('x-host').attachShadow({ mode: 'open' });
sr.innerHTML = '<input type="file" class="in">';
sr.querySelector('input').addEventListener('change', (e) => { for (const f of e.target.files) window.shadowPicked.push(f.name); });
console.error('boom at load ' + location.search);
window.picked = [];
document.getElementById('f').addEventListener('change', async (e) => {
  for (const f of e.target.files) window.picked.push({ name: f.name, size: f.size, text: await f.text() });
});
window.work = new Worker('/worker.js');
window.ask = (url) => new Promise((resolve) => {
  window.work.onmessage = (e) => resolve(e.data);
  window.work.postMessage(url);
});
</script>`

const testWorker = `onmessage = async (e) => {
  try { const r = await fetch(e.data, { cache: 'no-store' }); postMessage({ status: r.status, body: await r.text(), online: navigator.onLine }); }
  catch (err) { postMessage({ error: String(err), online: navigator.onLine }); }
};`

func engines(t *testing.T) []Engine {
	es, err := ParseEngines(os.Getenv("OSSUP_BROWSERS"))
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestDriver drives each engine through every method of Browser and Page.
func TestDriver(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			testDriver(t, e)
		})
	}
}

func testDriver(t *testing.T, e Engine) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, testPage)
	})
	mux.HandleFunc("/worker.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		io.WriteString(w, testWorker)
	})
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b, err := Launch(ctx, e, Options{NetworkSwitch: true})
	if err != nil {
		t.Fatal(err)
	}
	pids := b.PIDs()
	defer func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
		for _, pid := range pids {
			if err := syscall.Kill(-pid, 0); err == nil {
				t.Errorf("process group %d still has processes after Close", pid)
			}
		}
	}()
	t.Logf("%s: %s (installed: %s)", e, b.Version(), InstalledVersion(e))
	if b.Engine() != e || !strings.Contains(strings.ToLower(b.Version()), map[Engine]string{Chromium: "chrom", Firefox: "firefox", WebKit: "webkit"}[e]) {
		t.Errorf("engine %s, version %q", b.Engine(), b.Version())
	}
	if len(pids) == 0 {
		t.Error("no process groups")
	}
	p := b.Page()
	if err := p.Navigate(ctx, srv.URL+"/?first"); err != nil {
		t.Fatal(err)
	}

	var n int
	if err := p.Eval(ctx, `6 * 7`, &n); err != nil || n != 42 {
		t.Errorf("eval: %d, %v", n, err)
	}
	var obj struct{ A []int }
	if err := p.Eval(ctx, `new Promise(r => setTimeout(() => r({ a: [1, 2] }), 50)).then(v => ({ A: v.a }))`, &obj); err != nil || len(obj.A) != 2 {
		t.Errorf("eval of a promise: %+v, %v", obj, err)
	}
	if err := p.Eval(ctx, `undefined`, nil); err != nil {
		t.Errorf("eval of undefined: %v", err)
	}
	if err := p.Eval(ctx, `(() => { throw new TypeError('nope') })()`, nil); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("an exception in the page: %v", err)
	}
	if err := p.Eval(ctx, `Promise.reject(new Error('rejected'))`, nil); err == nil || !strings.Contains(err.Error(), "rejected") {
		t.Errorf("a rejected promise: %v", err)
	}
	var late string
	if err := p.Eval(ctx, `(setTimeout(() => { window.late = 'now' }, 300), true)`, nil); err != nil {
		t.Fatal(err)
	}
	if err := Poll(ctx, p, `window.late || null`, 10*time.Second, &late); err != nil || late != "now" {
		t.Errorf("poll: %q, %v", late, err)
	}
	if err := Poll(ctx, p, `false`, 300*time.Millisecond, nil); err == nil {
		t.Error("poll of false succeeded")
	}

	dir := t.TempDir()
	var paths []string
	for i, content := range []string{"first file", "second"} {
		path := filepath.Join(dir, fmt.Sprintf("f%d.txt", i))
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	if err := p.SetFiles(ctx, "#f", paths...); err != nil {
		t.Fatal(err)
	}
	var picked []struct {
		Name, Text string
		Size       int
	}
	if err := Poll(ctx, p, `window.picked.length === 2 && window.picked`, 10*time.Second, &picked); err != nil {
		t.Fatalf("the page did not get the files: %v", err)
	}
	if picked[0].Name != "f0.txt" || picked[0].Text != "first file" || picked[1].Size != 6 {
		t.Errorf("picked %+v", picked)
	}
	if err := p.SetFiles(ctx, "#nothing", paths[0]); err == nil {
		t.Error("set files on a missing element succeeded")
	}
	// An input in an open shadow root, as in a custom element.
	if err := p.SetFiles(ctx, "x-host >>> input.in", paths[1]); e == WebKit {
		if err == nil {
			t.Error("WebKit accepted a shadow-root selector it cannot follow")
		}
	} else if err != nil {
		t.Errorf("set files in a shadow root: %v", err)
	} else {
		var names []string
		if err := Poll(ctx, p, `window.shadowPicked.length && window.shadowPicked`, 10*time.Second, &names); err != nil || len(names) != 1 || names[0] != "f1.txt" {
			t.Errorf("the shadow input got %v (%v)", names, err)
		}
	}
	if err := p.SetFiles(ctx, "x-host >>> input.none", paths[0]); err == nil {
		t.Error("set files on a missing shadow element succeeded")
	}

	png, err := p.Screenshot(ctx)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("screenshot: %d bytes, %v", len(png), err)
	}

	// A worker's fetch, then the same cut off, then back.
	type answer struct {
		Status int
		Body   string
		Error  string
		Online bool
	}
	var a answer
	if err := p.Eval(ctx, `ask('/hello')`, &a); err != nil || a.Body != "hello" {
		t.Fatalf("worker fetch: %+v, %v", a, err)
	}
	if err := p.SetOffline(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := p.Eval(ctx, `ask('/hello')`, &a); err != nil || a.Error == "" {
		t.Errorf("worker fetch while offline: %+v, %v", a, err)
	}
	t.Logf("offline: %+v", a)
	if e != WebKit && a.Online {
		t.Errorf("navigator.onLine in the worker is true while offline")
	}
	if err := p.SetOffline(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := p.Eval(ctx, `ask('/hello')`, &a); err != nil || a.Body != "hello" || !a.Online {
		t.Errorf("worker fetch after going online: %+v, %v", a, err)
	}

	if err := p.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	var picks int
	if err := p.Eval(ctx, `window.picked.length`, &picks); err != nil || picks != 0 {
		t.Errorf("after reload: %d picks, %v", picks, err)
	}

	second, err := b.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Navigate(ctx, srv.URL+"/?second"); err != nil {
		t.Fatal(err)
	}
	var search string
	if err := second.Eval(ctx, `location.search`, &search); err != nil || search != "?second" {
		t.Errorf("second page: %q, %v", search, err)
	}
	if err := p.Eval(ctx, `location.search`, &search); err != nil || search != "?first" {
		t.Errorf("first page after the second opened: %q, %v", search, err)
	}
	if png, err := second.Screenshot(ctx); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("screenshot of the second page: %d bytes, %v", len(png), err)
	}
	if err := second.Close(ctx); err != nil {
		t.Errorf("close the second page: %v", err)
	}
	if err := p.Eval(ctx, `location.search`, &search); err != nil || search != "?first" {
		t.Errorf("first page after the second closed: %q, %v", search, err)
	}

	if err := p.Eval(ctx, `(setTimeout(() => console.error('boom later'), 0), setTimeout(() => { throw new RangeError('thrown later') }, 0), true)`, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	errs := strings.Join(p.Errors(), "\n")
	t.Logf("errors: %q", errs)
	want := []string{"boom later", "thrown later"}
	if e != WebKit {
		// WebKit's in-page hook starts after the load event.
		want = append(want, "boom at load ?first")
	}
	for _, w := range want {
		if !strings.Contains(errs, w) {
			t.Errorf("%q is not among the page's errors", w)
		}
	}
}

// TestOutsideTrafficGoesToTheProxy: a request for anything but loopback
// goes to OutsideProxy (a closed port by default), never to a network,
// while loopback is reached directly.
func TestOutsideTrafficGoesToTheProxy(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var seen []string
			rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.Method+" "+r.URL.String())
				mu.Unlock()
				http.Error(w, "recorded", http.StatusBadGateway)
			}))
			defer rec.Close()
			page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "<!doctype html><p>direct</p>")
			}))
			defer page.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			b, err := Launch(ctx, e, Options{OutsideProxy: rec.Listener.Addr().String()})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			p := b.Page()
			if err := p.Navigate(ctx, page.URL+"/"); err != nil {
				t.Fatal(err)
			}
			// .invalid never resolves anywhere (RFC 6761): only a proxy
			// can answer it.
			var status int
			err = p.Eval(ctx, `fetch('http://ossup-outside.invalid/probe', { mode: 'no-cors' }).then(() => 1, () => 0)`, &status)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			t.Logf("proxy saw %q", seen)
			found, direct := false, false
			for _, s := range seen {
				found = found || strings.Contains(s, "ossup-outside.invalid/probe")
				direct = direct || strings.Contains(s, page.Listener.Addr().String())
			}
			if !found {
				t.Errorf("a request for a non-loopback host did not go to the proxy")
			}
			if direct {
				t.Errorf("loopback went through the proxy")
			}
		})
	}
}

// TestHostAliasIsInsecure: a page served under a host alias is reached
// at loopback but is not a secure context (no Web Locks), as a plain-http
// intranet host; the same server by 127.0.0.1 is one.
func TestHostAliasIsInsecure(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "<!doctype html><p>"+r.Host+"</p>")
			}))
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			b, err := Launch(ctx, e, Options{HostAliases: []string{"ossup-intranet.test"}})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			p := b.Page()
			type ctxInfo struct {
				Secure, Locks bool
				Host          string
			}
			const probe = `({ Secure: window.isSecureContext, Locks: !!navigator.locks, Host: document.querySelector('p').textContent })`
			port := srv.Listener.Addr().(*net.TCPAddr).Port
			for _, c := range []struct {
				host   string
				secure bool
			}{{"127.0.0.1", true}, {"ossup-intranet.test", false}} {
				u := fmt.Sprintf("http://%s:%d/", c.host, port)
				if err := p.Navigate(ctx, u); err != nil {
					t.Fatal(err)
				}
				var got ctxInfo
				if err := p.Eval(ctx, probe, &got); err != nil {
					t.Fatal(err)
				}
				t.Logf("%s: %+v", u, got)
				if got.Secure != c.secure || got.Locks != c.secure || !strings.HasPrefix(got.Host, c.host) {
					t.Errorf("%s: %+v, want secure context and Web Locks: %v", u, got, c.secure)
				}
			}
		})
	}
}
