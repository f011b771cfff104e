package e2e

import (
	"strconv"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/localcloud"
	"github.com/ossup/ossup/server/loopback"
)

// originsRow is one deployment of the three-origin matrix: page, backend
// and OSS each on an origin of its own.
type originsRow struct {
	name string
	// bucketAny: the bucket's CORS rule is "*" (else it names the page).
	bucketAny bool
	// jwt: token auth (a headers function) with the backend's CORS "*";
	// else dev auth (a cookie) with the backend's CORS naming the page,
	// on the same site (127.0.0.1, another port: an http cookie is Lax).
	jwt bool
	// moduleFromBackend: the page loads ossup.js (and so its worker and
	// engine) from the backend's origin, not its own.
	moduleFromBackend bool
	// worker: the backend is the Workers build in workerd, pointed at a
	// local cloud of its own (token rows only: dev mode is native-only).
	worker bool
}

var originsRows = []originsRow{
	{name: "bucket*_api*_jwt", bucketAny: true, jwt: true},
	{name: "bucketOrigin_api*_jwt_moduleFromBackend", jwt: true, moduleFromBackend: true},
	{name: "bucket*_apiOrigin_dev", bucketAny: true},
	{name: "bucketOrigin_apiOrigin_dev_moduleFromBackend", moduleFromBackend: true},
	{name: "bucket*_api*_jwt_workerd", bucketAny: true, jwt: true, worker: true},
}

// TestThreeOrigins: in each deployment of the matrix, a multipart file and
// a single-PUT file upload, the multipart one is interrupted by a reload
// and resumes from its checkpoint, and both arrive identical. Token rows
// run the page on another site (localhost) than the backend and OSS
// (127.0.0.1).
func TestThreeOrigins(t *testing.T) {
	for _, row := range originsRows {
		t.Run(row.name, func(t *testing.T) {
			inEngines(t, browser.Engines, func(t *testing.T, e browser.Engine) { testThreeOrigins(t, e, row) })
		})
	}
}

func testThreeOrigins(t *testing.T, e browser.Engine, row originsRow) {
	const partSize, concurrency = 256 << 10, 3
	host, auth := "127.0.0.1", "dev"
	if row.jwt {
		host, auth = "localhost", "jwt"
	}
	page := servePage(t, host)
	env := map[string]string{
		"OSSUP_DATA_DIR": t.TempDir(), "OSSUP_WEB_DIR": builtWeb(t), "OSSUP_CORS_ORIGINS": page.Origin,
		"OSSUP_PART_SIZE": strconv.Itoa(partSize), "OSSUP_CONCURRENCY": strconv.Itoa(concurrency),
	}
	if row.jwt {
		env["OSSUP_CORS_ORIGINS"] = "*"
		for k, v := range jwtEnv() {
			env[k] = v
		}
	}
	var cl *localcloud.Cloud
	var base string
	if row.worker {
		cl, base = workerBackend(t, env)
	} else {
		lb, err := loopback.Start(env)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lb.Close() })
		cl, base = lb.Server.Cloud(), lb.Base
	}
	bucketOrigin := page.Origin
	if row.bucketAny {
		bucketOrigin = "*"
	}
	setCloudCORS(t, cl, bucketOrigin, "ETag", "x-oss-hash-crc64ecma", "x-oss-request-id")
	module := page.Origin + "/web/ossup.js"
	if row.moduleFromBackend {
		module = base + "/ossup.js"
	}
	t.Logf("page %s, backend %s, OSS %s, bucket rule %s, ossup.js from %s", page.Origin, base, cl.OSSEndpoint, bucketOrigin, module)

	pg := launch(t, e, browser.Options{}, 5*time.Minute)
	if err := pg.navigate(page.url(module, base, auth)); err != nil {
		t.Fatal(err)
	}
	waitApp(pg, t, `a.version`, true, 45*time.Second)

	dir := t.TempDir()
	multi, multiData := writeFile(t, dir, "origins-multi.bin", 3<<20+123)
	single, singleData := writeFile(t, dir, "origins-single.bin", 100_000)
	setCloudBandwidth(t, cl, 256<<10)
	pickFiles(pg, t, multi, single)
	a := waitApp(pg, t, `a.results.some(r => r.name === 'origins-single.bin') && a.handles.some(h => h.file.name === 'origins-multi.bin' && h.progress.bytesConfirmed >= 2*262144)`, true, 2*time.Minute)
	for _, r := range a.Results {
		checkCloudObject(t, cl, r, singleData)
	}
	if err := pg.reload(); err != nil {
		t.Fatal(err)
	}
	setCloudBandwidth(t, cl, 0)
	a = waitApp(pg, t, `a.pending`, true, 45*time.Second)
	if len(a.Pending) != 1 {
		t.Fatalf("after the reload the page lists %d resumable uploads, want 1: %v", len(a.Pending), a.Pending)
	}
	pickFiles(pg, t, multi)
	a = waitApp(pg, t, `a.results.length`, true, 2*time.Minute)
	checkCloudObject(t, cl, a.Results[0], multiData)
	sent := cl.OSS.Stats().Snapshot()["UploadPart"].BytesIn
	if resent := sent - int64(len(multiData)); resent > concurrency*partSize {
		t.Fatalf("re-sent %d bytes after the reload, more than the %d parts in flight", resent, concurrency)
	}
	if row.jwt && a.TokenCalls == 0 {
		t.Fatal("the headers function was never called")
	}
}
