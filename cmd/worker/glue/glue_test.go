//go:build !js

package glue_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/workertest"
)

// The tests run the glue (worker/glue/worker.mjs) in local workerd around
// testdata/probe, a program that serves through this package.

var probeBuild struct {
	once sync.Once
	dir  string
	err  error
}

func startProbe(t *testing.T, env map[string]string) *workertest.Worker {
	t.Helper()
	root, err := workertest.Root()
	if err != nil {
		t.Fatal(err)
	}
	probeBuild.once.Do(func() {
		if probeBuild.dir, probeBuild.err = os.MkdirTemp("", "ossup-workerglue-"); probeBuild.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		probeBuild.err = workertest.BuildProgram(ctx, "go", root, probeBuild.dir, "./cmd/worker/glue/testdata/probe")
	})
	if probeBuild.err != nil {
		t.Fatal(probeBuild.err)
	}
	bin, err := workertest.Workerd(root)
	if err != nil {
		t.Fatal(err)
	}
	w, err := workertest.Start(bin, probeBuild.dir, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.Close()
		if t.Failed() {
			t.Logf("workerd output:\n%s", w.Output())
		}
	})
	waitUp(t, w)
	return w
}

// waitUp waits for the first answer of /id (Ready wants /healthz).
func waitUp(t *testing.T, w *workertest.Worker) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(w.URL + "/id")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("probe not up: %v\n%s", err, w.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type answer struct {
	status int
	header http.Header
	doc    map[string]any
	raw    string
}

func call(t *testing.T, method, u string, body io.Reader) answer {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Test", "a, b")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	_ = json.Unmarshal(b, &a.doc)
	return a
}

func (a answer) str(k string) string { s, _ := a.doc[k].(string); return s }
func (a answer) num(k string) int    { f, _ := a.doc[k].(float64); return int(f) }

// TestInstanceReused: one instance answers request after request, and a
// binding reaches it.
func TestInstanceReused(t *testing.T) {
	w := startProbe(t, map[string]string{"OSSUP_REGION": "cn-probe"})
	first := call(t, "GET", w.URL+"/id", nil)
	for i := 0; i < 5; i++ {
		a := call(t, "GET", w.URL+"/id", nil)
		if a.status != 200 || a.str("instance") != first.str("instance") || a.num("served") != first.num("served")+i+1 {
			t.Fatalf("request %d: %d %s (first: %s)", i, a.status, a.raw, first.raw)
		}
		if a.str("var") != "cn-probe" {
			t.Fatalf("binding: %s", a.raw)
		}
	}
}

// TestConcurrentRequestsGetTheirOwnInstance: requests that overlap are
// served by different instances, never two at once by one (workerd refuses
// one request's I/O objects to another), at most four instances per
// isolate, and those over four wait for one.
func TestConcurrentRequestsGetTheirOwnInstance(t *testing.T) {
	w := startProbe(t, nil)
	const n = 10
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = call(t, "GET", w.URL+"/id?ms=400", nil)
		}()
	}
	wg.Wait()
	instances := map[string]int{}
	for i, a := range answers {
		if a.status != 200 || a.num("inFlight") != 1 {
			t.Errorf("request %d: %d %s", i, a.status, a.raw)
		}
		instances[a.str("instance")]++
	}
	if len(instances) < 2 || len(instances) > 4 {
		t.Errorf("%d requests at once were served by %d instances, want 2 to 4: %v", n, len(instances), instances)
	}
	if out := w.Output(); strings.Contains(out, "different request") || strings.Contains(out, "Cannot perform I/O") {
		t.Errorf("workerd complained about cross-request I/O:\n%s", out)
	}
}

// TestExitedInstanceReplaced: a program that exits or crashes during a
// request answers 500 with a code, and the next request gets a new
// instance.
func TestExitedInstanceReplaced(t *testing.T) {
	w := startProbe(t, nil)
	for _, path := range []string{"/exit", "/crash"} {
		before := call(t, "GET", w.URL+"/id", nil).str("instance")
		a := call(t, "GET", w.URL+path, nil)
		var e struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal([]byte(a.raw), &e)
		if a.status != 500 || e.Error.Code != "internal" {
			t.Fatalf("%s: %d %s", path, a.status, a.raw)
		}
		after := call(t, "GET", w.URL+"/id", nil)
		if after.status != 200 || after.str("instance") == before || after.num("served") != 1 {
			t.Fatalf("after %s: %d %s (instance before: %s)", path, after.status, after.raw, before)
		}
	}
	if out := w.Output(); !strings.Contains(out, "exited with status 3") || !strings.Contains(out, "probe: crash") {
		t.Errorf("the log does not say why:\n%s", out)
	}
}

// TestRequestAndResponse: what crosses the bridge arrives whole.
func TestRequestAndResponse(t *testing.T) {
	w := startProbe(t, nil)
	a := call(t, "POST", w.URL+"/echo?q=1%202", strings.NewReader("hello"))
	if a.status != 200 || a.str("method") != "POST" || a.num("length") != 5 || a.num("contentLength") != 5 ||
		a.str("body") != "hello" || a.str("path") != "/echo" || a.str("query") != "q=1%202" ||
		a.str("header") != "a, b" || !strings.HasPrefix(w.URL, "http://"+a.str("host")) {
		t.Fatalf("echo: %d %s", a.status, a.raw)
	}
	if got := a.header.Values("X-Probe"); strings.Join(got, ",") != "one, two" && strings.Join(got, ",") != "one,two" {
		t.Errorf("repeated response header: %q", got)
	}
	if a := call(t, "GET", w.URL+"/echo", nil); a.status != 200 || a.num("length") != 0 || a.str("method") != "GET" {
		t.Fatalf("GET echo: %d %s", a.status, a.raw)
	}
	// A body over the glue's cap reaches Go cut one byte past it, so that
	// any limit below the cap still refuses it.
	a = call(t, "POST", w.URL+"/echo", strings.NewReader(strings.Repeat("x", 1<<20)))
	if a.status != 200 || a.num("length") != 64<<10+1 {
		t.Fatalf("1 MiB body: %d %.300s", a.status, a.raw)
	}
	if a := call(t, "GET", w.URL+"/nocontent", nil); a.status != 204 || a.raw != "" {
		t.Fatalf("204: %d %q", a.status, a.raw)
	}
	if a := call(t, "GET", w.URL+"/nowhere", nil); a.status != 404 {
		t.Fatalf("404: %d %q", a.status, a.raw)
	}
}

// TestFetch: outbound calls through the glue's fetch.
func TestFetch(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Answer", r.Method+" "+r.Header.Get("X-Test"))
		switch r.URL.Path {
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			_, _ = w.Write(b)
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/head":
			w.Header().Set("Content-Length", "12345")
		case "/big":
			_, _ = w.Write(make([]byte, 3<<20))
		case "/slow":
			time.Sleep(3 * time.Second)
		case "/redirect":
			http.Redirect(w, r, "/echo", http.StatusFound)
		}
	}))
	defer up.Close()
	w := startProbe(t, nil)
	fetch := func(method, path, body, timeout string) answer {
		q := url.Values{"method": {method}, "url": {up.URL + path}, "body": {body}, "timeout": {timeout}}
		return call(t, "GET", w.URL+"/fetch?"+q.Encode(), nil)
	}
	for _, tc := range []struct {
		method, path, body, timeout string
		want                        string
	}{
		{"POST", "/echo", "payload", "", `"body":"payload","contentLength":7,"header":"POST sent","length":7,"status":200`},
		{"GET", "/empty", "", "", `"body":"","contentLength":0,"header":"GET sent","length":0,"status":204`},
		{"HEAD", "/head", "", "", `"body":"","contentLength":12345,"header":"HEAD sent","length":0,"status":200`},
		{"GET", "/redirect", "", "", `"status":302`},
	} {
		a := fetch(tc.method, tc.path, tc.body, tc.timeout)
		if a.status != 200 || !strings.Contains(a.raw, tc.want) {
			t.Errorf("%s %s: %d %s, want %s", tc.method, tc.path, a.status, a.raw, tc.want)
		}
	}
	if a := fetch("GET", "/big", "", ""); !strings.Contains(a.str("error"), "over 2097152 bytes") {
		t.Errorf("3 MiB answer: %s", a.raw)
	}
	a := fetch("GET", "/slow", "", "300")
	if !strings.Contains(a.str("error"), "deadline exceeded") || a.num("ms") > 2000 {
		t.Errorf("a call past its context's deadline: %s", a.raw)
	}
	if a := fetch("GET", "/echo", "", ""); a.status != 200 || a.num("status") != 200 {
		t.Errorf("after an aborted call: %s", a.raw)
	}
}
