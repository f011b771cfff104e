package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestEngineBootsInWorker loads the page served by the backend in Chromium:
// the page starts the Web Worker, which fetches wasm_exec.js and the engine
// by their hashed URLs (served as application/wasm, streamed-instantiated)
// and reports the engine's version back to the page.
func TestEngineBootsInWorker(t *testing.T) {
	_, base := backend(t, nil)
	tab := browser(t, "")
	ctx, cancel := within(tab, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#engine-status"))); err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(t => t.startsWith('engine ready') || t.startsWith('engine fail') ? t : null)(document.getElementById('engine-status').textContent)`,
		chromedp.WithPollingTimeout(45*time.Second)))
	if err != nil {
		t.Fatalf("engine status never settled: %v", err)
	}
	if !strings.HasPrefix(trimmed(status), "engine ready 0.") {
		t.Fatalf("engine did not boot: %q", status)
	}
	// The worker, the glue and the engine are named by content-hashed,
	// immutable URLs, so a deploy never mixes versions.
	page, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/assets/engine.", "/assets/wasm_exec.", "/assets/ossup-worker."} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not load %s* by its hashed URL", want)
		}
	}
}
