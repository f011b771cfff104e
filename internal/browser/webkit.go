package browser

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// miniBrowser is WebKitGTK's browser, which WebKitWebDriver drives.
const miniBrowser = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"

// webkitPaths returns WebKitWebDriver, MiniBrowser and Xvfb.
func webkitPaths() (driver, browser, xvfb string, err error) {
	if driver, err = findExe("webkit2gtk-driver", os.Getenv("OSSUP_WEBKITWEBDRIVER"), "/usr/bin/WebKitWebDriver", "WebKitWebDriver"); err != nil {
		return
	}
	if browser, err = findExe("webkit2gtk-driver", os.Getenv("OSSUP_MINIBROWSER"), miniBrowser); err != nil {
		return
	}
	xvfb, err = findExe("xvfb", "/usr/bin/Xvfb", "Xvfb")
	return
}

// webElement is the W3C WebDriver key of an element reference.
const webElement = "element-6066-11e4-a52e-4f735466cecf"

type webkitBrowser struct {
	xvfb, driver *proc
	http         *http.Client
	base         string // http://127.0.0.1:port
	session      string // /session/<id>
	version      string
	output       *tail
	proxy        *netSwitch

	mu      sync.Mutex // one command at a time, in the window it is for
	current string     // the window commands go to now

	first     *webkitPage
	closeOnce sync.Once
	closeErr  error
}

type webkitPage struct {
	b      *webkitBrowser
	handle string // window handle
	errs   errorLog
}

func launchWebKit(ctx context.Context, opts Options) (_ Browser, err error) {
	driverExe, browserExe, xvfbExe, err := webkitPaths()
	if err != nil {
		return nil, err
	}
	if opts.Executable != "" {
		browserExe = opts.Executable
	}
	b := &webkitBrowser{output: &tail{}, http: &http.Client{Transport: &http.Transport{Proxy: nil}}}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	display, err := b.startXvfb(ctx, xvfbExe)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(driverExe, "--port="+strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	cmd.Stdout = b.output
	cmd.Stderr = b.output
	if b.driver, err = startProc(cmd); err != nil {
		return nil, err
	}
	b.base = "http://127.0.0.1:" + strconv.Itoa(port)
	if err := b.waitReady(ctx); err != nil {
		return nil, err
	}

	// args replaces MiniBrowser's defaults, so --automation must be
	// there. Everything but loopback goes to a closed proxy port, or, with
	// a network switch, every request goes through it (loopback too:
	// MiniBrowser then has no ignore-host), so SetOffline can cut it.
	args := []string{"--automation"}
	if opts.NetworkSwitch || len(opts.HostAliases) > 0 {
		if b.proxy, err = startNetSwitch(opts.HostAliases); err != nil {
			return nil, err
		}
		args = append(args, "--proxy="+b.proxy.url())
	} else {
		args = append(args, "--proxy=http://"+opts.outsideProxy(), "--ignore-host=127.0.0.1", "--ignore-host=localhost", "--ignore-host=*.localhost")
	}
	var sess struct {
		SessionID    string `json:"sessionId"`
		Capabilities struct {
			BrowserName    string `json:"browserName"`
			BrowserVersion string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"pageLoadStrategy":         "normal",
		"webkitgtk:browserOptions": map[string]any{"binary": browserExe, "args": args},
	}}}
	if err := b.cmd(ctx, "POST", "/session", caps, &sess); err != nil {
		return nil, fmt.Errorf("new WebKit session: %w\n%s", err, b.output)
	}
	b.session = "/session/" + sess.SessionID
	b.version = "WebKitGTK " + sess.Capabilities.BrowserVersion
	// The driver's own bounds: a load that never ends frees the session
	// after CallTimeout; scripts are bounded by each call's context (a
	// benchmark's upload is one long script) and, in the driver, by an
	// hour. Close kills a browser whose script still runs.
	if err := b.cmd(ctx, "POST", b.session+"/timeouts", map[string]any{"script": time.Hour.Milliseconds(), "pageLoad": CallTimeout.Milliseconds(), "implicit": 0}, nil); err != nil {
		return nil, err
	}
	var handle string
	if err := b.cmd(ctx, "GET", b.session+"/window", nil, &handle); err != nil {
		return nil, err
	}
	b.current = handle
	b.first = &webkitPage{b: b, handle: handle}
	return b, nil
}

// startXvfb starts a virtual X server on a free display (-displayfd) and
// returns its name.
func (b *webkitBrowser) startXvfb(ctx context.Context, exe string) (string, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer r.Close()
	cmd := exec.Command(exe, "-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	cmd.Stderr = b.output
	b.xvfb, err = startProc(cmd)
	w.Close()
	if err != nil {
		return "", err
	}
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if n == "" {
			return "", fmt.Errorf("Xvfb did not name its display\n%s", b.output)
		}
		return ":" + n, nil
	case <-ctx.Done():
		return "", fmt.Errorf("Xvfb did not start: %w", ctx.Err())
	}
}

// waitReady waits for the driver's /status to say ready.
func (b *webkitBrowser) waitReady(ctx context.Context) error {
	for {
		var st struct {
			Ready bool `json:"ready"`
		}
		if err := b.cmd(ctx, "GET", "/status", nil, &st); err == nil && st.Ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("WebKitWebDriver not ready: %w\n%s", ctx.Err(), b.output)
		case <-b.driver.done:
			return fmt.Errorf("WebKitWebDriver exited: %v\n%s", b.driver.err, b.output)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// webdriverError is an error answer of the driver.
type webdriverError struct {
	Status                int
	Code, Message, Method string
}

func (e *webdriverError) Error() string {
	return fmt.Sprintf("%s: %d %s: %s", e.Method, e.Status, e.Code, e.Message)
}

// cmd sends one WebDriver command and decodes the answer's value into out.
func (b *webkitBrowser) cmd(ctx context.Context, method, path string, body, out any) error {
	ctx, cancel := bound(ctx, CallTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: %d %.200s", method, path, resp.StatusCode, raw)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(env.Value, &e)
		return &webdriverError{Status: resp.StatusCode, Code: e.Error, Message: e.Message, Method: method + " " + path}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(env.Value, out)
}

func (b *webkitBrowser) Engine() Engine  { return WebKit }
func (b *webkitBrowser) Version() string { return b.version }
func (b *webkitBrowser) Page() Page      { return b.first }

func (b *webkitBrowser) PIDs() []int {
	var out []int
	if b.driver != nil {
		out = append(out, b.driver.pid())
	}
	return out
}

// NewPage opens a window: screenshots of a new tab hang in WebKitGTK.
func (b *webkitBrowser) NewPage(ctx context.Context) (Page, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var w struct {
		Handle string `json:"handle"`
	}
	if err := b.cmd(ctx, "POST", b.session+"/window/new", map[string]any{"type": "window"}, &w); err != nil {
		return nil, err
	}
	return &webkitPage{b: b, handle: w.Handle}, nil
}

// Close ends the session (bounded: DELETE /session can hang), then kills
// the driver's process group, which holds MiniBrowser and its web
// processes, and Xvfb's.
func (b *webkitBrowser) Close() error {
	b.closeOnce.Do(func() {
		if b.session != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = b.cmd(ctx, "DELETE", b.session, nil, nil)
			cancel()
		}
		for _, p := range []*proc{b.driver, b.xvfb} {
			if p == nil {
				continue
			}
			if err := p.kill(); err != nil && b.closeErr == nil {
				b.closeErr = err
			}
		}
		if b.proxy != nil {
			b.proxy.close()
		}
	})
	return b.closeErr
}

// in runs f with the session's current window switched to the page's.
func (p *webkitPage) in(ctx context.Context, f func() error) error {
	b := p.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.current != p.handle {
		if err := b.cmd(ctx, "POST", b.session+"/window", map[string]any{"handle": p.handle}, nil); err != nil {
			return err
		}
		b.current = p.handle
	}
	return f()
}

// Navigate loads url. WebKitWebDriver has no log endpoint and MiniBrowser
// in automation mode does not print console messages, so the page gets an
// in-page error hook once loaded: it misses what happens before the load
// event and in workers.
func (p *webkitPage) Navigate(ctx context.Context, url string) error {
	p.harvest(ctx)
	if err := p.in(ctx, func() error {
		return p.b.cmd(ctx, "POST", p.b.session+"/url", map[string]any{"url": url}, nil)
	}); err != nil {
		return err
	}
	return p.Eval(ctx, errorHookJS, nil)
}

func (p *webkitPage) Reload(ctx context.Context) error {
	p.harvest(ctx)
	if err := p.in(ctx, func() error { return p.b.cmd(ctx, "POST", p.b.session+"/refresh", map[string]any{}, nil) }); err != nil {
		return err
	}
	return p.Eval(ctx, errorHookJS, nil)
}

// harvest moves the errors the page's hook recorded into the page's log,
// so they outlive a navigation.
func (p *webkitPage) harvest(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var errs []string
	if p.Eval(ctx, `window.__browserErrors ? window.__browserErrors.splice(0) : []`, &errs) == nil {
		for _, e := range errs {
			p.errs.add(e)
		}
	}
}

// asyncEvalJS runs an evalJS expression through Execute Async Script,
// whose callback gets either the JSON text or the error, tagged.
const asyncEvalJS = `const done = arguments[arguments.length - 1];
new Promise(r => r(%s)).then(s => done({ ok: s }), e => done({ error: String(e && e.stack ? e.name + ': ' + e.message : e) }));`

func (p *webkitPage) Eval(ctx context.Context, js string, out any) error {
	var r struct {
		OK    *string `json:"ok"`
		Error string  `json:"error"`
	}
	err := p.in(ctx, func() error {
		return p.b.cmd(ctx, "POST", p.b.session+"/execute/async", map[string]any{
			"script": fmt.Sprintf(asyncEvalJS, evalJS(js)), "args": []any{}}, &r)
	})
	if err != nil {
		return fmt.Errorf("evaluate %.80q: %w", js, err)
	}
	if r.OK == nil {
		return fmt.Errorf("evaluate %.80q: javascript: %s", js, r.Error)
	}
	return decode(*r.OK, out)
}

func (p *webkitPage) SetFiles(ctx context.Context, selector string, paths ...string) error {
	if strings.Contains(selector, ">>>") {
		return fmt.Errorf("set files on %s: shadow-root selectors are not supported in WebKit (its WebDriver finds elements in the document only)", selector)
	}
	err := p.in(ctx, func() error {
		var el map[string]string
		if err := p.b.cmd(ctx, "POST", p.b.session+"/element", map[string]any{"using": "css selector", "value": selector}, &el); err != nil {
			return err
		}
		id := el[webElement]
		if id == "" {
			return errors.New("no element reference in the answer")
		}
		return p.b.cmd(ctx, "POST", p.b.session+"/element/"+id+"/value", map[string]any{"text": strings.Join(paths, "\n")}, nil)
	})
	if err != nil {
		return fmt.Errorf("set files on %s: %w", selector, err)
	}
	return nil
}

func (p *webkitPage) Screenshot(ctx context.Context) ([]byte, error) {
	var s string
	if err := p.in(ctx, func() error { return p.b.cmd(ctx, "GET", p.b.session+"/screenshot", nil, &s) }); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(s)
}

// SetOffline cuts (or restores) the browser's network at its network
// switch: WebDriver classic has no network emulation, so the browser must
// have been started with Options.NetworkSwitch. navigator.onLine stays
// true, as on a network that drops without the OS noticing.
func (p *webkitPage) SetOffline(ctx context.Context, offline bool) error {
	if p.b.proxy == nil {
		return errors.New("webkit: SetOffline needs a browser launched with Options.NetworkSwitch")
	}
	p.b.proxy.setOffline(offline)
	return nil
}

func (p *webkitPage) Errors() []string {
	p.harvest(context.Background())
	return p.errs.list()
}

func (p *webkitPage) Close(ctx context.Context) error {
	return p.in(ctx, func() error {
		err := p.b.cmd(ctx, "DELETE", p.b.session+"/window", nil, nil)
		p.b.current = ""
		return err
	})
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
