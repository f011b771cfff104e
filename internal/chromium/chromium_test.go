package chromium

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestStart starts the Chromium that `make deps` installs, with the tests'
// options, and runs script in its first tab.
func TestStart(t *testing.T) {
	exe, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop, err := Start(Options(exe, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ua, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "HeadlessChrome"; !strings.Contains(ua, want) {
		t.Fatalf("user agent %q: not headless", ua)
	}
}

func TestPathPrefersTheGivenOne(t *testing.T) {
	self := t.TempDir() // exists: Path only checks that
	if p, err := Path("/nonexistent/chromium", self); err != nil || p != self {
		t.Fatalf("Path = %q, %v; want %q", p, err, self)
	}
}
