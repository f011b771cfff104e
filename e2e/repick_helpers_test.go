package e2e

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossup/ossup/internal/localcloud/faults"
	"github.com/ossup/ossup/server"
)

// The interrupted-upload tests use small parts on a throttled link, so that
// an interruption lands after a few parts and the rest of the test is fast.
const (
	rpPart      = 512 << 10
	rpConc      = 4
	rpSize      = 6<<20 + 4321 // 13 parts, the last one short
	rpBandwidth = 256 << 10    // per connection
)

// rpBackend is a backend with rpPart parts, rpConc at a time, on a
// throttled link.
func rpBackend(t *testing.T) (*server.Server, string) {
	t.Helper()
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(rpPart), "OSSUP_CONCURRENCY": strconv.Itoa(rpConc)})
	throttle(t, srv, true)
	return srv, base
}

func throttle(t testing.TB, srv *server.Server, on bool) {
	t.Helper()
	cfg := faults.Config{}
	if on {
		cfg.BandwidthBytesPerSec = rpBandwidth
	}
	if err := srv.Cloud().Faults.Set(cfg); err != nil {
		t.Fatal(err)
	}
}

// noise is n reproducible pseudo-random bytes; different seeds give
// different bytes everywhere, so any mix of two files shows.
func noise(seed uint64, n int) []byte {
	b := make([]byte, n)
	x := seed*0x9E3779B97F4A7C15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x >> 24)
	}
	return b
}

// writeWithTime writes b to path and sets its modification time, which the
// browser reports as File.lastModified.
func writeWithTime(t testing.TB, path string, b []byte, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// uploadIDs lists the multipart uploads open in the dev bucket.
func uploadIDs(t testing.TB, srv *server.Server) []string {
	t.Helper()
	cl := srv.Cloud()
	c := oss.NewClient(oss.LoadDefaultConfig().WithEndpoint(cl.OSSEndpoint).WithRegion(cl.Config.Region).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cl.Config.AccessKeyID, cl.Config.AccessKeySecret)))
	res, err := c.ListMultipartUploads(context.Background(), &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(cl.Config.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range res.Uploads {
		ids = append(ids, oss.ToString(u.UploadId))
	}
	slices.Sort(ids)
	return ids
}

// opRequests counts the requests the local OSS received for op.
func opRequests(srv *server.Server, op string) int64 {
	return srv.Cloud().OSS.Stats().Snapshot()[op].Requests
}

// waitConfirmed waits until the i-th upload of the page has at least n
// bytes acknowledged by OSS and more parts on the way, so that an
// interruption then cuts requests in flight.
func waitConfirmed(pg *tab, t testing.TB, i int, n int64) {
	t.Helper()
	js := `(h => h && h.progress.bytesConfirmed >= ` + strconv.FormatInt(n, 10) + ` && h.progress.bytesSending >= 131072)` +
		`((window.ossupDemo||{handles:[]}).handles[` + strconv.Itoa(i) + `])`
	if _, err := pollAs[bool](pg, js, 60*time.Second); err != nil {
		t.Fatalf("upload %d never confirmed %d bytes: %v", i, n, err)
	}
}

// waitEngine waits for the page's engine and its resumable-uploads list.
func waitEngine(pg *tab, t testing.TB) {
	t.Helper()
	if _, err := pollAs[bool](pg, `document.getElementById('engine-status').textContent.startsWith('engine ready') && !!(window.ossupDemo||{}).pending`, 45*time.Second); err != nil {
		t.Fatalf("engine not ready: %v", err)
	}
}

// pendingUpload is an entry of uploader.pending().
type pendingUpload struct {
	Name         string
	Size         int64
	LastModified int64
	Key          string
	BytesDone    int64
}

// pendingNow asks the engine for the resumable uploads (IndexedDB, now).
func pendingNow(pg *tab, t testing.TB) []pendingUpload {
	t.Helper()
	raw, err := evalAs[string](pg, `window.ossupDemo.uploader.pending().then(p => JSON.stringify(p))`)
	if err != nil {
		t.Fatalf("pending: %v", err)
	}
	var p []pendingUpload
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// reloadMidUpload reloads the page (the worker and its requests die as in
// a crash), lifts the throttle and returns the resumable uploads the page
// lists.
func reloadMidUpload(pg *tab, t testing.TB, srv *server.Server) []pendingUpload {
	t.Helper()
	if err := pg.reload(); err != nil {
		t.Fatal(err)
	}
	throttle(t, srv, false)
	waitEngine(pg, t)
	raw, err := evalAs[string](pg, `JSON.stringify(window.ossupDemo.pending)`)
	if err != nil {
		t.Fatal(err)
	}
	var p []pendingUpload
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// pickedLastModified is File.lastModified of the i-th file picked in the
// page.
func pickedLastModified(pg *tab, t testing.TB, i int) int64 {
	t.Helper()
	v, err := evalAs[float64](pg, `window.ossupDemo.handles[`+strconv.Itoa(i)+`].file.lastModified`)
	if err != nil {
		t.Fatal(err)
	}
	return int64(v)
}
