package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/localcloud"
)

// fetchAll has the page fetch each URL and says, per name, "read <status>
// <first bytes>" or "blocked" (the browser kept the answer from the page).
// Not from the HTTP cache: Firefox answered the demo page's fetch with the
// response it had cached for the other site, without CORS headers.
const fetchAll = `(async urls => {
  const out = {};
  for (const [name, u] of Object.entries(urls)) {
    try { const r = await fetch(u, { cache: 'no-store' }); out[name] = 'read ' + r.status + ' ' + (await r.text()).slice(0, 40); }
    catch (e) { out[name] = 'blocked'; }
  }
  return JSON.stringify(out);
})`

// TestOtherSiteCannotReadDevBucket is issue 12's finding 4 in real
// browsers: a page on another site the developer visits, while dev mode
// runs, can neither list the dev bucket nor read an object from it — not
// anonymously, not with the keys that used to be fixed and published, and
// not even with a URL signed with the data dir's real keys (the bucket's
// CORS rule does not name its origin). The demo page's own origin reads the
// same signed URL, so the refusal is the origin's.
func TestOtherSiteCannotReadDevBucket(t *testing.T) {
	inEngines(t, browser.Engines, testOtherSiteCannotReadDevBucket)
}

func testOtherSiteCannotReadDevBucket(t *testing.T, e browser.Engine) {
	srv, base := backend(t, nil)
	cl := srv.Cloud()
	bucket := srv.Config().Bucket
	signer := func(id, secret string) *oss.Client {
		return oss.NewClient(oss.LoadDefaultConfig().WithEndpoint(cl.OSSEndpoint).WithRegion(cl.Config.Region).WithUsePathStyle(true).
			WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret)))
	}
	root := signer(cl.Config.AccessKeyID, cl.Config.AccessKeySecret)
	ctx := context.Background()
	const key = "uploads/alice/secret.txt"
	if _, err := root.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key), Body: strings.NewReader("the developer's data")}); err != nil {
		t.Fatal(err)
	}
	presign := func(c *oss.Client) string {
		r, err := c.Presign(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)}, oss.PresignExpires(10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return r.URL
	}
	urls := map[string]string{
		"list anonymously":           cl.OSSEndpoint + "/" + bucket + "/?list-type=2&prefix=uploads/",
		"read anonymously":           cl.OSSEndpoint + "/" + bucket + "/" + key,
		"read with the old dev keys": presign(signer(localcloud.DevAccessKeyID, localcloud.DevAccessKeySecret)),
		"read with the real keys":    presign(root),
	}
	arg, _ := json.Marshal(urls)

	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!doctype html><title>another site</title>")
	}))
	defer other.Close()
	pg := launch(t, e, browser.Options{}, 2*time.Minute)
	if err := pg.navigate(other.URL + "/"); err != nil {
		t.Fatal(err)
	}
	raw, err := evalAs[string](pg, fetchAll+"("+string(arg)+")")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatal(err)
	}
	for name := range urls {
		if got[name] != "blocked" {
			t.Errorf("%s, from %s: %s", name, other.URL, got[name])
		}
	}

	// The demo page's origin is the one the dev bucket's CORS rule names.
	if err := pg.navigate(base + "/"); err != nil {
		t.Fatal(err)
	}
	raw, err = evalAs[string](pg, fetchAll+`({"read with the real keys": `+mustJSON(t, urls["read with the real keys"])+`})`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(raw, "read 200 the developer's data") {
		t.Errorf("the signed URL from the demo page's origin: %s", raw)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
