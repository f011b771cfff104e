package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossup/ossup/internal/browser"
)

// TestUploadMetadata: upload(file, { meta }) from the page reaches the
// backend's create, which lets through only OSSUP_META_FIELDS; the engine
// sends the session's x-oss-meta-* headers, so the object is stored with
// them and complete verifies it. A field outside the allow-list fails the
// upload with the backend's code.
func TestUploadMetadata(t *testing.T) {
	inEngines(t, chromiumOnly, func(t *testing.T, e browser.Engine) {
		srv, base := backend(t, map[string]string{"OSSUP_META_FIELDS": "albumId,title", "OSSUP_PART_SIZE": "1048576"})
		pg := openDemo(t, e, base)
		for _, size := range []int{300_000, 2<<20 + 5} {
			raw, err := evalAs[string](pg, `(async () => {
			  const f = new File([new Uint8Array(`+strconv.Itoa(size)+`).map((_, i) => (i * 7) & 255)], 'meta.bin');
			  const h = window.ossupDemo.uploader.upload(f, { meta: { albumId: 'a-17', title: 'Summer%202024' } });
			  return JSON.stringify(await h.done);
			})()`)
			if err != nil {
				t.Fatalf("upload with meta (%d bytes): %v", size, err)
			}
			var res struct{ Key string }
			if err := json.Unmarshal([]byte(raw), &res); err != nil {
				t.Fatal(err)
			}
			want := make([]byte, size)
			for i := range want {
				want[i] = byte(i * 7)
			}
			if got := readBack(t, srv, res.Key); !bytes.Equal(got, want) {
				t.Errorf("%d bytes: stored %d bytes differ", size, len(got))
			}
			head, err := rootOSS(srv).HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: oss.Ptr(srv.Cloud().Config.Bucket), Key: oss.Ptr(res.Key)})
			if err != nil {
				t.Fatal(err)
			}
			if head.Metadata["albumid"] != "a-17" || head.Metadata["title"] != "Summer%202024" || len(head.Metadata) != 2 {
				t.Errorf("%d bytes: stored metadata %v", size, head.Metadata)
			}
		}
		code, err := pollAs[string](pg, `(() => { if (!window.metaRefused) { window.metaRefused = 'pending';
		    window.ossupDemo.uploader.upload(new File(['x'], 'refused.bin'), { meta: { owner: 'mallory' } }).done.then(() => { window.metaRefused = 'accepted'; }, (e) => { window.metaRefused = e.code || e.message; }); }
		  return window.metaRefused === 'pending' ? null : window.metaRefused; })()`, time.Minute)
		if err != nil || code != "meta_not_allowed" {
			t.Errorf("an upload with a field outside the allow-list ended %q (%v), want meta_not_allowed", code, err)
		}
	})
}

// TestWidgetMetadata: the widget's meta property (a function of the file
// and its folder path) gives each upload its application metadata; a
// Chinese title is stored RFC 2047-encoded.
func TestWidgetMetadata(t *testing.T) {
	inEngines(t, browser.Engines, func(t *testing.T, e browser.Engine) {
		srv, base := backend(t, map[string]string{"OSSUP_META_FIELDS": "albumId,title"})
		pg := openWidget(t, e, base, "")
		if _, err := evalAs[bool](pg, `(document.querySelector('ossup-uploader').meta = ({ file, path }) => ({ albumId: 'a-9', title: '相册 ' + (path || file.name) }), true)`); err != nil {
			t.Fatal(err)
		}
		p, want := writeFile(t, t.TempDir(), "夏.bin", 1000)
		pickWidget(pg, t, "input.files", p)
		waitRow(pg, t, "夏.bin", "done", time.Minute)
		res := resultFor(t, widgetResults(pg, t), "夏.bin")
		if got := readBack(t, srv, res.Key); !bytes.Equal(got, want) {
			t.Errorf("stored %d bytes differ", len(got))
		}
		head, err := rootOSS(srv).HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: oss.Ptr(srv.Cloud().Config.Bucket), Key: oss.Ptr(res.Key)})
		if err != nil {
			t.Fatal(err)
		}
		if head.Metadata["albumid"] != "a-9" || head.Metadata["title"] != mime.BEncoding.Encode("UTF-8", "相册 夏.bin") {
			t.Errorf("stored metadata %v", head.Metadata)
		}
		// A field the backend refuses: the row fails, in plain words with
		// the backend's message and its request id.
		if _, err := evalAs[bool](pg, `(document.querySelector('ossup-uploader').meta = { owner: 'mallory' }, true)`); err != nil {
			t.Fatal(err)
		}
		p2, _ := writeFile(t, t.TempDir(), "refused.bin", 10)
		pickWidget(pg, t, "input.files", p2)
		waitRow(pg, t, "refused.bin", "failed", time.Minute)
		if r := viewWidget(pg, t).row(t, "refused.bin"); !strings.Contains(r.Error, "owner") || !regexp.MustCompile(`\(request id [0-9a-zA-Z-]{8,}\)`).MatchString(r.Error) {
			t.Errorf("a refused field reads %q: want the backend's words and its request id", r.Error)
		}
	})
}
