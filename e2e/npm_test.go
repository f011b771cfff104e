package e2e

import (
	"crypto/sha256"
	"encoding/json"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/localcloud/faults"
	"github.com/ossup/ossup/server/loopback"
)

// TestNPMPackageInViteApp: the packed npm tarball, installed into a small
// Vite app and built with no bundler configuration, runs from the app's own
// origin (a static host) against an API-only backend on another origin: the
// worker, Go's glue and the engine come from the app's build under hashed
// names, the engine is the package's version, and an upload interrupted by a
// reload resumes from its checkpoint and arrives identical; in every
// engine. (Seen failing in Firefox: the app kept the picked file in its
// input, which Firefox restores across a reload, so picking it again was
// no change; the app now clears the input as an app should.)
func TestNPMPackageInViteApp(t *testing.T) {
	inEngines(t, browser.Engines, testNPMPackageInViteApp)
}

func testNPMPackageInViteApp(t *testing.T, e browser.Engine) {
	const partSize, concurrency = 1 << 20, 4
	dist := viteApp(t)
	assets, err := os.ReadDir(filepath.Join(dist, "assets"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range assets {
		names = append(names, a.Name())
	}
	for _, want := range []string{"ossup-worker-", "wasm_exec-", "engine-"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Fatalf("the Vite build lacks %s*: %v", want, names)
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://" + ln.Addr().String()
	srv, err := loopback.Start(map[string]string{
		"OSSUP_DATA_DIR": t.TempDir(), "OSSUP_API_ONLY": "true", "OSSUP_CORS_ORIGINS": origin,
		"OSSUP_PART_SIZE": strconv.Itoa(partSize), "OSSUP_CONCURRENCY": strconv.Itoa(concurrency),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	staticSite(t, ln, dist)
	cloud := srv.Cloud()
	if err := cloud.Faults.Set(faults.Config{BandwidthBytesPerSec: 256 << 10}); err != nil {
		t.Fatal(err)
	}

	pg := launch(t, e, browser.Options{}, 4*time.Minute)
	if err := pg.navigate(origin + "/?backend=" + url.QueryEscape(srv.Base)); err != nil {
		t.Fatal(err)
	}
	version, err := pollAs[string](pg, `window.app && (window.app.version || (window.app.errors[0] && 'error: ' + window.app.errors[0].message))`, 45*time.Second)
	if err != nil {
		t.Fatalf("the app's uploader never got ready: %v", err)
	}
	var pkg struct{ Version string }
	b, _ := os.ReadFile(filepath.Join(repoRoot(t), "web", "package.json"))
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	if version != pkg.Version {
		t.Fatalf("engine version %q, package version %q", version, pkg.Version)
	}
	// Every part of the browser side came from the app's origin.
	loaded, err := evalAs[[]string](pg, `performance.getEntriesByType('resource').map(r => r.name)`)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range loaded {
		if !strings.HasPrefix(r, origin+"/") && !strings.HasPrefix(r, srv.Base+"/api/") {
			t.Errorf("the page loaded %s, from neither the app nor the API", r)
		}
	}

	path, data := writeFile(t, t.TempDir(), "vite.bin", 12<<20+321)
	pickFiles(pg, t, path)
	if _, err := pollAs[float64](pg, `(h => h && h.progress.bytesConfirmed >= 3*1048576 ? h.progress.bytesConfirmed : null)(window.app.handles[0])`, 90*time.Second); err != nil {
		t.Fatalf("upload never got going: %v (errors %v)", err, appErrors(pg))
	}
	if err := pg.reload(); err != nil {
		t.Fatal(err)
	}
	if err := cloud.Faults.Set(faults.Config{}); err != nil {
		t.Fatal(err)
	}
	if n, err := pollAs[float64](pg, `window.app && window.app.pending ? window.app.pending.length : null`, 45*time.Second); err != nil || n != 1 {
		t.Fatalf("after the reload the app lists %v resumable uploads (%v), want 1", n, err)
	}
	pickFiles(pg, t, path)
	raw, err := pollAs[string](pg, `(a => a.errors.length || a.results.length ? JSON.stringify(a) : null)(window.app)`, 2*time.Minute)
	if err != nil {
		t.Fatalf("the resumed upload did not finish: %v", err)
	}
	var res struct {
		Results []struct{ Key string }
		Errors  []map[string]any
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil || len(res.Errors) > 0 || len(res.Results) != 1 {
		t.Fatalf("app state %s (%v)", raw, err)
	}
	got := readBack(t, srv.Server, res.Results[0].Key)
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("object differs: %d bytes stored, %d sent", len(got), len(data))
	}
	sent := cloud.OSS.Stats().Snapshot()["UploadPart"].BytesIn
	if resent := sent - int64(len(data)); resent > concurrency*partSize {
		t.Fatalf("re-sent %d bytes after the reload, more than the %d parts in flight", resent, concurrency)
	}
}

func appErrors(pg *tab) string {
	s, _ := evalAs[string](pg, `JSON.stringify(window.app && window.app.errors)`)
	return s
}
