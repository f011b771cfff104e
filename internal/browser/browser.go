// Package browser starts the three browser engines the product supports,
// each from Debian's packages, headless and kept off every network but
// loopback, and drives their pages through one small interface, so that a
// browser test or benchmark is written once and runs in each:
//
//   - Chromium over the DevTools protocol (chromedp);
//   - Firefox over WebDriver BiDi, which Firefox has built in (Debian has no
//     geckodriver);
//   - WebKit (WebKitGTK's MiniBrowser, Safari's engine) over W3C WebDriver
//     classic through WebKitWebDriver, under Xvfb, since MiniBrowser has no
//     headless mode.
//
// Every call takes a context and is also bounded by CallTimeout, and Close
// kills the browser's process groups, so no browser outlives its test.
package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Engine names a browser engine.
type Engine string

// The engines, by the name tests and benchmarks use for them.
const (
	Chromium Engine = "chromium"
	Firefox  Engine = "firefox"
	WebKit   Engine = "webkit"
)

// Engines are all the engines, in the order tests run them.
var Engines = []Engine{Chromium, Firefox, WebKit}

// ParseEngines parses a comma-separated list of engine names ("" = all).
func ParseEngines(list string) ([]Engine, error) {
	if strings.TrimSpace(list) == "" {
		return Engines, nil
	}
	var out []Engine
	for _, s := range strings.Split(list, ",") {
		e := Engine(strings.TrimSpace(s))
		switch e {
		case Chromium, Firefox, WebKit:
			out = append(out, e)
		default:
			return nil, fmt.Errorf("unknown browser engine %q (want chromium, firefox or webkit)", s)
		}
	}
	return out, nil
}

// CallTimeout bounds every call to a browser whose context has no
// deadline: a browser that stops answering fails the call instead of
// hanging the caller. A context with a deadline bounds the call instead,
// however long (a benchmark's upload runs for minutes in one call).
const CallTimeout = 60 * time.Second

// Options say how to start a browser.
type Options struct {
	// Profile is the profile (user data) directory. Empty: a fresh one,
	// removed by Close. A given one is kept, so a second browser on it sees
	// what the first stored (a browser restart).
	Profile string
	// Executable replaces the engine's browser binary (for WebKit,
	// MiniBrowser); empty: the Debian package's.
	Executable string
	// ChromiumFlags are extra command-line flags for Chromium, name to
	// value (true for a bare flag).
	ChromiumFlags map[string]any
	// NetworkSwitch routes a WebKit browser's requests, loopback ones
	// too, through a loopback proxy that Page.SetOffline can cut: WebDriver
	// classic has no network emulation. Chromium and Firefox emulate
	// outages themselves and ignore it.
	NetworkSwitch bool
	// OutsideProxy is the proxy, host:port on loopback, that gets every
	// request not for loopback, so that none reaches a network. The
	// default is a closed port (127.0.0.1:9); a test points it at a
	// recorder to prove the setting holds.
	OutsideProxy string
	// HostAliases are host names the browser resolves to 127.0.0.1 and
	// reaches directly, without the names being loopback ones: a page
	// served under such a name is not a secure context (no Web Locks, no
	// crypto.subtle), as on a plain-http intranet host. WebKit reaches them
	// through its network switch, which then carries all its traffic.
	HostAliases []string
}

// outsideProxy is o.OutsideProxy or the closed default.
func (o Options) outsideProxy() string {
	if o.OutsideProxy != "" {
		return o.OutsideProxy
	}
	return "127.0.0.1:9"
}

// Browser is a running browser.
type Browser interface {
	// Engine is the browser's engine.
	Engine() Engine
	// Version is the browser's name and version as it reports them, such
	// as "Firefox 153.8.0esr".
	Version() string
	// Page is the page the browser started with (on about:blank).
	Page() Page
	// NewPage opens another page of the same browser and profile: a tab in
	// Chromium and Firefox, a window in WebKit (whose tabs cannot take
	// screenshots).
	NewPage(ctx context.Context) (Page, error)
	// PIDs are the process groups the browser runs in, for CPU
	// accounting: every process of the browser is in one of them.
	PIDs() []int
	// Close closes the browser, gracefully if it answers within a few
	// seconds (so a kept profile is flushed to disk), then kills its
	// process groups. Calling it again does nothing.
	Close() error
}

// Page is one page (tab or window) of a browser.
type Page interface {
	// Navigate loads url and waits for its load event.
	Navigate(ctx context.Context, url string) error
	// Reload reloads the page and waits for its load event.
	Reload(ctx context.Context) error
	// Eval evaluates the JavaScript expression js in the page, awaits it if
	// it is a promise, and decodes its value, as JSON, into out (nil:
	// discard). An exception in the page is an error.
	Eval(ctx context.Context, js string, out any) error
	// SetFiles gives the file input matched by the CSS selector these
	// files, as a person picking them in the file dialog would. In
	// Chromium and Firefox the selector may descend into open shadow roots
	// with " >>> " ("ossup-uploader >>> input.files"), for inputs inside a
	// custom element.
	SetFiles(ctx context.Context, selector string, paths ...string) error
	// Screenshot returns a PNG of the page's viewport (Chromium's: of the
	// whole page).
	Screenshot(ctx context.Context) ([]byte, error)
	// SetOffline cuts the page, and its workers, off the network (or
	// reconnects them): requests fail as without a network, and where the
	// engine can emulate it, navigator.onLine turns false.
	SetOffline(ctx context.Context, offline bool) error
	// Errors returns the errors the page logged or threw so far: console
	// errors and uncaught exceptions (of its workers too, where the engine
	// reports them).
	Errors() []string
	// Close closes the page.
	Close(ctx context.Context) error
}

// Launch starts a browser of engine e.
func Launch(ctx context.Context, e Engine, opts Options) (Browser, error) {
	ctx, cancel := bound(ctx, 2*CallTimeout)
	defer cancel()
	switch e {
	case Chromium:
		return launchChromium(ctx, opts)
	case Firefox:
		return launchFirefox(ctx, opts)
	case WebKit:
		return launchWebKit(ctx, opts)
	}
	return nil, fmt.Errorf("unknown browser engine %q", e)
}

// Poll evaluates js in p every 50 ms until it yields a truthy value (in
// JavaScript's sense: not null, undefined, false, 0, "" or NaN), and
// decodes that into out. It tolerates errors while the page navigates
// (the expression then runs in the next document) and fails after timeout
// with the last error seen.
func Poll(ctx context.Context, p Page, js string, timeout time.Duration, out any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	expr := "Promise.resolve((\n" + js + "\n)).then(v => v ? v : null)"
	var last error
	for {
		var raw json.RawMessage
		err := p.Eval(ctx, expr, &raw)
		if err == nil {
			if s := strings.TrimSpace(string(raw)); s != "null" && s != "" {
				if out == nil {
					return nil
				}
				return json.Unmarshal(raw, out)
			}
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("poll %.120q: %w (last error: %v)", js, ctx.Err(), last)
			}
			return fmt.Errorf("poll %.120q: %w", js, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// bound gives ctx a deadline of d from now if it has none.
func bound(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// evalJS wraps a page expression so that every driver gets the same
// answer: a promise of its value as a JSON string ("null" for undefined).
func evalJS(js string) string {
	return "Promise.resolve((\n" + js + "\n)).then(v => JSON.stringify(v === undefined ? null : v))"
}

// decode decodes the JSON text an evalJS expression produced into out.
func decode(s string, out any) error {
	if out == nil {
		return nil
	}
	if err := json.Unmarshal([]byte(s), out); err != nil {
		return fmt.Errorf("decode the page's answer %.200q: %w", s, err)
	}
	return nil
}

// errorHookJS records, in a page that has no driver-side error channel
// (WebKit), uncaught exceptions, unhandled rejections and console.error
// calls in window.__browserErrors.
const errorHookJS = `(() => {
  if (window.__browserErrors) return true;
  const errs = window.__browserErrors = [];
  const text = (x) => { try { return x instanceof Error ? x.name + ': ' + x.message : typeof x === 'string' ? x : JSON.stringify(x); } catch (e) { return String(x); } };
  addEventListener('error', (e) => errs.push('uncaught: ' + (e.error ? text(e.error) : e.message)));
  addEventListener('unhandledrejection', (e) => errs.push('unhandled rejection: ' + text(e.reason)));
  const orig = console.error.bind(console);
  console.error = (...a) => { errs.push('console.error: ' + a.map(text).join(' ')); orig(...a); };
  return true;
})()`

// errorLog is a page's list of errors, safe for concurrent use.
type errorLog struct {
	mu   sync.Mutex
	errs []string
}

func (l *errorLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) < 1000 {
		l.errs = append(l.errs, s)
	}
}

func (l *errorLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.errs...)
}

// ErrMissing is wrapped by Launch's error when the engine's Debian package
// is not installed; `make deps` installs them.
var ErrMissing = errors.New("browser not installed: run `make deps`")

// findExe returns the first of paths that exists, else names on $PATH.
func findExe(pkg string, paths ...string) (string, error) {
	for _, p := range paths {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if !strings.Contains(p, "/") {
			if lp, err := exec.LookPath(p); err == nil {
				return lp, nil
			}
		}
	}
	return "", fmt.Errorf("%w (Debian package %s: apt-get install %s)", ErrMissing, pkg, pkg)
}

// InstalledVersion is the version of engine e's installed browser, as its
// command line prints it (without starting a page), for naming test runs
// before a browser starts. It is "" if the browser is not installed.
func InstalledVersion(e Engine) string {
	versionMu.Lock()
	defer versionMu.Unlock()
	if v, ok := versions[e]; ok {
		return v
	}
	var exe string
	var err error
	switch e {
	case Chromium:
		exe, err = ChromiumPath()
	case Firefox:
		exe, err = firefoxPath()
	case WebKit:
		// WebKitWebDriver has no --version; the library's package does.
		out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", "libwebkit2gtk-4.1-0").Output()
		v := ""
		if err == nil {
			v = "WebKitGTK " + strings.SplitN(strings.TrimSpace(string(out)), "-", 2)[0]
		}
		versions[e] = v
		return v
	}
	v := ""
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, exe, "--version").Output(); err == nil {
			v = strings.TrimSpace(string(out))
			v = strings.TrimPrefix(v, "Mozilla ")
			if i := strings.Index(v, " built on"); i > 0 {
				v = v[:i]
			}
		}
	}
	versions[e] = v
	return v
}

var (
	versionMu sync.Mutex
	versions  = map[Engine]string{}
)

// queryJS is the JavaScript expression of the element a SetFiles selector
// names, descending into the open shadow root of each " >>> " step.
func queryJS(selector string) string {
	steps := strings.Split(selector, ">>>")
	expr := "document"
	for i, st := range steps {
		sel, _ := json.Marshal(strings.TrimSpace(st))
		if i > 0 {
			expr = "(" + expr + " || {}).shadowRoot"
		}
		expr = "(" + expr + " || document.createDocumentFragment()).querySelector(" + string(sel) + ")"
	}
	return expr
}
