//go:build !js

package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossup/ossup/internal/uploadapi"
)

var vctx = context.Background()

// completeOf calls complete for s reporting data.
func (c *apiClient) completeOf(s uploadapi.Session, data []byte) apiResp {
	c.t.Helper()
	return c.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": len(data), "crc64": crcString(data)})
}

// mismatchFields are the fields of a refusal's details.
func mismatchFields(t *testing.T, r apiResp) []string {
	t.Helper()
	var doc struct {
		Error struct {
			Details []mismatch `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatalf("refusal %s: %v", r.Body, err)
	}
	var out []string
	for _, m := range doc.Error.Details {
		out = append(out, m.Field)
	}
	return out
}

func objectGone(t *testing.T, b *testBackend, key string) bool {
	t.Helper()
	_, err := rootOSS(b.srv.Cloud()).HeadObject(vctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(devBucket), Key: oss.Ptr(key)})
	var se *oss.ServiceError
	if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
		return true
	}
	if err != nil {
		t.Fatalf("head %s: %v", key, err)
	}
	return false
}

func objectTags(t *testing.T, b *testBackend, key string) map[string]string {
	t.Helper()
	res, err := rootOSS(b.srv.Cloud()).GetObjectTagging(vctx, &oss.GetObjectTaggingRequest{Bucket: oss.Ptr(devBucket), Key: oss.Ptr(key)})
	if err != nil {
		t.Fatalf("tags of %s: %v", key, err)
	}
	tags := map[string]string{}
	for _, tg := range res.Tags {
		tags[oss.ToString(tg.Key)] = oss.ToString(tg.Value)
	}
	return tags
}

func createTyped(c *apiClient, name, typ string, size int64) uploadapi.Session {
	c.t.Helper()
	r := c.post("/api/v1/uploads", map[string]any{"name": name, "size": size, "type": typ})
	var s uploadapi.Session
	if r.Status != http.StatusCreated || json.Unmarshal(r.Body, &s) != nil {
		c.t.Fatalf("create %s: %d %s", name, r.Status, r.Body)
	}
	return s
}

// TestCompleteChecksWhatWasDecided: with the browser's own credentials an
// upload can store other headers than the session decided (OSS has no
// condition key for Content-Type, Content-Disposition, Content-Encoding,
// Cache-Control, user metadata, storage class, or the ACL a PutObject
// sets); complete refuses each with 422 object_mismatch naming the header,
// and the object is gone. So are an object over OSSUP_MAX_SIZE, one whose
// CRC-64 differs from the client's and an appendable one. A refused key is
// free again: the same ticket uploads it as decided and verifies.
func TestCompleteChecksWhatWasDecided(t *testing.T) {
	b := startBackend(t, merge(tokenAuth, map[string]string{
		"OSSUP_ALLOWED_TYPES": "image/*", "OSSUP_MAX_SIZE": "1000", "OSSUP_RATE_LIMIT_USER": "1000",
	}))
	alice := b.client(t, aliceToken)
	data := []byte("0123456789")
	for _, tc := range []struct {
		name, typ string
		tamper    func(*oss.PutObjectRequest)
		field     string
	}{
		{"html declared as png", "image/png", func(r *oss.PutObjectRequest) { r.ContentType = oss.Ptr("text/html") }, "Content-Type"},
		{"svg shown inline", "image/svg+xml", func(r *oss.PutObjectRequest) { r.ContentDisposition = oss.Ptr("inline") }, "Content-Disposition"},
		{"svg without the decided attachment", "image/svg+xml", func(r *oss.PutObjectRequest) { r.ContentDisposition = nil }, "Content-Disposition"},
		{"gzip encoding", "image/png", func(r *oss.PutObjectRequest) { r.ContentEncoding = oss.Ptr("gzip") }, "Content-Encoding"},
		{"immutable cache", "image/png", func(r *oss.PutObjectRequest) { r.CacheControl = oss.Ptr("public, max-age=31536000, immutable") }, "Cache-Control"},
		{"user metadata", "image/png", func(r *oss.PutObjectRequest) { r.Metadata = map[string]string{"owner": "mallory"} }, "x-oss-meta-owner"},
		{"public-read ACL", "image/png", func(r *oss.PutObjectRequest) { r.Acl = oss.ObjectACLPublicRead }, "acl"},
		{"infrequent access", "image/png", func(r *oss.PutObjectRequest) { r.StorageClass = oss.StorageClassIA }, "x-oss-storage-class"},
	} {
		s := createTyped(alice, "f.img", tc.typ, int64(len(data)))
		if err := uploadWith(s, data, tc.tamper); err != nil {
			t.Fatalf("%s: the browser's credentials could not store it (%v), so this is not the finding", tc.name, err)
		}
		r := alice.completeOf(s, data)
		if fs := mismatchFields(t, r); r.Status != http.StatusUnprocessableEntity || r.code() != "object_mismatch" || len(fs) == 0 || fs[0] != tc.field {
			t.Errorf("%s: complete %d %s, want 422 object_mismatch on %s", tc.name, r.Status, r.Body, tc.field)
		}
		if !objectGone(t, b, s.Key) {
			t.Errorf("%s: the refused object is still stored", tc.name)
		}
	}

	// Over OSSUP_MAX_SIZE, on a 10-byte session.
	s := createTyped(alice, "big.png", "image/png", 10)
	big := pseudoRandom(2000)
	if err := uploadWith(s, big, nil); err != nil {
		t.Fatal(err)
	}
	r := alice.completeOf(s, big)
	if fs := mismatchFields(t, r); r.Status != http.StatusUnprocessableEntity || len(fs) == 0 || fs[0] != "size" || !strings.Contains(string(r.Body), "OSSUP_MAX_SIZE") {
		t.Errorf("oversize: %d %s", r.Status, r.Body)
	}
	if !objectGone(t, b, s.Key) {
		t.Error("oversize object still stored")
	}

	// A CRC-64 other than the client's; then the same ticket uploads
	// again, as decided, and verifies.
	s = createTyped(alice, "crc.png", "image/png", int64(len(data)))
	upload(t, s, data)
	r = alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": len(data), "crc64": "12345"})
	if fs := mismatchFields(t, r); r.Status != http.StatusUnprocessableEntity || len(fs) != 1 || fs[0] != "crc64" {
		t.Errorf("crc mismatch: %d %s", r.Status, r.Body)
	}
	if !objectGone(t, b, s.Key) {
		t.Error("object with a mismatched CRC still stored")
	}
	upload(t, s, data)
	if r := alice.completeOf(s, data); r.Status != http.StatusOK {
		t.Errorf("upload again after a refusal: %d %s", r.Status, r.Body)
	}

	// Appendable: it could grow after complete.
	s = createTyped(alice, "app.png", "image/png", int64(len(data)))
	if _, err := ossFor(s).AppendObject(vctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.Key), Position: oss.Ptr(int64(0)),
		ContentType: oss.Ptr("image/png"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatalf("append with the session's credentials: %v", err)
	}
	r = alice.completeOf(s, data)
	if fs := mismatchFields(t, r); r.Status != http.StatusUnprocessableEntity || len(fs) == 0 || fs[0] != "x-oss-object-type" {
		t.Errorf("appendable: %d %s", r.Status, r.Body)
	}
	if !objectGone(t, b, s.Key) {
		t.Error("appendable object still stored")
	}
}

// TestBrowserCannotMarkVerified: the verified tag is the backend's alone —
// the session's credentials can neither upload with it nor set it.
func TestBrowserCannotMarkVerified(t *testing.T) {
	b := startBackend(t, tokenAuth)
	alice := b.client(t, aliceToken)
	s := createTyped(alice, "t.png", "image/png", 5)
	err := uploadWith(s, []byte("hello"), func(r *oss.PutObjectRequest) { r.Tagging = oss.Ptr(VerifiedTag + "=" + VerifiedValue) })
	var se *oss.ServiceError
	if !errors.As(err, &se) || se.StatusCode != http.StatusForbidden {
		t.Errorf("upload tagged verified with the session's credentials: %v, want 403", err)
	}
	upload(t, s, []byte("hello"))
	_, err = ossFor(s).PutObjectTagging(vctx, &oss.PutObjectTaggingRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.Key),
		Tagging: &oss.Tagging{TagSet: &oss.TagSet{Tags: []oss.Tag{{Key: oss.Ptr(VerifiedTag), Value: oss.Ptr(VerifiedValue)}}}}})
	if !errors.As(err, &se) || se.StatusCode != http.StatusForbidden {
		t.Errorf("PutObjectTagging with the session's credentials: %v, want 403", err)
	}
	if tags := objectTags(t, b, s.Key); len(tags) != 0 {
		t.Errorf("unverified object has tags %v", tags)
	}
}

// TestVerifiedIsFinal: once complete answered 200, the object is marked
// verified, a second complete gives the
// same answer without a second webhook (one delivery id throughout), and a
// complete reporting other bytes is refused without touching the object.
func TestVerifiedIsFinal(t *testing.T) {
	sink := &webhookSink{}
	hook := httptest.NewServer(sink)
	defer hook.Close()
	b := startBackend(t, merge(tokenAuth, map[string]string{"OSSUP_WEBHOOK_URL": hook.URL, "OSSUP_WEBHOOK_SECRET": hookSecret}))
	alice := b.client(t, aliceToken)
	data := pseudoRandom(1000)
	s := createTyped(alice, "final.png", "image/png", int64(len(data)))
	upload(t, s, data)
	first := alice.completeOf(s, data)
	var obj uploadapi.Object
	if first.Status != http.StatusOK || json.Unmarshal(first.Body, &obj) != nil || obj.DeliveryID == "" {
		t.Fatalf("complete: %d %s", first.Status, first.Body)
	}
	if tags := objectTags(t, b, s.Key); tags[VerifiedTag] != VerifiedValue {
		t.Errorf("verified object tags %v, want %s=%s", tags, VerifiedTag, VerifiedValue)
	}

	again := alice.completeOf(s, data)
	if again.Status != http.StatusOK || !bytes.Equal(again.Body, first.Body) {
		t.Errorf("second complete: %d %s, want the first answer %s", again.Status, again.Body, first.Body)
	}
	r := alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": len(data), "crc64": "12345"})
	if r.Status != http.StatusConflict || r.code() != "object_mismatch" || objectGone(t, b, s.Key) {
		t.Errorf("complete reporting other bytes: %d %s (the verified object must stay)", r.Status, r.Body)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.bodies) != 1 {
		t.Fatalf("%d webhook deliveries, want 1", len(sink.bodies))
	}
	var ev struct {
		ID     string           `json:"id"`
		Object uploadapi.Object `json:"object"`
	}
	_ = json.Unmarshal(sink.bodies[0], &ev)
	if ev.ID != obj.DeliveryID || ev.Object.DeliveryID != obj.DeliveryID || sink.ids[0] != obj.DeliveryID {
		t.Errorf("delivery id: body %q, object %q, header %q; complete answered %q", ev.ID, ev.Object.DeliveryID, sink.ids[0], obj.DeliveryID)
	}
}

// TestWebhookRetryKeepsDeliveryID: a failed delivery leaves the object
// unmarked, so the retried complete delivers again, with the same id.
func TestWebhookRetryKeepsDeliveryID(t *testing.T) {
	sink := &webhookSink{}
	fail := true
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail {
			http.Error(w, "down", http.StatusBadRequest)
			return
		}
		sink.ServeHTTP(w, r)
	}))
	defer hook.Close()
	b := startBackend(t, merge(tokenAuth, map[string]string{"OSSUP_WEBHOOK_URL": hook.URL, "OSSUP_WEBHOOK_SECRET": hookSecret}))
	alice := b.client(t, aliceToken)
	data := pseudoRandom(500)
	s := createTyped(alice, "w.png", "image/png", int64(len(data)))
	upload(t, s, data)
	if r := alice.completeOf(s, data); r.Status != http.StatusBadGateway || r.code() != "webhook_failed" {
		t.Fatalf("complete with the webhook down: %d %s", r.Status, r.Body)
	}
	if tags := objectTags(t, b, s.Key); tags[VerifiedTag] != "" {
		t.Errorf("marked verified before the application heard of it: %v", tags)
	}
	fail = false
	r := alice.completeOf(s, data)
	var obj uploadapi.Object
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &obj) != nil {
		t.Fatalf("retried complete: %d %s", r.Status, r.Body)
	}
	if len(sink.bodies) != 1 || sink.ids[0] != obj.DeliveryID {
		t.Errorf("deliveries %d, ids %v, want one with %s", len(sink.bodies), sink.ids, obj.DeliveryID)
	}
}

// TestChangedSinceVerification: an object changed after it was verified,
// by someone with more rights than the browser (here the account's keys),
// is not verified again: complete answers 409 object_changed and says what
// changed, and leaves the object alone.
func TestChangedSinceVerification(t *testing.T) {
	b := startBackend(t, tokenAuth)
	alice := b.client(t, aliceToken)
	root := rootOSS(b.srv.Cloud())
	data := pseudoRandom(700)

	// The type, changed in place (CopyObject onto itself keeps the tags).
	s := createTyped(alice, "c1.png", "image/png", int64(len(data)))
	upload(t, s, data)
	if r := alice.completeOf(s, data); r.Status != http.StatusOK {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	if _, err := root.CopyObject(vctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(devBucket), Key: oss.Ptr(s.Key), SourceKey: oss.Ptr(s.Key),
		MetadataDirective: oss.Ptr("REPLACE"), ContentType: oss.Ptr("text/html")}); err != nil {
		t.Fatal(err)
	}
	r := alice.completeOf(s, data)
	if fs := mismatchFields(t, r); r.Status != http.StatusConflict || r.code() != "object_changed" || len(fs) == 0 || fs[0] != "Content-Type" {
		t.Errorf("type changed: %d %s", r.Status, r.Body)
	}

	// Other bytes of the same size, the tags carried over.
	s = createTyped(alice, "c2.png", "image/png", int64(len(data)))
	upload(t, s, data)
	if r := alice.completeOf(s, data); r.Status != http.StatusOK {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	other := pseudoRandom(1400)[700:]
	tags := objectTags(t, b, s.Key)
	if _, err := root.PutObject(vctx, &oss.PutObjectRequest{Bucket: oss.Ptr(devBucket), Key: oss.Ptr(s.Key), ContentType: oss.Ptr("image/png"),
		Tagging: oss.Ptr(VerifiedTag + "=" + tags[VerifiedTag] + "&" + VerifiedObjectTag + "=" + tags[VerifiedObjectTag]), Body: bytes.NewReader(other)}); err != nil {
		t.Fatal(err)
	}
	r = alice.completeOf(s, other)
	if fs := mismatchFields(t, r); r.Status != http.StatusConflict || r.code() != "object_changed" || len(fs) == 0 || fs[0] != "size.crc64" {
		t.Errorf("bytes changed: %d %s", r.Status, r.Body)
	}
	if objectGone(t, b, s.Key) {
		t.Error("complete deleted an object it had verified")
	}
}
