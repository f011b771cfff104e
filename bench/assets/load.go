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

// loadTime is one page load: navigation start to the load event and to
// "engine ready", in milliseconds.
type loadTime struct {
	load, ready float64
}

// timeLoad starts a headless Chromium on a fresh profile, loads base and
// waits for the engine.
func timeLoad(ctx context.Context, chromium, base string) (loadTime, error) {
	profile, err := os.MkdirTemp("", "ossup-bench-assets-profile-")
	if err != nil {
		return loadTime{}, err
	}
	defer os.RemoveAll(profile)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // root in CI
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	tab, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The first Run starts the browser; it needs a context without a
	// deadline. chromedp enables the DevTools Network domain on every tab,
	// which slows Chromium's network path: it is turned off before timing.
	if err := chromedp.Do(tab, chromedp.Navigate("about:blank")); err != nil {
		return loadTime{}, fmt.Errorf("start chromium: %w", err)
	}
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
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/")); err != nil {
		return loadTime{}, err
	}
	ready, err := chromedp.Run(tab, chromedp.Poll[float64](
		`(t => t !== undefined ? t : (document.getElementById('engine-status').textContent.startsWith('engine fail') ? -1 : null))(window.__ossupReady)`,
		chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		return loadTime{}, fmt.Errorf("engine not ready: %w", err)
	}
	if ready < 0 {
		status, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById('engine-status').textContent`))
		return loadTime{}, errors.New(status)
	}
	load, err := chromedp.Run(tab, chromedp.Evaluate[float64](`performance.getEntriesByType('navigation')[0].loadEventEnd`))
	if err != nil {
		return loadTime{}, err
	}
	return loadTime{load: load, ready: ready}, nil
}

func findChromium(flagPath string) (string, error) {
	for _, p := range []string{flagPath, os.Getenv("OSSUP_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", errors.New("Debian's chromium is not installed: run `make deps` (apt-get install chromium)")
}

func chromiumVersion(path string) string {
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return "Chromium"
	}
	v, _, _ := strings.Cut(strings.TrimSpace(string(out)), " built on")
	return v
}
