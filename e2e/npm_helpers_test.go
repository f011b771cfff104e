package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	packOnce sync.Once
	packPath string
	packErr  error
)

// packedTarball is web/ packed by `npm pack` as the package a developer
// installs, with the engine built from the current source (builtWeb).
func packedTarball(t testing.TB) string {
	t.Helper()
	packOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ossup-e2e-pack-")
		if err != nil {
			packErr = err
			return
		}
		src := builtWeb(t)
		// builtWeb holds what the backend serves; npm pack also needs the
		// manifest, whose "files" choose what ships.
		manifest, err := os.ReadFile(filepath.Join(repoRoot(t), "web", "package.json"))
		if err == nil {
			err = os.WriteFile(filepath.Join(src, "package.json"), manifest, 0o644)
		}
		if err != nil {
			packErr = err
			return
		}
		cmd := exec.Command("npm", "pack", "--json", "--pack-destination", dir)
		cmd.Dir = src
		out, err := cmd.Output()
		if err != nil {
			packErr = npmError(err, out)
			return
		}
		var res []struct{ Filename string }
		if err := json.Unmarshal(out, &res); err != nil || len(res) != 1 {
			packErr = npmError(err, out)
			return
		}
		packPath = filepath.Join(dir, res[0].Filename)
	})
	if packErr != nil {
		t.Fatalf("npm pack: %v", packErr)
	}
	return packPath
}

type npmFailure struct {
	err error
	out string
}

func (e npmFailure) Error() string { return e.err.Error() + "\n" + e.out }

func npmError(err error, out []byte) error {
	if ee, ok := err.(*exec.ExitError); ok {
		out = append(out, ee.Stderr...)
	}
	return npmFailure{err, string(out)}
}

// npm runs npm in dir, failing the test with its output on an error.
func npm(t testing.TB, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("npm", append(args, "--no-audit", "--no-fund")...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm %v: %v\n%s", args, err, out)
	}
}

// viteApp copies tests/viteapp into a fresh directory, installs its pinned
// dependencies (package-lock.json, from npm's cache when `make deps` ran)
// and the packed tarball as a developer's `npm install` would, builds it
// with Vite, and returns the build's directory.
func viteApp(t testing.TB) string {
	t.Helper()
	tgz := packedTarball(t)
	src := filepath.Join(repoRoot(t), "tests", "viteapp")
	app := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "index.html", "main.js", "vite.config.js"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(app, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	npm(t, app, "ci", "--prefer-offline")
	npm(t, app, "install", "--no-save", "--prefer-offline", tgz)
	cmd := exec.Command(filepath.Join(app, "node_modules", ".bin", "vite"), "build")
	cmd.Dir = app
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("vite build: %v\n%s", err, out)
	}
	return filepath.Join(app, "dist")
}

// staticSite serves dir on a free loopback port, as a CDN or any static
// host would (no CSP, no special headers), and returns its origin.
func staticSite(t testing.TB, ln net.Listener, dir string) string {
	t.Helper()
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}
