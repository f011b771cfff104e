// Package enginebuild builds the browser engine (./wasm, GOOS=js
// GOARCH=wasm) the way `make build` does, for the tests and benchmarks that
// need it built from the current source.
package enginebuild

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
)

// Flags are go build's flags for engine.wasm: the Makefile's ENGINE_GOFLAGS
// (a test keeps the two equal). No inlining (-l) makes the engine 1.08 →
// 0.99 MB brotli as served. Its cost, measured with bench/browser -engine-b
// (256 MiB, 8 MiB × 4, 3 alternated runs, 2026-12-03): throughput within
// 1-2 % in Chromium, Firefox and WebKit, browser CPU 0.1-0.5 s/GiB more
// (2-4 %), cold start unchanged (bench/assets, 2 × 7 loads each). The
// hashing is the CRC kernel's own WebAssembly module: the Go code around it
// is glue, where inlining buys little.
var Flags = []string{"-gcflags=all=-l", "-ldflags=-s -w"}

// Build builds the engine of the module at root into out. keepNames keeps
// the symbol names (-profile's function names) and so drops -s -w.
func Build(root, out string, keepNames bool) error {
	return BuildPackage(root, "./wasm", out, keepNames)
}

// BuildPackage builds pkg (a js/wasm main package of the module at root)
// into out as the engine is built, e.g. bench/assets's empty Go program.
func BuildPackage(root, pkg, out string, keepNames bool) error {
	flags := Flags
	if keepNames {
		flags = slices.DeleteFunc(slices.Clone(flags), func(f string) bool { return f == "-ldflags=-s -w" })
	}
	args := append(append([]string{"build"}, flags...), "-o", out, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w\n%s", pkg, err, b)
	}
	return nil
}
