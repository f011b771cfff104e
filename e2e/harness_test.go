package e2e

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/enginebuild"
	"github.com/ossup/ossup/server"
	"github.com/ossup/ossup/server/loopback"
)

// repoRoot is the module root, two levels up from this package's directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

var (
	webOnce sync.Once
	webDir  string
	webErr  error
)

// builtWeb is a copy of web/ with the engine built from the current source
// and the wasm_exec.js of the toolchain that built it, so the tests never run
// a stale engine.
func builtWeb(t testing.TB) string {
	t.Helper()
	webOnce.Do(func() {
		root := repoRoot(t)
		webDir, webErr = os.MkdirTemp("", "ossup-e2e-web-")
		if webErr != nil {
			return
		}
		entries, err := os.ReadDir(filepath.Join(root, "web"))
		if err != nil {
			webErr = err
			return
		}
		for _, e := range entries {
			if e.IsDir() || e.Name() == "engine.wasm" || e.Name() == "wasm_exec.js" || strings.HasSuffix(e.Name(), ".go") || e.Name() == "package.json" {
				continue
			}
			b, err := os.ReadFile(filepath.Join(root, "web", e.Name()))
			if err != nil {
				webErr = err
				return
			}
			if err := os.WriteFile(filepath.Join(webDir, e.Name()), b, 0o644); err != nil {
				webErr = err
				return
			}
		}
		if err := enginebuild.Build(root, filepath.Join(webDir, "engine.wasm"), false); err != nil {
			webErr = err
			return
		}
		glue, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"))
		if err != nil {
			glue, err = os.ReadFile(filepath.Join(runtime.GOROOT(), "misc", "wasm", "wasm_exec.js"))
		}
		if err != nil {
			webErr = err
			return
		}
		webErr = os.WriteFile(filepath.Join(webDir, "wasm_exec.js"), glue, 0o644)
	})
	if webErr != nil {
		t.Fatalf("build the web assets: %v %s", webErr, webDir)
	}
	return webDir
}

// backend runs the backend in dev mode (with its local cloud) on free
// loopback ports, serving the freshly built web assets.
func backend(t testing.TB, env map[string]string) (*server.Server, string) {
	t.Helper()
	e := map[string]string{"OSSUP_DATA_DIR": t.TempDir(), "OSSUP_WEB_DIR": builtWeb(t)}
	for k, v := range env {
		e[k] = v
	}
	srv, err := loopback.Start(e)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.Server, srv.Base
}

// engines are the browser engines the scenarios run in: all three, or
// those $OSSUP_BROWSERS lists (comma-separated), to iterate on one. A
// missing browser fails its runs: `make deps` installs all three.
func engines(t testing.TB) []browser.Engine {
	t.Helper()
	es, err := browser.ParseEngines(os.Getenv("OSSUP_BROWSERS"))
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// chromiumOnly are the engines of the scenarios that use what only
// Chromium has (the Long Tasks API, DevTools targets) or that are long and
// cover engine logic the short matrix already runs in every engine.
var chromiumOnly = []browser.Engine{browser.Chromium}

// opfsEngines have the origin-private file system, whose file handles the
// engine keeps for a resume without a re-pick: this MiniBrowser has no
// navigator.storage.
var opfsEngines = []browser.Engine{browser.Chromium, browser.Firefox}

// inEngines runs scenario once per engine of want that engines() allows,
// each as a subtest named for the engine and the installed version, such
// as TestUploadFromPage/firefox_153.8.0esr.
func inEngines(t *testing.T, want []browser.Engine, scenario func(t *testing.T, e browser.Engine)) {
	t.Helper()
	allowed := engines(t)
	ran := false
	for _, e := range want {
		if !slices.Contains(allowed, e) {
			continue
		}
		ran = true
		name := string(e)
		if v := browser.InstalledVersion(e); v != "" {
			name += "_" + v[strings.LastIndex(v, " ")+1:]
		}
		t.Run(name, func(t *testing.T) { scenario(t, e) })
	}
	if !ran {
		t.Logf("no engine of %v among OSSUP_BROWSERS=%q", want, os.Getenv("OSSUP_BROWSERS"))
	}
}

// tab is a page of a browser under test, with the deadline of the test's
// steps.
type tab struct {
	t   testing.TB
	ctx context.Context
	b   browser.Browser
	p   browser.Page
}

// launch starts a browser of engine e with a fresh profile (or the given
// one, to test a browser restart) and returns its first page, whose steps
// share a deadline of d. The browser is closed, and its processes killed,
// when the test ends; if the test failed, the page's errors are logged and
// its screenshot saved first.
func launch(t testing.TB, e browser.Engine, opts browser.Options, d time.Duration) *tab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	b, err := browser.Launch(ctx, e, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("engine: %s", b.Version())
	pg := &tab{t: t, ctx: ctx, b: b, p: b.Page()}
	t.Cleanup(func() {
		if t.Failed() {
			pg.diagnose()
		}
		if err := b.Close(); err != nil {
			t.Errorf("close %s: %v", e, err)
		}
	})
	return pg
}

// newTab opens another page of the same browser (same profile, same locks).
func (pg *tab) newTab() *tab {
	pg.t.Helper()
	p, err := pg.b.NewPage(pg.ctx)
	if err != nil {
		pg.t.Fatal(err)
	}
	return &tab{t: pg.t, ctx: pg.ctx, b: pg.b, p: p}
}

// diagnose logs the page's errors and saves its screenshot.
func (pg *tab) diagnose() {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, e := range pg.p.Errors() {
		pg.t.Logf("page error: %s", e)
	}
	png, err := pg.p.Screenshot(ctx)
	if err != nil {
		pg.t.Logf("no screenshot: %v", err)
		return
	}
	dir := filepath.Join(os.TempDir(), "ossup-e2e-failures")
	name := strings.NewReplacer("/", "_", " ", "_").Replace(pg.t.Name()) + ".png"
	if os.MkdirAll(dir, 0o755) == nil && os.WriteFile(filepath.Join(dir, name), png, 0o644) == nil {
		pg.t.Logf("screenshot: %s", filepath.Join(dir, name))
	}
}

// evalAs evaluates js in the page (awaiting a promise) as a T.
func evalAs[T any](pg *tab, js string) (T, error) {
	var v T
	err := pg.p.Eval(pg.ctx, js, &v)
	return v, err
}

// pollAs evaluates js every 50 ms until it is truthy, as a T.
func pollAs[T any](pg *tab, js string, timeout time.Duration) (T, error) {
	var v T
	err := browser.Poll(pg.ctx, pg.p, js, timeout, &v)
	return v, err
}

// navigate loads url in the page.
func (pg *tab) navigate(url string) error { return pg.p.Navigate(pg.ctx, url) }

// reload reloads the page.
func (pg *tab) reload() error { return pg.p.Reload(pg.ctx) }

// setOffline cuts the page and its workers off the network, or reconnects
// them.
func (pg *tab) setOffline(offline bool) {
	pg.t.Helper()
	if err := pg.p.SetOffline(pg.ctx, offline); err != nil {
		pg.t.Fatalf("offline=%v: %v", offline, err)
	}
}

func trimmed(s string) string { return strings.TrimSpace(s) }
