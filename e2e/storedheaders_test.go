package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossup/ossup/internal/browser"
)

// TestExecutableTypesStoredAsAttachment: files a browser would execute
// (HTML, SVG) are stored with the type the backend decided and
// Content-Disposition: attachment, by a single PutObject and by a multipart
// upload, and verified; a type shown in place (PNG) is stored without one.
// complete refuses an object stored without the decided disposition, so
// this is the engine sending the session's headers on every request that
// creates the object, in each browser.
func TestExecutableTypesStoredAsAttachment(t *testing.T) {
	inEngines(t, browser.Engines, testExecutableTypesStoredAsAttachment)
}

func testExecutableTypesStoredAsAttachment(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(256 << 10)})
	pg := openDemo(t, e, base)
	dir := t.TempDir()
	want := map[string]struct{ typ, disposition string }{
		"page.html":   {"text/html", "attachment"},     // multipart
		"drawing.svg": {"image/svg+xml", "attachment"}, // PutObject
		"photo.png":   {"image/png", ""},
	}
	sizes := map[string]int{"page.html": 600_000, "drawing.svg": 20_000, "photo.png": 30_000}
	var paths []string
	data := map[string][]byte{}
	for name, n := range sizes {
		p, b := writeFile(t, dir, name, n)
		paths = append(paths, p)
		data[name] = b
	}
	pickFiles(pg, t, paths...)
	results := waitResults(pg, t, len(paths), 2*time.Minute)
	if len(results) != len(paths) {
		t.Fatalf("%d results for %d files", len(results), len(paths))
	}
	root := rootOSS(srv)
	bucket := srv.Cloud().Config.Bucket
	for _, r := range results {
		checkStored(t, srv, r, data[r.Name])
		head, err := root.HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(r.Key)})
		if err != nil {
			t.Fatal(err)
		}
		w := want[r.Name]
		if got := oss.ToString(head.ContentType); got != w.typ {
			t.Errorf("%s: stored Content-Type %q, want %q", r.Name, got, w.typ)
		}
		if got := head.Headers.Get("Content-Disposition"); got != w.disposition {
			t.Errorf("%s: stored Content-Disposition %q, want %q", r.Name, got, w.disposition)
		}
		tags, err := root.GetObjectTagging(context.Background(), &oss.GetObjectTaggingRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(r.Key)})
		if err != nil {
			t.Fatal(err)
		}
		verified := false
		for _, tg := range tags.Tags {
			verified = verified || oss.ToString(tg.Key) == "ossup-verified" && oss.ToString(tg.Value) == "1"
		}
		if !verified {
			t.Errorf("%s: not marked verified", r.Name)
		}
	}
}
