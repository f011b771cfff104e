package browser

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// firefoxPath returns the first of prefer, $OSSUP_FIREFOX, Debian's
// firefox-esr or firefox that exists.
func firefoxPath(prefer ...string) (string, error) {
	return findExe("firefox-esr", append(prefer, os.Getenv("OSSUP_FIREFOX"), "/usr/bin/firefox-esr", "firefox-esr", "firefox")...)
}

// firefoxPrefs go into the profile's user.js. The remote agent applies its
// own recommended automation prefs on top (remote.prefs.recommended); these
// keep Firefox off every network but loopback: anything not for loopback
// goes to a closed proxy port, and loopback is never proxied
// (allow_hijacking_localhost false), so it is reached directly.
var firefoxPrefs = map[string]any{
	"network.proxy.type":                          1,
	"network.proxy.share_proxy_settings":          true,
	"network.proxy.no_proxies_on":                 "localhost, 127.0.0.1, .localhost",
	"network.proxy.allow_hijacking_localhost":     false,
	"network.trr.mode":                            5,
	"network.dns.disablePrefetch":                 true,
	"network.prefetch-next":                       false,
	"network.http.speculative-parallel-limit":     0,
	"network.captive-portal-service.enabled":      false,
	"network.connectivity-service.enabled":        false,
	"app.update.disabledForTesting":               true,
	"app.update.auto":                             false,
	"browser.safebrowsing.malware.enabled":        false,
	"browser.safebrowsing.phishing.enabled":       false,
	"browser.safebrowsing.downloads.enabled":      false,
	"browser.safebrowsing.blockedURIs.enabled":    false,
	"browser.shell.checkDefaultBrowser":           false,
	"browser.startup.homepage_override.mstone":    "ignore",
	"datareporting.policy.dataSubmissionEnabled":  false,
	"datareporting.healthreport.uploadEnabled":    false,
	"toolkit.telemetry.enabled":                   false,
	"toolkit.telemetry.server":                    "",
	"extensions.update.enabled":                   false,
	"extensions.getAddons.cache.enabled":          false,
	"browser.region.network.url":                  "",
	"geo.provider.network.url":                    "",
	"services.settings.server":                    "http://127.0.0.1:9/v1",
	"messaging-system.rsexperimentloader.enabled": false,
	"app.normandy.enabled":                        false,
	"browser.discovery.enabled":                   false,
	"dom.disable_open_during_load":                false,
}

var bidiListening = regexp.MustCompile(`WebDriver BiDi listening on (ws://[0-9.:]+)`)

type firefoxBrowser struct {
	proc      *proc
	conn      *bidiConn
	version   string
	profile   string // removed by Close, if Launch made it
	first     *firefoxPage
	mu        sync.Mutex
	pages     map[string]*firefoxPage // by browsing context id
	closeOnce sync.Once
	closeErr  error
	output    *tail
}

type firefoxPage struct {
	b    *firefoxBrowser
	id   string // browsing context
	errs errorLog
}

func launchFirefox(ctx context.Context, opts Options) (_ Browser, err error) {
	exe, err := firefoxPath(opts.Executable)
	if err != nil {
		return nil, err
	}
	b := &firefoxBrowser{pages: map[string]*firefoxPage{}, output: &tail{}}
	profile := opts.Profile
	if profile == "" {
		if profile, err = os.MkdirTemp("", "ossup-firefox-"); err != nil {
			return nil, err
		}
		b.profile = profile
	}
	if err := os.MkdirAll(profile, 0o700); err != nil {
		return nil, err
	}
	if err := writeUserJS(profile, opts.outsideProxy(), opts.HostAliases); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	// System access lets SetOffline switch Firefox's own offline state,
	// as the OS does when the network goes (BiDi has no command for it).
	cmd := exec.Command(exe, "--headless", "--no-remote", "--profile", profile,
		"--remote-debugging-port=0", "--remote-allow-origins=http://127.0.0.1", "--remote-allow-system-access")
	cmd.Env = append(os.Environ(), "MOZ_CRASHREPORTER_DISABLE=1", "MOZ_CRASHREPORTER_SHUTDOWN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = b.output
	if b.proc, err = startProc(cmd); err != nil {
		return nil, err
	}
	wsURL := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			b.output.Write([]byte(line + "\n"))
			if m := bidiListening.FindStringSubmatch(line); m != nil && !sent {
				wsURL <- m[1]
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	var url string
	select {
	case url = <-wsURL:
	case <-b.proc.done:
		return nil, fmt.Errorf("firefox exited before listening: %v\n%s", b.proc.err, b.output)
	case <-ctx.Done():
		return nil, fmt.Errorf("firefox did not start its WebDriver BiDi server: %w\n%s", ctx.Err(), b.output)
	}
	if b.conn, err = dialBiDi(ctx, url+"/session", b.event); err != nil {
		return nil, err
	}
	var sess struct {
		Capabilities struct {
			BrowserName    string `json:"browserName"`
			BrowserVersion string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	if err := b.conn.call(ctx, "session.new", map[string]any{"capabilities": map[string]any{}}, &sess); err != nil {
		return nil, err
	}
	b.version = "Firefox " + sess.Capabilities.BrowserVersion
	if err := b.conn.call(ctx, "session.subscribe", map[string]any{"events": []string{"log.entryAdded"}}, nil); err != nil {
		return nil, err
	}
	var tree struct {
		Contexts []struct {
			Context string `json:"context"`
		} `json:"contexts"`
	}
	if err := b.conn.call(ctx, "browsingContext.getTree", map[string]any{"maxDepth": 0}, &tree); err != nil {
		return nil, err
	}
	if len(tree.Contexts) == 0 {
		return nil, errors.New("firefox has no browsing context")
	}
	b.first = b.page(tree.Contexts[0].Context)
	return b, nil
}

// writeUserJS writes firefoxPrefs into the profile, with proxy
// (host:port) for everything but loopback and the aliases.
func writeUserJS(profile, proxy string, aliases []string) error {
	host, port, err := net.SplitHostPort(proxy)
	if err != nil {
		return fmt.Errorf("outside proxy %q: %w", proxy, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("outside proxy %q: %w", proxy, err)
	}
	prefs := map[string]any{"network.proxy.http": host, "network.proxy.http_port": n, "network.proxy.ssl": host, "network.proxy.ssl_port": n}
	for k, v := range firefoxPrefs {
		prefs[k] = v
	}
	if len(aliases) > 0 {
		// localDomains resolve to loopback; they must not be proxied.
		prefs["network.dns.localDomains"] = strings.Join(aliases, ",")
		prefs["network.proxy.no_proxies_on"] = firefoxPrefs["network.proxy.no_proxies_on"].(string) + ", " + strings.Join(aliases, ", ")
	}
	var sb strings.Builder
	for k, v := range prefs {
		val, _ := json.Marshal(v)
		fmt.Fprintf(&sb, "user_pref(%q, %s);\n", k, val)
	}
	return os.WriteFile(filepath.Join(profile, "user.js"), []byte(sb.String()), 0o644)
}

func (b *firefoxBrowser) page(id string) *firefoxPage {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := &firefoxPage{b: b, id: id}
	b.pages[id] = p
	return p
}

// event routes log entries (of pages and their workers) to their page.
func (b *firefoxBrowser) event(method string, params json.RawMessage) {
	if method != "log.entryAdded" {
		return
	}
	var e struct {
		Type   string `json:"type"`
		Level  string `json:"level"`
		Text   string `json:"text"`
		Source struct {
			Context string `json:"context"`
		} `json:"source"`
	}
	if json.Unmarshal(params, &e) != nil || e.Level != "error" {
		return
	}
	kind := "console.error: "
	if e.Type == "javascript" {
		kind = "uncaught: "
	}
	b.mu.Lock()
	p := b.pages[e.Source.Context]
	if p == nil {
		p = b.first
	}
	b.mu.Unlock()
	if p != nil {
		p.errs.add(kind + e.Text)
	}
}

func (b *firefoxBrowser) Engine() Engine  { return Firefox }
func (b *firefoxBrowser) Version() string { return b.version }
func (b *firefoxBrowser) Page() Page      { return b.first }
func (b *firefoxBrowser) PIDs() []int     { return []int{b.proc.pid()} }

func (b *firefoxBrowser) NewPage(ctx context.Context) (Page, error) {
	var r struct {
		Context string `json:"context"`
	}
	if err := b.conn.call(ctx, "browsingContext.create", map[string]any{"type": "tab"}, &r); err != nil {
		return nil, err
	}
	return b.page(r.Context), nil
}

// Close asks Firefox to quit (browser.close: it writes its profile and
// exits), waits at most 15 s, then kills its process group.
func (b *firefoxBrowser) Close() error {
	b.closeOnce.Do(func() {
		if b.conn != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = b.conn.call(ctx, "browser.close", nil, nil)
			cancel()
			b.conn.close()
		}
		if b.proc != nil {
			if !b.proc.exited(15 * time.Second) {
				b.closeErr = errors.New("firefox did not exit within 15 s of browser.close")
			}
			if err := b.proc.kill(); err != nil && b.closeErr == nil {
				b.closeErr = err
			}
		}
		if b.profile != "" {
			os.RemoveAll(b.profile)
		}
	})
	return b.closeErr
}

func (p *firefoxPage) Navigate(ctx context.Context, url string) error {
	return p.b.conn.call(ctx, "browsingContext.navigate", map[string]any{"context": p.id, "url": url, "wait": "complete"}, nil)
}

func (p *firefoxPage) Reload(ctx context.Context) error {
	return p.b.conn.call(ctx, "browsingContext.reload", map[string]any{"context": p.id, "wait": "complete"}, nil)
}

// bidiResult is a script.evaluate answer.
type bidiResult struct {
	Type   string `json:"type"` // success, exception
	Result struct {
		Type     string          `json:"type"`
		Value    json.RawMessage `json:"value"`
		SharedID string          `json:"sharedId"`
	} `json:"result"`
	ExceptionDetails struct {
		Text string `json:"text"`
	} `json:"exceptionDetails"`
}

func (p *firefoxPage) evaluate(ctx context.Context, expr string, await bool) (*bidiResult, error) {
	var r bidiResult
	err := p.b.conn.call(ctx, "script.evaluate", map[string]any{
		"expression": expr, "target": map[string]any{"context": p.id},
		"awaitPromise": await, "resultOwnership": "none",
	}, &r)
	if err != nil {
		return nil, err
	}
	if r.Type == "exception" {
		return nil, fmt.Errorf("javascript: %s", r.ExceptionDetails.Text)
	}
	return &r, nil
}

func (p *firefoxPage) Eval(ctx context.Context, js string, out any) error {
	r, err := p.evaluate(ctx, evalJS(js), true)
	if err != nil {
		return fmt.Errorf("evaluate %.80q: %w", js, err)
	}
	var s string
	if err := json.Unmarshal(r.Result.Value, &s); err != nil {
		return fmt.Errorf("evaluate %.80q: a %s, not a string: %w", js, r.Result.Type, err)
	}
	return decode(s, out)
}

func (p *firefoxPage) SetFiles(ctx context.Context, selector string, paths ...string) error {
	r, err := p.evaluate(ctx, queryJS(selector), false)
	if err != nil {
		return fmt.Errorf("set files on %s: %w", selector, err)
	}
	if r.Result.SharedID == "" {
		return fmt.Errorf("set files on %s: no such element", selector)
	}
	err = p.b.conn.call(ctx, "input.setFiles", map[string]any{
		"context": p.id, "element": map[string]any{"sharedId": r.Result.SharedID}, "files": paths}, nil)
	if err != nil {
		return fmt.Errorf("set files on %s: %w", selector, err)
	}
	return nil
}

func (p *firefoxPage) Screenshot(ctx context.Context) ([]byte, error) {
	var r struct {
		Data string `json:"data"`
	}
	if err := p.b.conn.call(ctx, "browsingContext.captureScreenshot", map[string]any{"context": p.id}, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}

// SetOffline uses BiDi's network-conditions emulation, which fails the
// requests of the page and its workers, and switches Firefox's own offline
// state (Services.io.offline, in the browser's chrome window), which is
// what turns navigator.onLine false and fires offline and online events:
// Firefox does the same when the OS says the network is gone.
func (p *firefoxPage) SetOffline(ctx context.Context, offline bool) error {
	var conds any
	if offline {
		conds = map[string]any{"type": "offline"}
	}
	if err := p.b.conn.call(ctx, "emulation.setNetworkConditions", map[string]any{"networkConditions": conds, "contexts": []string{p.id}}, nil); err != nil {
		return err
	}
	var tree struct {
		Contexts []struct {
			Context string `json:"context"`
		} `json:"contexts"`
	}
	if err := p.b.conn.call(ctx, "browsingContext.getTree", map[string]any{"maxDepth": 0, "moz:scope": "chrome"}, &tree); err != nil {
		return fmt.Errorf("the chrome window: %w", err)
	}
	if len(tree.Contexts) == 0 {
		return errors.New("firefox has no chrome window")
	}
	expr := fmt.Sprintf("Services.io.manageOfflineStatus = false; Services.io.offline = %v; Services.io.offline", offline)
	var r bidiResult
	err := p.b.conn.call(ctx, "script.evaluate", map[string]any{"expression": expr,
		"target": map[string]any{"context": tree.Contexts[0].Context}, "awaitPromise": false, "resultOwnership": "none"}, &r)
	if err != nil {
		return err
	}
	if r.Type != "success" || string(r.Result.Value) != fmt.Sprint(offline) {
		return fmt.Errorf("Services.io.offline = %v: %s %s", offline, r.Result.Value, r.ExceptionDetails.Text)
	}
	return nil
}

func (p *firefoxPage) Errors() []string { return p.errs.list() }

func (p *firefoxPage) Close(ctx context.Context) error {
	err := p.b.conn.call(ctx, "browsingContext.close", map[string]any{"context": p.id}, nil)
	p.b.mu.Lock()
	delete(p.b.pages, p.id)
	p.b.mu.Unlock()
	return err
}

// tail keeps the last 16 KiB written to it: a browser's output, for the
// error when it fails to start.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if n := len(t.buf) - 16<<10; n > 0 {
		t.buf = append([]byte(nil), t.buf[n:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
