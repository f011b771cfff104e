package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/chromium"
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
			if e.IsDir() || e.Name() == "engine.wasm" || e.Name() == "wasm_exec.js" {
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
		cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", filepath.Join(webDir, "engine.wasm"), "./wasm")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if out, err := cmd.CombinedOutput(); err != nil {
			webErr = err
			webDir = string(out)
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

// browser starts a headless Chromium with a fresh profile (or the given
// one, to test a browser restart) and returns a tab context. A missing
// Chromium fails the test: `make deps` installs it.
func browser(t testing.TB, profile string) context.Context {
	t.Helper()
	if profile == "" {
		profile = t.TempDir()
	}
	exe, err := chromium.Path()
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop, err := chromium.Start(chromium.Options(exe, profile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return ctx
}

// within bounds one step of a test.
func within(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

func trimmed(s string) string { return strings.TrimSpace(s) }
