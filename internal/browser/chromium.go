package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// ChromiumPath returns the Chromium to run: the first of prefer (a flag,
// say), $OSSUP_CHROMIUM, /usr/bin/chromium and /usr/bin/chromium-browser
// that exists, else chromium on $PATH.
func ChromiumPath(prefer ...string) (string, error) {
	return findExe("chromium", append(prefer, os.Getenv("OSSUP_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "chromium")...)
}

// chromiumProxy keeps Chromium off every network but loopback: everything
// else goes to a closed port. "<-loopback>" drops the implicit loopback
// bypass, so only the hosts listed after it bypass the proxy.
const (
	chromiumBypass    = "<-loopback>;127.0.0.1;localhost;*.localhost"
	chromiumStartWait = 90 * time.Second
)

// ChromiumOptions are the allocator options of a headless Chromium at exe
// with its profile in profileDir, then extra. Without the
// background-networking flags Chromium floods a closed network with refused
// connections, whose CPU would count as the page's; no-sandbox because CI
// runs as root. The browser runs in a process group of its own, which
// Close kills.
func ChromiumOptions(exe, profileDir string, extra ...chromedp.ExecAllocatorOption) []chromedp.ExecAllocatorOption {
	return chromiumOptions(exe, profileDir, Options{}, extra...)
}

func chromiumOptions(exe, profileDir string, o Options, extra ...chromedp.ExecAllocatorOption) []chromedp.ExecAllocatorOption {
	bypass := chromiumBypass
	if len(o.HostAliases) > 0 {
		var rules []string
		for _, h := range o.HostAliases {
			rules = append(rules, "MAP "+h+" 127.0.0.1")
			bypass += ";" + h
		}
		extra = append(extra, chromedp.Flag("host-resolver-rules", strings.Join(rules, ",")))
	}
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
		chromedp.ProxyServer("http://"+o.outsideProxy()),
		chromedp.Flag("proxy-bypass-list", bypass),
	)
	return append(opts, extra...)
}

type chromiumBrowser struct {
	first     *chromiumPage
	version   string
	stopAlloc context.CancelFunc
	pgid      int
	profile   string // removed by Close, if Launch made it
	closeOnce sync.Once
	closeErr  error
}

type chromiumPage struct {
	ctx     context.Context // chromedp's context of the tab: no deadline
	cancel  context.CancelFunc
	errs    errorLog
	mu      sync.Mutex
	workers map[target.ID]attached
}

func launchChromium(ctx context.Context, opts Options) (Browser, error) {
	exe, err := ChromiumPath(opts.Executable)
	if err != nil {
		return nil, err
	}
	b := &chromiumBrowser{}
	profile := opts.Profile
	if profile == "" {
		if profile, err = os.MkdirTemp("", "ossup-chromium-"); err != nil {
			return nil, err
		}
		b.profile = profile
	}
	var extra []chromedp.ExecAllocatorOption
	for k, v := range opts.ChromiumFlags {
		extra = append(extra, chromedp.Flag(k, v))
	}
	extra = append(extra, chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	}))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromiumOptions(exe, profile, opts, extra...)...)
	tctx, cancelTab := chromedp.NewContext(actx)
	b.stopAlloc = func() { cancelTab(); cancelAlloc() }
	b.first = &chromiumPage{ctx: tctx, cancel: cancelTab}
	// The first action starts the browser; chromedp ties the browser's
	// life to the context of that action, so it must not carry a
	// deadline: the wait is bounded here instead.
	sctx, cancel := bound(ctx, chromiumStartWait)
	err = runBounded(sctx, func() error { return chromedp.Do(tctx, chromedp.Navigate("about:blank")) })
	cancel()
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	if c := chromedp.FromContext(tctx); c != nil && c.Browser != nil && c.Browser.Process() != nil {
		b.pgid = c.Browser.Process().Pid
	}
	b.first.listen()
	b.version = InstalledVersion(Chromium)
	_ = b.first.do(ctx, chromedp.Func(func(c context.Context, _ *chromedp.Target) error {
		v, err := chromedp.CallBrowser(c, cdpbrowser.GetVersion, cdp.Empty{})
		if err == nil {
			_, num, _ := strings.Cut(v.Product, "/")
			b.version = "Chromium " + num
		}
		return err
	}))
	return b, nil
}

func (b *chromiumBrowser) Engine() Engine  { return Chromium }
func (b *chromiumBrowser) Version() string { return b.version }
func (b *chromiumBrowser) Page() Page      { return b.first }

func (b *chromiumBrowser) PIDs() []int {
	if b.pgid == 0 {
		return nil
	}
	return []int{b.pgid}
}

func (b *chromiumBrowser) NewPage(ctx context.Context) (Page, error) {
	tctx, cancel := chromedp.NewContext(b.first.ctx)
	p := &chromiumPage{ctx: tctx, cancel: cancel}
	// The first action opens the tab, whose life chromedp ties to the
	// context of that action: run it on the tab's own context.
	if err := runBounded(ctx, func() error { return chromedp.Do(tctx, chromedp.Navigate("about:blank")) }); err != nil {
		cancel()
		return nil, fmt.Errorf("new tab: %w", err)
	}
	p.listen()
	return p, nil
}

// Close closes the browser through chromedp (which waits for the process
// to exit, so a kept profile is complete), bounded, then kills its process
// group.
func (b *chromiumBrowser) Close() error {
	b.closeOnce.Do(func() {
		done := make(chan struct{})
		go func() {
			ctx, cancel := context.WithTimeout(b.first.ctx, 20*time.Second)
			defer cancel()
			_ = chromedp.Cancel(ctx)
			b.stopAlloc()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.closeErr = errors.New("chromium did not close within 30 s")
		}
		if b.pgid != 0 {
			if err := killGroup(b.pgid); err != nil && b.closeErr == nil {
				b.closeErr = err
			}
		}
		if b.profile != "" {
			os.RemoveAll(b.profile)
		}
	})
	return b.closeErr
}

// runBounded runs f, which cannot take ctx, and returns its error or
// ctx's, whichever comes first (f then goes on until it returns).
func runBounded(ctx context.Context, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// listen collects the tab's console errors and uncaught exceptions.
func (p *chromiumPage) listen() {
	_ = chromedp.Listen(p.ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range ev.Args {
					if a.Value != nil {
						parts = append(parts, strings.Trim(string(a.Value), `"`))
					} else {
						parts = append(parts, a.Description)
					}
				}
				p.errs.add("console.error: " + strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			p.errs.add("uncaught: " + msg)
		}
	})
}

// do runs actions on the tab, bounded by ctx and CallTimeout. chromedp
// runs on the tab's own context (a deadline there would end the tab), so
// the bound is applied by waiting.
func (p *chromiumPage) do(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := bound(ctx, CallTimeout)
	defer cancel()
	// chromedp finds the tab through the context's values: run on a
	// context that has the tab's values and ends when ctx does (ending
	// it ends the call, not the tab).
	rctx, rcancel := context.WithCancel(p.ctx)
	defer rcancel()
	stop := context.AfterFunc(ctx, rcancel)
	defer stop()
	err := chromedp.Do(rctx, actions...)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

func (p *chromiumPage) Navigate(ctx context.Context, url string) error {
	return p.do(ctx, chromedp.Navigate(url))
}

func (p *chromiumPage) Reload(ctx context.Context) error { return p.do(ctx, chromedp.Reload()) }

func (p *chromiumPage) Eval(ctx context.Context, js string, out any) error {
	var s string
	err := p.do(ctx, chromedp.Func(func(c context.Context, t *chromedp.Target) error {
		v, err := chromedp.Evaluate[string](evalJS(js), chromedp.EvalAwaitPromise)(c, t)
		s = v
		return err
	}))
	if err != nil {
		return fmt.Errorf("evaluate %.80q: %w", js, err)
	}
	return decode(s, out)
}

func (p *chromiumPage) SetFiles(ctx context.Context, selector string, paths ...string) error {
	// chromedp's query would wait for the element to appear.
	var found bool
	if err := p.Eval(ctx, "!!"+queryJS(selector), &found); err != nil {
		return fmt.Errorf("set files on %s: %w", selector, err)
	}
	if !found {
		return fmt.Errorf("set files on %s: no such element", selector)
	}
	if err := p.do(ctx, chromedp.SetUploadFiles(chromedp.JSPath(queryJS(selector)), paths)); err != nil {
		return fmt.Errorf("set files on %s: %w", selector, err)
	}
	return nil
}

// Screenshot captures the whole page, beyond the viewport (the small
// headless window cuts a list of uploads off), or the viewport when the
// page cannot say its size.
func (p *chromiumPage) Screenshot(ctx context.Context) ([]byte, error) {
	params := page.CaptureScreenshotParams{}
	var size struct{ W, H float64 }
	if p.Eval(ctx, `({ w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight })`, &size) == nil && size.W > 0 && size.H > 0 {
		beyond := true
		params.CaptureBeyondViewport = &beyond
		params.Clip = &page.Viewport{Width: size.W, Height: size.H, Scale: 1}
	}
	var png []byte
	err := p.do(ctx, chromedp.Func(func(c context.Context, _ *chromedp.Target) error {
		r, err := chromedp.Call(c, page.CaptureScreenshot, params)
		png = r.Data
		return err
	}))
	return png, err
}

// SetOffline emulates an outage through the DevTools protocol, on the tab
// and on each of the browser's dedicated workers (the engine runs in one):
// their requests fail and navigator.onLine turns false.
func (p *chromiumPage) SetOffline(ctx context.Context, offline bool) error {
	conds := []*network.Conditions{}
	if offline {
		conds = append(conds, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
	}
	return p.do(ctx, chromedp.Func(func(c context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(c, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: conds}); err != nil {
			return fmt.Errorf("emulate offline=%v: %w", offline, err)
		}
		if _, err := chromedp.Call(c, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
			return fmt.Errorf("navigator.onLine=%v: %w", !offline, err)
		}
		infos, err := chromedp.Targets(c)
		if err != nil {
			return fmt.Errorf("list targets: %w", err)
		}
		for _, i := range infos {
			if i.Type != "worker" {
				continue
			}
			_, err := chromedp.Call(p.worker(i.TargetID), network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: conds})
			if err != nil {
				return fmt.Errorf("emulate offline=%v in worker %s: %w", offline, i.URL, err)
			}
		}
		return nil
	}))
}

// worker is a chromedp context attached to the worker target id, kept for
// the page's life; cancelling it detaches without closing the worker.
func (p *chromiumPage) worker(id target.ID) context.Context {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w, ok := p.workers[id]; ok {
		return w.ctx
	}
	ctx, cancel := chromedp.NewContext(p.ctx, chromedp.WithTargetID(id), chromedp.WithDetachOnCancel())
	if p.workers == nil {
		p.workers = map[target.ID]attached{}
	}
	p.workers[id] = attached{ctx, cancel}
	return ctx
}

type attached struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func (p *chromiumPage) Errors() []string { return p.errs.list() }

func (p *chromiumPage) Close(ctx context.Context) error {
	p.mu.Lock()
	for _, w := range p.workers {
		w.cancel()
	}
	p.mu.Unlock()
	// Cancelling a tab's context closes the tab and waits for it.
	done := make(chan struct{})
	go func() { p.cancel(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CDP returns the chromedp context of a Chromium page, for what only the
// DevTools protocol offers (heap sizes, profiles, the Network domain); ok
// is false for the other engines. The context has no deadline: bound each
// use.
func CDP(p Page) (ctx context.Context, ok bool) {
	cp, ok := p.(*chromiumPage)
	if !ok {
		return nil, false
	}
	return cp.ctx, true
}
