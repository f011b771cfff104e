package e2e

import (
	"strconv"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/server/loopback"
)

// TestExpiringTokens: JWT auth with 60-second tokens from a page-side
// headers function (cached until 5 s before expiry, as token getters do),
// STS credentials of 10 s, a throttled upload of a few minutes. The
// upload outlives its first token with no error reaching the page. Then
// the identity provider fails: once the last token expires the upload
// waits in state unauthenticated; when tokens come again it continues, and
// nothing is re-sent beyond the parts in flight.
func TestExpiringTokens(t *testing.T) {
	inEngines(t, chromiumOnly, testExpiringTokens)
}

func testExpiringTokens(t *testing.T, e browser.Engine) {
	const partSize, concurrency = 256 << 10, 3
	page := servePage(t, "localhost")
	env := jwtEnv()
	for k, v := range map[string]string{
		"OSSUP_DATA_DIR": t.TempDir(), "OSSUP_API_ONLY": "true", "OSSUP_CORS_ORIGINS": "*",
		"OSSUP_STS_DURATION": "10s", "OSSUP_STS_MIN_DURATION": "10s",
		"OSSUP_PART_SIZE": strconv.Itoa(partSize), "OSSUP_CONCURRENCY": strconv.Itoa(concurrency),
	} {
		env[k] = v
	}
	lb, err := loopback.Start(env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lb.Close() })
	srv := lb.Server
	setBucketCORS(t, srv, "*", "ETag", "x-oss-hash-crc64ecma", "x-oss-request-id")

	pg := launch(t, e, browser.Options{}, 8*time.Minute)
	if err := pg.navigate(page.url(page.Origin+"/web/ossup.js", lb.Base, "jwt")); err != nil {
		t.Fatal(err)
	}
	waitApp(pg, t, `a.version`, true, 45*time.Second)
	path, data := writeFile(t, t.TempDir(), "tokens.bin", 24<<20+99)
	setBandwidth(t, srv, 32<<10)
	start := time.Now()
	pickFiles(pg, t, path)

	// Past the first token's expiry and the backend's 30 s leeway.
	time.Sleep(time.Until(start.Add(100 * time.Second)))
	a := readApp(pg, t)
	if len(a.Errors) > 0 || len(a.Results) > 0 || page.minted.Load() < 2 {
		t.Fatalf("after 100 s: errors %v, results %d, %d tokens minted (want 2 or more)", a.Errors, len(a.Results), page.minted.Load())
	}
	for _, s := range a.States["tokens.bin"] {
		if s == "unauthenticated" || s == "failed" {
			t.Fatalf("with tokens to be had the upload went %s: %v", s, a.States["tokens.bin"])
		}
	}
	t.Logf("after 100 s: %d tokens minted, the function called %d times, states %v", page.minted.Load(), a.TokenCalls, a.States["tokens.bin"])

	page.failTokens.Store(true)
	a = waitApp(pg, t, `(a.states['tokens.bin'] || []).includes('unauthenticated')`, true, 2*time.Minute)
	t.Logf("unauthenticated after %s", time.Since(start).Round(time.Second))
	before := srv.Cloud().OSS.Stats().Snapshot()["UploadPart"].BytesIn
	page.failTokens.Store(false)
	setBandwidth(t, srv, 0)
	a = waitApp(pg, t, `a.results.length`, true, 2*time.Minute)
	checkObject(t, srv, a.Results[0], data)
	sent := srv.Cloud().OSS.Stats().Snapshot()["UploadPart"].BytesIn
	if resent := sent - int64(len(data)); resent > concurrency*partSize {
		t.Fatalf("re-sent %d bytes, more than the %d parts in flight (%d bytes sent before the pause)", resent, concurrency, before)
	}
	t.Logf("done after %s; states %v; %d bytes re-sent", time.Since(start).Round(time.Second), a.States["tokens.bin"], sent-int64(len(data)))
}
