package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ossup/ossup/internal/enginebuild"
)

// noEngineWorker is the first floor's worker: it reads its parameters and
// loads Go's glue as the real one does, then says ready without an engine.
// The page, its module, the worker's start and the backend's whoami are
// all that is left, so the figure is what the page costs before any engine.
const noEngineWorker = `// bench/assets's floor: the worker without an engine.
const params = self.ossupParams ? new Map(Object.entries(self.ossupParams)) : new URL(self.location.href).searchParams;
importScripts(params.get('glue'));
self.onmessage = () => {};
postMessage({ type: 'ready', version: 'no engine' });
`

// makeFloors copies web twice under a new temporary directory, one with
// the no-engine worker and one with the empty Go program as engine.wasm
// (built with enginebuild.Flags from the module at root), and returns them
// as sources; remove deletes both.
func makeFloors(root, web string) (srcs []source, remove func(), err error) {
	tmp, err := os.MkdirTemp("", "ossup-bench-assets-floors-")
	if err != nil {
		return nil, nil, err
	}
	// The error returns set remove to nil: the deferred clean-up keeps its own.
	cleanup := func() { os.RemoveAll(tmp) }
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	noEngine, emptyGo := filepath.Join(tmp, "no-engine"), filepath.Join(tmp, "empty-go")
	for _, d := range []string{noEngine, emptyGo} {
		if err := os.CopyFS(d, os.DirFS(web)); err != nil {
			return nil, nil, fmt.Errorf("copy %s: %w", web, err)
		}
	}
	if err := os.WriteFile(filepath.Join(noEngine, "ossup-worker.js"), []byte(noEngineWorker), 0o644); err != nil {
		return nil, nil, err
	}
	out, err := filepath.Abs(filepath.Join(emptyGo, "engine.wasm"))
	if err != nil {
		return nil, nil, err
	}
	// go build overwrites only what it takes for its own output.
	if err := os.Remove(out); err != nil && !os.IsNotExist(err) {
		return nil, nil, err
	}
	if err := enginebuild.BuildPackage(root, "./bench/assets/emptyengine", out, false); err != nil {
		return nil, nil, err
	}
	return []source{{name: "floor: no engine", dir: noEngine}, {name: "floor: empty Go program", dir: emptyGo}}, cleanup, nil
}
