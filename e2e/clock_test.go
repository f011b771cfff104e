package e2e

import (
	"strconv"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/server/loopback"
)

// TestClockSkew: with the browser's clock 10 minutes behind (OSS still
// accepts its signatures, so no skew error would ever correct it) and 2
// hours ahead, an upload throttled over several 10-s credential lifetimes
// gets no refusal from OSS at all — no SecurityTokenExpired, no
// RequestTimeTooSkewed — and arrives identical: the engine runs on the
// backend's clock, learnt from its answers' serverTime.
func TestClockSkew(t *testing.T) {
	inEngines(t, chromiumOnly, testClockSkew)
}

func testClockSkew(t *testing.T, e browser.Engine) {
	for _, skew := range []time.Duration{-10 * time.Minute, 2 * time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			const partSize = 256 << 10
			page := servePage(t, "127.0.0.1")
			lb, err := loopback.Start(map[string]string{
				"OSSUP_DATA_DIR": t.TempDir(), "OSSUP_API_ONLY": "true", "OSSUP_CORS_ORIGINS": page.Origin,
				"OSSUP_STS_DURATION": "10s", "OSSUP_STS_MIN_DURATION": "10s",
				"OSSUP_PART_SIZE": strconv.Itoa(partSize), "OSSUP_CONCURRENCY": "2",
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { lb.Close() })
			cl := lb.Server.Cloud()
			setCloudCORS(t, cl, page.Origin, "ETag", "x-oss-hash-crc64ecma", "x-oss-request-id")
			pg := launch(t, e, browser.Options{}, 4*time.Minute)
			if err := pg.navigate(page.url(page.Origin+"/web/ossup.js", lb.Base, "dev") + "&skewMs=" + strconv.FormatInt(skew.Milliseconds(), 10)); err != nil {
				t.Fatal(err)
			}
			waitApp(pg, t, `a.version`, true, 45*time.Second)
			// At 2 x 32 KiB/s, over a minute here: several credential lifetimes.
			path, data := writeFile(t, t.TempDir(), "skew.bin", 1600_000)
			setCloudBandwidth(t, cl, 32<<10)
			pickFiles(pg, t, path)
			a := waitApp(pg, t, `a.results.length`, true, 3*time.Minute)
			checkCloudObject(t, cl, a.Results[0], data)
			// The browser's requests (the backend's own, such as its
			// write-once check, may be answered 404 by design).
			stats := cl.OSS.Stats().Snapshot()
			for _, op := range []string{"PutObject", "InitiateMultipartUpload", "UploadPart", "ListParts", "CompleteMultipartUpload", "AbortMultipartUpload"} {
				if n := stats[op].Errors; n > 0 {
					t.Errorf("%s: %d refusals from OSS", op, n)
				}
			}
			t.Logf("%d UploadPart requests", stats["UploadPart"].Requests)
		})
	}
}
