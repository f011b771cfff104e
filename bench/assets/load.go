package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/ossup/ossup/internal/browser"
)

// readyProbe runs in the page before its own scripts and stamps the moment
// #engine-status first says "engine ready", in ms since navigation start
// (performance.now()), so the figure does not depend on polling.
const readyProbe = `(() => {
  const check = () => {
    const el = document.getElementById('engine-status');
    if (window.__ossupReady === undefined && el && el.textContent.startsWith('engine ready')) {
      window.__ossupReady = performance.now();
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true });
})();`

// loadTime is one visitor: navigation start to the load event and to
// "engine ready", in milliseconds, on a fresh profile (cold) and on the same
// profile's second visit (warm: the HTTP cache holds the hashed assets).
type loadTime struct {
	load, ready         float64
	warmLoad, warmReady float64
}

// warmAfter is how long the first visit stays open before the second one,
// so the first one's cache writes are done. V8 caches a wasm module's
// compiled code only once enough of it is optimised
// (--wasm-caching-threshold), which starting the engine does not reach: the
// second visit still compiles what it runs.
const warmAfter = 3 * time.Second

// timeLoad starts a headless Chromium on a fresh profile, loads base and
// waits for the engine, twice: the second visit is a returning user's.
func timeLoad(ctx context.Context, exe, base string) (loadTime, error) {
	profile, err := os.MkdirTemp("", "ossup-bench-assets-profile-")
	if err != nil {
		return loadTime{}, err
	}
	defer os.RemoveAll(profile)
	// chromedp enables the DevTools Network domain on every tab, which
	// slows Chromium's network path: it is turned off before timing.
	b, err := browser.Launch(ctx, browser.Chromium, browser.Options{Profile: profile, Executable: exe})
	if err != nil {
		return loadTime{}, err
	}
	defer b.Close()
	tab, _ := browser.CDP(b.Page())
	if _, err := chromedp.Call(tab, network.Disable, cdp.Empty{}); err != nil {
		return loadTime{}, fmt.Errorf("disable the Network domain: %w", err)
	}
	if _, err := chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: readyProbe}); err != nil {
		return loadTime{}, fmt.Errorf("install the ready probe: %w", err)
	}
	// Later steps are bounded by ctx.
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(2 * time.Minute)
	}
	tab, cancelStep := context.WithDeadline(tab, deadline)
	defer cancelStep()
	var lt loadTime
	if lt.load, lt.ready, err = visit(tab, base+"/lab.html"); err != nil {
		return loadTime{}, fmt.Errorf("first visit: %w", err)
	}
	select {
	case <-time.After(warmAfter):
	case <-tab.Done():
		return loadTime{}, tab.Err()
	}
	if lt.warmLoad, lt.warmReady, err = visit(tab, base+"/lab.html"); err != nil {
		return loadTime{}, fmt.Errorf("second visit: %w", err)
	}
	return lt, nil
}

// visit navigates tab to url and waits for "engine ready": the load event
// and the ready stamp, in ms since navigation start.
func visit(tab context.Context, url string) (load, ready float64, err error) {
	if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
		return 0, 0, err
	}
	ready, err = chromedp.Run(tab, chromedp.Poll[float64](
		`(t => t !== undefined ? t : (document.getElementById('engine-status').textContent.startsWith('engine fail') ? -1 : null))(window.__ossupReady)`,
		chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		return 0, 0, fmt.Errorf("engine not ready: %w", err)
	}
	if ready < 0 {
		status, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById('engine-status').textContent`))
		return 0, 0, errors.New(status)
	}
	load, err = chromedp.Run(tab, chromedp.Evaluate[float64](`performance.getEntriesByType('navigation')[0].loadEventEnd`))
	return load, ready, err
}

func chromiumVersion(path string) string {
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return "Chromium"
	}
	v, _, _ := strings.Cut(strings.TrimSpace(string(out)), " built on")
	return v
}
