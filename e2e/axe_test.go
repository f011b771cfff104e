package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
)

// axeViolations runs axe-core (tests/axe, pinned in its lock file) on the
// page, shadow roots included, and returns its violations as "rule: target"
// lines.
func axeViolations(pg *tab, t testing.TB) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "tests", "axe", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core is not installed (run make deps: npm ci --prefix tests/axe): %v", err)
	}
	// The source goes in the evaluated script itself, not through eval:
	// the page's CSP has no 'unsafe-eval', and WebKit applies it to an eval
	// inside a WebDriver script (Chromium and Firefox do not).
	if _, err := evalAs[bool](pg, `(() => { if (!window.axe) { `+string(src)+`
} return !!window.axe; })()`); err != nil {
		t.Fatalf("load axe-core: %v", err)
	}
	raw, err := evalAs[string](pg, `axe.run(document, { resultTypes: ['violations'] }).then(r => JSON.stringify(r.violations.flatMap(v => v.nodes.map(n => v.id + ': ' + JSON.stringify(n.target) + ' ' + n.failureSummary)))) `)
	if err != nil {
		t.Fatalf("axe.run: %v", err)
	}
	var out []string
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWidgetAccessible: axe-core finds no violation on the widget's page,
// shadow root included, idle and with a finished upload's row, in English
// and in Chinese. (Seen failing: the page had no main landmark, so axe
// reported landmark-one-main and region for everything on it.)
func TestWidgetAccessible(t *testing.T) {
	inEngines(t, browser.Engines, func(t *testing.T, e browser.Engine) {
		srv, base := backend(t, nil)
		for _, lang := range []string{"en", "zh-CN"} {
			pg := openWidget(t, e, base, "")
			if _, err := evalAs[bool](pg, `(document.querySelector('ossup-uploader').setAttribute('lang', `+strconv.Quote(lang)+`), true)`); err != nil {
				t.Fatal(err)
			}
			if v := axeViolations(pg, t); len(v) != 0 {
				t.Errorf("%s, idle: %d violations: %v", lang, len(v), v)
			}
			path, data := writeFile(t, t.TempDir(), "a11y.bin", 300_000)
			pickWidget(pg, t, "input.files", path)
			if _, err := pollAs[bool](pg, `window.ossupWidget.results.length >= 1 || window.ossupWidget.errors.length >= 1`, time.Minute); err != nil {
				t.Fatalf("%s: the upload did not end: %v", lang, err)
			}
			raw, err := evalAs[string](pg, `JSON.stringify(window.ossupWidget)`)
			if err != nil {
				t.Fatal(err)
			}
			var w struct {
				Results []struct{ Key string }
				Errors  []map[string]any
			}
			if err := json.Unmarshal([]byte(raw), &w); err != nil || len(w.Errors) != 0 || len(w.Results) != 1 {
				t.Fatalf("%s: widget outcome %s (%v)", lang, raw, err)
			}
			if got := readBack(t, srv, w.Results[0].Key); string(got) != string(data) {
				t.Fatalf("%s: object differs", lang)
			}
			if v := axeViolations(pg, t); len(v) != 0 {
				t.Errorf("%s, with an upload row: %d violations: %v", lang, len(v), v)
			}
		}
	})
}
