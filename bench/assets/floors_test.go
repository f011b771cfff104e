package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The floors are copies of the web directory that differ from it in one
// file each: the no-engine worker, or engine.wasm built from the empty Go
// program (a real WebAssembly module).
func TestMakeFloors(t *testing.T) {
	web := t.TempDir()
	for name, body := range map[string]string{"lab.html": "<p>lab</p>", "ossup-worker.js": "// the real worker", "engine.wasm": "not this one"} {
		if err := os.WriteFile(filepath.Join(web, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srcs, remove, err := makeFloors("../..", web)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 2 {
		t.Fatalf("got %d floors, want 2", len(srcs))
	}
	read := func(dir, name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	noEngine, emptyGo := srcs[0].dir, srcs[1].dir
	if got := string(read(noEngine, "ossup-worker.js")); got != noEngineWorker {
		t.Errorf("no-engine floor's worker is %q", got)
	}
	if got := string(read(emptyGo, "ossup-worker.js")); got != "// the real worker" {
		t.Errorf("empty-Go floor's worker is %q, want the web directory's", got)
	}
	for _, d := range []string{noEngine, emptyGo} {
		if got := string(read(d, "lab.html")); got != "<p>lab</p>" {
			t.Errorf("%s: lab.html is %q", d, got)
		}
	}
	if wasm := read(emptyGo, "engine.wasm"); !bytes.HasPrefix(wasm, []byte("\x00asm")) {
		t.Errorf("empty-Go floor's engine.wasm is not a WebAssembly module: starts %q", wasm[:min(8, len(wasm))])
	}
	remove()
	if _, err := os.Stat(noEngine); !os.IsNotExist(err) {
		t.Errorf("remove left %s: %v", noEngine, err)
	}
}
