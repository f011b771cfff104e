package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/enginebuild"
)

// buildEmbedded builds the binary as `make build` does (tag embedweb), with
// an engine built from the current source. The engine and wasm_exec.js
// reach the embed through -overlay, so the test never writes into web/.
func buildEmbedded(t *testing.T) (bin string, engine []byte) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wasm := filepath.Join(dir, "engine.wasm")
	if err := enginebuild.Build(root, wasm, false); err != nil {
		t.Fatal(err)
	}
	glue := filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js")
	if _, err := os.Stat(glue); err != nil {
		glue = filepath.Join(runtime.GOROOT(), "misc", "wasm", "wasm_exec.js")
	}
	overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {
		filepath.Join(root, "web", "engine.wasm"):  wasm,
		filepath.Join(root, "web", "wasm_exec.js"): glue,
	}})
	ov := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(ov, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	bin = filepath.Join(dir, "ossup")
	cmd := exec.Command("go", "build", "-tags", "embedweb", "-overlay", ov, "-o", bin, "./cmd/ossup")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build ossup: %v\n%s", err, out)
	}
	engine, err = os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	return bin, engine
}

var apiLine = regexp.MustCompile(`API\s+http://(\S+)/api/v1/uploads`)

// start runs bin in an empty directory (its data dir lands there) and
// returns the backend's base URL once its banner names it.
func start(t *testing.T, bin string, env ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "OSSUP_ADDR=127.0.0.1:0", "OSSUP_LOCAL_OSS_ADDR=127.0.0.1:0",
		"OSSUP_LOCAL_STS_ADDR=127.0.0.1:0", "OSSUP_JANITOR_INTERVAL=0", "OSSUP_WEB_DIR=", "OSSUP_API_ONLY=")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := apiLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- "http://" + m[1]
			}
		}
		close(found)
	}()
	select {
	case base, ok := <-found:
		if !ok {
			t.Fatalf("ossup exited without a banner: %s", stderr.String())
		}
		return base
	case <-time.After(60 * time.Second):
		t.Fatalf("no banner from ossup: %s", stderr.String())
	}
	return ""
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestBinaryRunsFromAnyDirectory: bin/ossup started from an empty directory
// serves the demo (the widget at /, the lab page), the browser files (the engine byte for byte) and the
// API; with OSSUP_API_ONLY it serves the API alone.
func TestBinaryRunsFromAnyDirectory(t *testing.T) {
	bin, engine := buildEmbedded(t)

	t.Run("demo and API", func(t *testing.T) {
		base := start(t, bin)
		// The page at / is the widget.
		if code, b := get(t, base+"/"); code != 200 || !bytes.Contains(b, []byte("<title>ossup")) || !bytes.Contains(b, []byte("<ossup-uploader")) {
			t.Fatalf("GET /: %d %.200s", code, b)
		}
		for _, p := range []string{"/ossup.js", "/ossup-worker.js", "/wasm_exec.js", "/ossup.d.ts", "/favicon.svg", "/ossup-uploader.js", "/lab.html"} {
			if code, b := get(t, base+p); code != 200 || len(b) == 0 {
				t.Errorf("GET %s: %d (%d bytes)", p, code, len(b))
			}
		}
		if code, b := get(t, base+"/engine.wasm"); code != 200 || !bytes.Equal(b, engine) {
			t.Errorf("GET /engine.wasm: %d, %d bytes, want the %d built", code, len(b), len(engine))
		}
		// Sources and the npm manifest are not web files.
		for _, p := range []string{"/embed.go", "/package.json"} {
			if code, _ := get(t, base+p); code != 404 {
				t.Errorf("GET %s: %d, want 404", p, code)
			}
		}
		if code, b := get(t, base+"/api/v1/whoami"); code != 200 || !bytes.Contains(b, []byte(`"user"`)) {
			t.Errorf("GET /api/v1/whoami: %d %s", code, b)
		}
	})

	t.Run("API only", func(t *testing.T) {
		base := start(t, bin, "OSSUP_API_ONLY=true")
		for _, p := range []string{"/", "/index.html", "/ossup.js", "/engine.wasm"} {
			code, b := get(t, base+p)
			if code != 404 || !bytes.Contains(b, []byte(`"code":"not_found"`)) {
				t.Errorf("GET %s in API-only mode: %d %.200s, want the JSON 404", p, code, b)
			}
		}
		if code, b := get(t, base+"/api/v1/whoami"); code != 200 {
			t.Errorf("GET /api/v1/whoami: %d %s", code, b)
		}
	})

	t.Run("OSSUP_WEB_DIR overrides", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>own page</h1>"), 0o644); err != nil {
			t.Fatal(err)
		}
		base := start(t, bin, "OSSUP_WEB_DIR="+dir)
		if code, b := get(t, base+"/"); code != 200 || string(b) != "<h1>own page</h1>" {
			t.Errorf("GET /: %d %q", code, b)
		}
		if code, _ := get(t, base+"/engine.wasm"); code != 404 {
			t.Errorf("GET /engine.wasm from the overriding dir: %d, want 404", code)
		}
	})
}

// TestPlainBuildSaysHowToGetTheWebFiles: a binary built without the embed
// (go build ./cmd/ossup) started outside the checkout names the fixes.
func TestPlainBuildSaysHowToGetTheWebFiles(t *testing.T) {
	root, _ := filepath.Abs("../..")
	bin := filepath.Join(t.TempDir(), "ossup")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/ossup")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	run := exec.Command(bin)
	run.Dir = t.TempDir()
	run.Env = append(os.Environ(), "OSSUP_ADDR=127.0.0.1:0", "OSSUP_LOCAL_OSS_ADDR=127.0.0.1:0",
		"OSSUP_LOCAL_STS_ADDR=127.0.0.1:0", "OSSUP_JANITOR_INTERVAL=0", "OSSUP_WEB_DIR=", "OSSUP_API_ONLY=")
	out, err := run.CombinedOutput()
	if err == nil {
		t.Fatalf("started without web files:\n%s", out)
	}
	for _, w := range []string{"make build", "OSSUP_WEB_DIR", "OSSUP_API_ONLY=true"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("error lacks %q: %s", w, out)
		}
	}
}

// TestSystemdUnit: deploy/ossup.service is a unit systemd accepts, and its
// hardening keeps systemd's own exposure score at "OK" (1.2 when written).
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile("../../deploy/ossup.service")
	if err != nil {
		t.Fatal(err)
	}
	// verify checks that ExecStart exists: point it at a file that does.
	dir := t.TempDir()
	bin := filepath.Join(dir, "ossup")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	u := strings.ReplaceAll(string(unit), "/usr/local/bin/ossup", bin)
	p := filepath.Join(dir, "ossup.service")
	if err := os.WriteFile(p, []byte(u), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("systemd-analyze", "verify", p).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err := exec.Command("systemd-analyze", "security", "--offline=true", p).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for ossup.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	if level, err := strconv.ParseFloat(string(m[1]), 64); err != nil || level > 2 {
		t.Errorf("exposure level %s, want at most 2.0", m[1])
	}
}
