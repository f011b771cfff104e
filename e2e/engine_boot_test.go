package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
)

// TestEngineBootsInWorker loads the page served by the backend in each engine:
// the page starts the Web Worker, which fetches wasm_exec.js and the engine
// by their hashed URLs (served as application/wasm, streamed-instantiated)
// and reports the engine's version back to the page.
func TestEngineBootsInWorker(t *testing.T) {
	inEngines(t, browser.Engines, testEngineBootsInWorker)
}

func testEngineBootsInWorker(t *testing.T, e browser.Engine) {
	_, base := backend(t, nil)
	pg := launch(t, e, browser.Options{}, 90*time.Second)
	if err := pg.navigate(base + labPage); err != nil {
		t.Fatal(err)
	}
	status, err := pollAs[string](pg, `(t => t.startsWith('engine ready') || t.startsWith('engine fail') ? t : null)(document.getElementById('engine-status').textContent)`, 45*time.Second)
	if err != nil {
		t.Fatalf("engine status never settled: %v", err)
	}
	if !strings.HasPrefix(trimmed(status), "engine ready 0.") {
		t.Fatalf("engine did not boot: %q", status)
	}
	// The worker, the glue and the engine are named by content-hashed,
	// immutable URLs, so a deploy never mixes versions.
	page, err := evalAs[string](pg, `document.documentElement.outerHTML`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/assets/engine.", "/assets/wasm_exec.", "/assets/ossup-worker."} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not load %s* by its hashed URL", want)
		}
	}
}
