//go:build !js

package server

import (
	"context"
	"encoding/json"
	"mime"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossup/ossup/internal/uploadapi"
)

// withSessionMeta sends the x-oss-meta-* headers the session decided, as
// the engine does (uploadWith sends the others).
func withSessionMeta(s uploadapi.Session, extra map[string]string) func(*oss.PutObjectRequest) {
	return func(r *oss.PutObjectRequest) {
		h := s.Headers.PutObject
		if !s.SinglePut {
			h = s.Headers.InitiateMultipartUpload
		}
		r.Metadata = map[string]string{}
		for k, v := range h {
			if name, ok := strings.CutPrefix(k, "x-oss-meta-"); ok {
				r.Metadata[name] = v
			}
		}
		for k, v := range extra {
			r.Metadata[k] = v
		}
	}
}

// TestMetadataEndToEnd: metadata of the fields OSSUP_META_FIELDS allows
// becomes the session's x-oss-meta-* headers for every request that
// creates the object, is stored on it, and comes back in complete's answer
// and the webhook under the configured names. A field outside the
// allow-list is refused with 400 naming it, bad values with 400
// invalid_meta, and an object stored with other metadata than decided (or
// without the decided one) is refused at complete with 422 object_mismatch.
func TestMetadataEndToEnd(t *testing.T) {
	sink := &webhookSink{}
	hook := httptest.NewServer(sink)
	defer hook.Close()
	b := startBackend(t, merge(tokenAuth, map[string]string{
		"OSSUP_META_FIELDS": "albumId,title", "OSSUP_RATE_LIMIT_USER": "1000",
		"OSSUP_WEBHOOK_URL": hook.URL, "OSSUP_WEBHOOK_SECRET": hookSecret, "OSSUP_PART_SIZE": "5242880",
	}))
	alice := b.client(t, aliceToken)
	create := func(name string, size int, meta any) (uploadapi.Session, apiResp) {
		r := alice.post("/api/v1/uploads", map[string]any{"name": name, "size": size, "meta": meta})
		var s uploadapi.Session
		_ = json.Unmarshal(r.Body, &s)
		return s, r
	}
	for _, size := range []int{10, 11 << 20} {
		data := pseudoRandom(size)
		s, r := create("photo.jpg", size, map[string]string{"albumid": "a-17", "title": "Summer%202024"})
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		h := s.Headers.PutObject
		if !s.SinglePut {
			h = s.Headers.InitiateMultipartUpload
			if len(s.Headers.CompleteMultipartUpload) != 1 {
				t.Errorf("CompleteMultipartUpload headers %v: metadata belongs to the initiate", s.Headers.CompleteMultipartUpload)
			}
		}
		if h["x-oss-meta-albumid"] != "a-17" || h["x-oss-meta-title"] != "Summer%202024" {
			t.Fatalf("session headers %v lack the metadata", h)
		}
		if err := uploadWith(s, data, withSessionMeta(s, nil)); err != nil {
			t.Fatal(err)
		}
		r = alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": size, "crc64": crcString(data)})
		var obj uploadapi.Object
		if r.Status != 200 || json.Unmarshal(r.Body, &obj) != nil || obj.Meta["albumId"] != "a-17" || obj.Meta["title"] != "Summer%202024" || len(obj.Meta) != 2 {
			t.Fatalf("complete (%d bytes): %d %s", size, r.Status, r.Body)
		}
	}
	sink.mu.Lock()
	n := len(sink.bodies)
	var ev struct{ Object uploadapi.Object }
	if n > 0 {
		_ = json.Unmarshal(sink.bodies[n-1], &ev)
	}
	sink.mu.Unlock()
	if n != 2 || ev.Object.Meta["albumId"] != "a-17" || ev.Object.Meta["title"] != "Summer%202024" {
		t.Errorf("webhook: %d deliveries, last object meta %v", n, ev.Object.Meta)
	}

	for _, tc := range []struct {
		meta       any
		code, want string
	}{
		{map[string]string{"albumId": "1", "owner": "mallory", "acl": "x"}, "meta_not_allowed", "acl, owner are not allowed; allowed: albumId, title"},
		{map[string]string{"title": "a\u202etxt.exe"}, "invalid_meta", "U+202E"},
		{map[string]string{"title": "=?UTF-8?b?eA==?="}, "invalid_meta", "RFC 2047"},
		{map[string]string{"title": "zero\u200bwidth"}, "invalid_meta", "U+200B"},
		{map[string]string{"title": "a\r\nx-oss-acl: public-read"}, "invalid_meta", "U+000D"},
		{map[string]string{"title": ""}, "invalid_meta", "empty"},
		{map[string]string{"title": " padded"}, "invalid_meta", "space"},
		{map[string]string{"title": strings.Repeat("t", 513)}, "invalid_meta", "over 512"},
		{map[string]string{"title": "x", "TITLE": "y"}, "invalid_meta", "twice"},
		{map[string]any{"title": 7}, "invalid_json", "meta"},
	} {
		if _, r := create("a.jpg", 1, tc.meta); r.Status != 400 || r.code() != tc.code || !strings.Contains(string(r.Body), tc.want) {
			t.Errorf("meta %v: %d %s, want 400 %s naming %q", tc.meta, r.Status, r.Body, tc.code, tc.want)
		}
	}

	// An engine that stores other metadata than the session allowed.
	for _, tc := range []struct {
		name  string
		meta  map[string]string
		extra map[string]string
		field string
	}{
		{"an extra field", map[string]string{"albumId": "a-1"}, map[string]string{"owner": "mallory"}, "x-oss-meta-owner"},
		{"another value", map[string]string{"albumId": "a-1"}, map[string]string{"albumid": "a-2"}, "x-oss-meta-albumid"},
	} {
		data := []byte("m")
		s, r := create("m.txt", 1, tc.meta)
		if r.Status != 201 {
			t.Fatalf("%s: create %d %s", tc.name, r.Status, r.Body)
		}
		if err := uploadWith(s, data, withSessionMeta(s, tc.extra)); err != nil {
			t.Fatal(err)
		}
		r = alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": 1, "crc64": crcString(data)})
		if r.Status != 422 || r.code() != "object_mismatch" || !strings.Contains(string(r.Body), tc.field) {
			t.Errorf("%s: complete %d %s, want 422 object_mismatch naming %s", tc.name, r.Status, r.Body, tc.field)
		}
	}
	// Without the decided metadata.
	data := []byte("n")
	s, _ := create("n.txt", 1, map[string]string{"title": "t"})
	if err := uploadWith(s, data, nil); err != nil {
		t.Fatal(err)
	}
	if r := alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": 1, "crc64": crcString(data)}); r.Status != 422 || !strings.Contains(string(r.Body), "x-oss-meta-title") {
		t.Errorf("stored without the decided metadata: %d %s", r.Status, r.Body)
	}
}

// TestMetadataRefusedWithoutAllowList: with no OSSUP_META_FIELDS, any
// metadata is refused by name; bad field names refuse to start.
func TestMetadataRefusedWithoutAllowList(t *testing.T) {
	b := startBackend(t, tokenAuth)
	alice := b.client(t, aliceToken)
	r := alice.post("/api/v1/uploads", map[string]any{"name": "a", "size": 1, "meta": map[string]string{"albumId": "1"}})
	if r.Status != 400 || r.code() != "meta_not_allowed" || !strings.Contains(string(r.Body), "OSSUP_META_FIELDS is empty") {
		t.Errorf("%d %s", r.Status, r.Body)
	}
	for _, bad := range []string{"album id", "albumId,AlbumID", "a_b", "-x"} {
		if _, err := ParseMetaFields(bad); err == nil {
			t.Errorf("ParseMetaFields(%q) accepted", bad)
		}
	}
}

// TestMetadataInUTF8AndInKeys: a non-ASCII value (a Chinese title) is
// accepted; the session's header carries it RFC 2047-encoded (HTTP header
// values are ASCII), the object stores that, complete verifies it, and
// complete's answer and the webhook give the original text back, with the
// file's relativePath. {meta.albumId} in the key template puts the field in
// the key sanitised as names are; an upload without it is refused with 400
// missing_meta, and a template naming a field outside OSSUP_META_FIELDS
// does not start.
func TestMetadataInUTF8AndInKeys(t *testing.T) {
	sink := &webhookSink{}
	hook := httptest.NewServer(sink)
	defer hook.Close()
	b := startBackend(t, merge(tokenAuth, map[string]string{
		"OSSUP_META_FIELDS": "albumId,title", "OSSUP_KEY_TEMPLATE": "albums/{user}/{meta.albumId}/{random}/{path}{name}",
		"OSSUP_WEBHOOK_URL": hook.URL, "OSSUP_WEBHOOK_SECRET": hookSecret,
	}))
	alice := b.client(t, aliceToken)
	title := "夏天的海 🌊, 2024 — a long title that needs more than one encoded word to fit RFC 2047's 75 characters"
	data := []byte("summer")
	r := alice.post("/api/v1/uploads", map[string]any{"name": "海.jpg", "size": len(data), "relativePath": "相册/夏/海.jpg",
		"meta": map[string]string{"albumId": "家庭/../2024", "title": title}})
	var s uploadapi.Session
	if r.Status != 201 || json.Unmarshal(r.Body, &s) != nil {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	if !strings.HasPrefix(s.Key, "albums/alice/家庭_.._2024/") || !strings.HasSuffix(s.Key, "/相册/夏/海.jpg") {
		t.Errorf("key %q: want the album id sanitised in it, then the folders", s.Key)
	}
	h := s.Headers.PutObject["x-oss-meta-title"]
	for _, c := range h {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("session header x-oss-meta-title %q is not printable ASCII", h)
		}
	}
	if got, err := new(mime.WordDecoder).DecodeHeader(h); err != nil || got != title || !strings.HasPrefix(h, "=?UTF-8?b?") {
		t.Errorf("x-oss-meta-title %q decodes to %q (%v), want the title", h, got, err)
	}
	if s.Headers.PutObject["x-oss-meta-albumid"] != "=?UTF-8?b?5a625bqtLy4uLzIwMjQ=?=" {
		t.Errorf("x-oss-meta-albumid %q", s.Headers.PutObject["x-oss-meta-albumid"])
	}
	if err := uploadWith(s, data, withSessionMeta(s, nil)); err != nil {
		t.Fatal(err)
	}
	head, err := rootOSS(b.srv.Cloud()).HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.Key)})
	if err != nil || head.Metadata["title"] != h {
		t.Fatalf("stored title %q (%v), want %q", head.Metadata["title"], err, h)
	}
	r = alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": len(data), "crc64": crcString(data)})
	var obj uploadapi.Object
	if r.Status != 200 || json.Unmarshal(r.Body, &obj) != nil || obj.Meta["title"] != title || obj.Meta["albumId"] != "家庭/../2024" || obj.RelativePath != "相册/夏/海.jpg" {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	sink.mu.Lock()
	var ev struct{ Object uploadapi.Object }
	if len(sink.bodies) == 1 {
		_ = json.Unmarshal(sink.bodies[0], &ev)
	}
	sink.mu.Unlock()
	if ev.Object.Meta["title"] != title || ev.Object.RelativePath != "相册/夏/海.jpg" {
		t.Errorf("webhook object: meta %v, relativePath %q", ev.Object.Meta, ev.Object.RelativePath)
	}

	for _, meta := range []map[string]string{nil, {"title": "t"}} {
		r := alice.post("/api/v1/uploads", map[string]any{"name": "a.jpg", "size": 1, "meta": meta})
		if r.Status != 400 || r.code() != "missing_meta" || !strings.Contains(string(r.Body), "albumId") {
			t.Errorf("meta %v under a {meta.albumId} template: %d %s, want 400 missing_meta", meta, r.Status, r.Body)
		}
	}
	cfg, err := LoadConfig(env(map[string]string{"OSSUP_META_FIELDS": "title", "OSSUP_KEY_TEMPLATE": "albums/{user}/{meta.albumId}/{random}/{name}",
		"OSSUP_DATA_DIR": t.TempDir(), "OSSUP_ADDR": "127.0.0.1:0", "OSSUP_LOCAL_OSS_ADDR": "127.0.0.1:0", "OSSUP_LOCAL_STS_ADDR": "127.0.0.1:0"}))
	if err == nil {
		_, err = New(cfg, nil)
	}
	if err == nil || !strings.Contains(err.Error(), "{meta.albumId}") {
		t.Errorf("a template naming a field outside OSSUP_META_FIELDS: %v", err)
	}
}
