package main

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/enginebuild"
	"github.com/ossup/ossup/server"
	"github.com/ossup/ossup/server/loopback"
)

// pages are the benchmark's own static files, served next to web/ under
// /bench/.
//
//go:embed pages
var pages embed.FS

// aliOSSBundle is where `npm ci --prefix tests/alioss` puts ali-oss's
// browser bundle (the version pinned in tests/alioss/package-lock.json).
const aliOSSBundle = "tests/alioss/node_modules/ali-oss/dist/aliyun-oss-sdk.min.js"

// repoRoot finds the module root (the directory of the go.mod that declares
// github.com/ossup/ossup) from the working directory upwards.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/ossup/ossup\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the ossup module (no go.mod declaring github.com/ossup/ossup above the working directory)")
		}
		dir = parent
	}
}

// buildWeb writes into dst a copy of web/ with the engine built from the
// current source (enginebuild, as `make build` does) and the
// wasm_exec.js of the toolchain that built it, plus the benchmark pages and
// ali-oss's browser bundle under bench/. It returns ali-oss's version.
// With names, the engine keeps its symbols (for -profile).
func buildWeb(root, dst string, names bool) (aliVersion string, err error) {
	entries, err := os.ReadDir(filepath.Join(root, "web"))
	if err != nil {
		return "", fmt.Errorf("read web/: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "engine.wasm" || e.Name() == "wasm_exec.js" {
			continue
		}
		if err := copyFile(filepath.Join(root, "web", e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return "", err
		}
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOROOT: %w", err)
	}
	gr := strings.TrimSpace(string(goroot))
	if err := enginebuild.Build(root, filepath.Join(dst, "engine.wasm"), names); err != nil {
		return "", err
	}
	// wasm_exec.js must come from the toolchain that built the engine.
	glue := filepath.Join(gr, "lib", "wasm", "wasm_exec.js")
	if _, err := os.Stat(glue); err != nil {
		glue = filepath.Join(gr, "misc", "wasm", "wasm_exec.js")
	}
	if err := copyFile(glue, filepath.Join(dst, "wasm_exec.js")); err != nil {
		return "", err
	}

	benchDir := filepath.Join(dst, "bench")
	if err := os.MkdirAll(benchDir, 0o755); err != nil {
		return "", err
	}
	err = fs.WalkDir(pages, "pages", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := pages.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(benchDir, strings.TrimPrefix(p, "pages/")), b, 0o644)
	})
	if err != nil {
		return "", fmt.Errorf("write the bench pages: %w", err)
	}
	bundle := filepath.Join(root, aliOSSBundle)
	if err := copyFile(bundle, filepath.Join(benchDir, "aliyun-oss-sdk.min.js")); err != nil {
		return "", fmt.Errorf("ali-oss's browser bundle is missing (run `npm ci --prefix tests/alioss`, or `make deps`): %w", err)
	}
	var pkg struct{ Version string }
	b, err := os.ReadFile(filepath.Join(root, "tests/alioss/node_modules/ali-oss/package.json"))
	if err == nil {
		err = json.Unmarshal(b, &pkg)
	}
	if err != nil {
		return "", fmt.Errorf("ali-oss's package.json: %w", err)
	}
	return pkg.Version, nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return nil
}

// backend is the ossup backend in dev mode with its in-process local cloud,
// on free loopback ports.
type backend struct {
	srv  *server.Server
	base string
	stop func()
}

// startBackend runs the backend with its data in dataDir and the web files
// from webDir; partSize and concurrency are the suggestions it hands to the
// engine (OSSUP_PART_SIZE, OSSUP_CONCURRENCY). With waitAssets it returns
// once the backend has precompressed the web files with brotli, which takes
// a core for many seconds: a benchmark must not measure alongside it, and
// the transfer sizes are the brotli ones.
func startBackend(dataDir, webDir string, partSize int64, concurrency int, waitAssets bool) (*backend, error) {
	srv, err := loopback.Start(map[string]string{
		"OSSUP_DATA_DIR": dataDir, "OSSUP_WEB_DIR": webDir,
		"OSSUP_PART_SIZE": strconv.FormatInt(partSize, 10), "OSSUP_CONCURRENCY": strconv.Itoa(concurrency),
		"OSSUP_LOG_LEVEL": "error",
	})
	if err != nil {
		return nil, err
	}
	if waitAssets {
		srv.Assets().Wait()
	}
	return &backend{srv: srv.Server, base: srv.Base, stop: func() { srv.Close() }}, nil
}

// startBrowser starts a browser of engine e with a fresh profile in
// profileDir. For Chromium: chromedp's own disabled features plus the
// back/forward cache, so a page the benchmark navigates away from goes,
// with its worker and its heap, instead of staying frozen in the same
// renderer (it would count in the next page's memory).
func startBrowser(e browser.Engine, profileDir string) (browser.Browser, error) {
	opts := browser.Options{Profile: profileDir}
	if e == browser.Chromium {
		opts.ChromiumFlags = map[string]any{"disable-features": "Translate,BlinkGenPropertyTrees,BackForwardCache"}
	}
	return browser.Launch(context.Background(), e, opts)
}
