// Package chromium finds Debian's Chromium and starts it headless the way
// the browser tests and benchmarks need it.
package chromium

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/chromedp/chromedp"
)

// ErrMissing says how to install Chromium; `make deps` does.
var ErrMissing = errors.New("Debian's chromium is not installed: run `make deps` (apt-get install chromium)")

// Path returns the Chromium to run: the first of prefer (a flag, say),
// $OSSUP_CHROMIUM, /usr/bin/chromium and /usr/bin/chromium-browser that
// exists, else chromium on $PATH.
func Path(prefer ...string) (string, error) {
	for _, p := range append(prefer, os.Getenv("OSSUP_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser") {
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
	return "", ErrMissing
}

// Options are the allocator options of a headless Chromium at exe with its
// profile in profileDir, then extra. Without the background-networking
// flags Chromium floods a closed network with refused connections, whose
// CPU would count as the page's; no-sandbox because CI runs as root.
func Options(exe, profileDir string, extra ...chromedp.ExecAllocatorOption) []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profileDir),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	return append(opts, extra...)
}

// Start starts Chromium with opts and returns its first tab, on about:blank,
// and the function that stops it. The tab context has no deadline: the
// first action starts the browser and must not be cut short.
func Start(opts []chromedp.ExecAllocatorOption) (context.Context, func(), error) {
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	stop := func() { cancel(); cancelAlloc() }
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		stop()
		return nil, nil, fmt.Errorf("start chromium: %w", err)
	}
	return ctx, stop, nil
}
