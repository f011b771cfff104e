//go:build !js

package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossup/ossup/internal/uploadapi"
)

// refreshOf asks for fresh credentials for s's ticket.
func (c *apiClient) refreshOf(s uploadapi.Session) (uploadapi.CredentialsRefresh, apiResp) {
	c.t.Helper()
	r := c.post("/api/v1/uploads/credentials", map[string]any{"ticket": s.Ticket})
	var out uploadapi.CredentialsRefresh
	if r.Status == http.StatusOK {
		if err := json.Unmarshal(r.Body, &out); err != nil {
			c.t.Fatal(err)
		}
	}
	return out, r
}

// withCreds is s holding other credentials.
func withCreds(s uploadapi.Session, c uploadapi.Credentials) uploadapi.Session {
	s.Credentials = c
	return s
}

// swapAttempts try to replace the object at key with other bytes of the
// same size, with s's credentials, every way those credentials allow a
// write: PutObject without x-oss-forbid-overwrite, with it false, a
// multipart upload without it, and a copy of the object onto itself. Each
// returns the error OSS answered (nil: the object was replaced).
func swapAttempts(s uploadapi.Session, key string, size int) map[string]error {
	c := ossFor(s)
	html := bytes.Repeat([]byte("<"), size)
	put := func(forbid *string) error {
		_, err := c.PutObject(vctx, &oss.PutObjectRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(key),
			ContentType: oss.Ptr("text/html"), ForbidOverwrite: forbid, Body: bytes.NewReader(html)})
		return err
	}
	multipart := func() error {
		up, err := c.InitiateMultipartUpload(vctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(key), ContentType: oss.Ptr("text/html")})
		if err != nil {
			return err
		}
		part, err := c.UploadPart(vctx, &oss.UploadPartRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(key), UploadId: up.UploadId,
			PartNumber: 1, Body: bytes.NewReader(html)})
		if err != nil {
			return err
		}
		_, err = c.CompleteMultipartUpload(vctx, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(key), UploadId: up.UploadId,
			CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: []oss.UploadPart{{PartNumber: 1, ETag: part.ETag}}}})
		return err
	}
	copyOnto := func() error {
		_, err := c.CopyObject(vctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(key), SourceKey: oss.Ptr(key),
			MetadataDirective: oss.Ptr("REPLACE"), ContentType: oss.Ptr("text/html")})
		return err
	}
	return map[string]error{
		"PutObject": put(nil), "PutObject forbid-overwrite false": put(oss.Ptr("false")),
		"multipart upload": multipart(), "CopyObject onto itself": copyOnto(),
	}
}

// checkSwapsRefused fails t for every attempt that replaced the object or
// was refused otherwise than OSS refuses an overwrite (409
// FileAlreadyExists) or a write the session may not make at all (403).
func checkSwapsRefused(t *testing.T, who string, attempts map[string]error) {
	t.Helper()
	for name, err := range attempts {
		var se *oss.ServiceError
		switch {
		case err == nil:
			t.Errorf("%s: %s replaced the verified object", who, name)
		case !errors.As(err, &se):
			t.Errorf("%s: %s: %v", who, name, err)
		case se.StatusCode == http.StatusConflict && se.Code == "FileAlreadyExists":
		case strings.HasPrefix(name, "CopyObject") && se.StatusCode == http.StatusForbidden:
			// The session has no oss:GetObject on the source.
		default:
			t.Errorf("%s: %s: %d %s, want 409 FileAlreadyExists", who, name, se.StatusCode, se.Code)
		}
	}
}

// TestVerifiedObjectCannotBeReplaced is finding 1 of issue 12: after
// complete answered 200, neither the credentials the session handed out
// nor credentials refreshed before (or after) can replace the object, the
// ticket mints no more credentials (409 ticket_spent), and a second
// complete after the attempts answers the first verification again without
// a second webhook.
func TestVerifiedObjectCannotBeReplaced(t *testing.T) {
	sink := &webhookSink{}
	hook := httptest.NewServer(sink)
	defer hook.Close()
	b := startBackend(t, merge(tokenAuth, map[string]string{"OSSUP_WEBHOOK_URL": hook.URL, "OSSUP_WEBHOOK_SECRET": hookSecret}))
	alice := b.client(t, aliceToken)
	data := pseudoRandom(64 << 10)
	s := createTyped(alice, "photo.png", "image/png", int64(len(data)))
	refreshed, r := alice.refreshOf(s)
	if r.Status != http.StatusOK {
		t.Fatalf("refresh before the upload: %d %s", r.Status, r.Body)
	}
	upload(t, s, data)
	// Stored, not yet verified: an engine resuming after a crash right
	// after CompleteMultipartUpload refreshes first; the bucket's rule keeps
	// these credentials from replacing the object too.
	after, r := alice.refreshOf(s)
	if r.Status != http.StatusOK {
		t.Fatalf("refresh of a stored, unverified object: %d %s", r.Status, r.code())
	}
	checkSwapsRefused(t, "credentials refreshed after the upload", swapAttempts(withCreds(s, after.Credentials), s.Key, len(data)))
	first := alice.completeOf(s, data)
	if first.Status != http.StatusOK {
		t.Fatalf("complete: %d %s", first.Status, first.Body)
	}

	checkSwapsRefused(t, "the session's credentials", swapAttempts(s, s.Key, len(data)))
	checkSwapsRefused(t, "credentials refreshed before", swapAttempts(withCreds(s, refreshed.Credentials), s.Key, len(data)))
	r = alice.post("/api/v1/uploads/credentials", map[string]any{"ticket": s.Ticket})
	if r.Status != http.StatusConflict || r.code() != "ticket_spent" || !strings.Contains(string(r.Body), "complete") {
		t.Errorf("refresh after complete: %d %s, want 409 ticket_spent", r.Status, r.code())
	}

	again := alice.completeOf(s, data)
	if again.Status != http.StatusOK || !bytes.Equal(again.Body, first.Body) {
		t.Errorf("complete after the swap attempts: %d %s, want the first answer %s", again.Status, again.Body, first.Body)
	}
	got, err := rootOSS(b.srv.Cloud()).GetObject(vctx, &oss.GetObjectRequest{Bucket: oss.Ptr(devBucket), Key: oss.Ptr(s.Key)})
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	if oss.ToString(got.ContentType) != "image/png" || got.ContentLength != int64(len(data)) {
		t.Errorf("stored object now %s, %d bytes", oss.ToString(got.ContentType), got.ContentLength)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.bodies) != 1 {
		t.Errorf("%d webhook deliveries, want 1", len(sink.bodies))
	}
}

// TestPrefixScopeCannotReplaceEarlierObjects: with OSSUP_CREDENTIAL_SCOPE=
// prefix one set of credentials may write anywhere under the user's
// prefix, so a later session's (cached) credentials reach every earlier
// object of the user: none of them can be replaced either.
func TestPrefixScopeCannotReplaceEarlierObjects(t *testing.T) {
	b := startBackend(t, merge(tokenAuth, map[string]string{"OSSUP_CREDENTIAL_SCOPE": "prefix"}))
	alice := b.client(t, aliceToken)
	data := pseudoRandom(1000)
	first := createTyped(alice, "first.png", "image/png", int64(len(data)))
	upload(t, first, data)
	if r := alice.completeOf(first, data); r.Status != http.StatusOK {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	later := createTyped(alice, "later.png", "image/png", int64(len(data)))
	checkSwapsRefused(t, "a later session's credentials", swapAttempts(later, first.Key, len(data)))
	if r := alice.completeOf(first, data); r.Status != http.StatusOK {
		t.Errorf("complete of the earlier object after the attempts: %d %s", r.Status, r.Body)
	}
	// The later session still uploads its own key.
	upload(t, later, data)
	if r := alice.completeOf(later, data); r.Status != http.StatusOK {
		t.Errorf("the later session's own upload: %d %s", r.Status, r.Body)
	}
}

// TestCoversUploads: only a forbid rule over the whole upload prefix (no
// suffix) whose principals include every session of the upload role
// counts.
func TestCoversUploads(t *testing.T) {
	const role = "acs:ram::123:role/up"
	rule := func(prefix, suffix string, principals ...string) OverwriteRule {
		return OverwriteRule{Action: "forbid", Prefix: prefix, Suffix: suffix, Principals: principals}
	}
	for _, tc := range []struct {
		name string
		r    OverwriteRule
		want bool
	}{
		{"the rule the backend documents", WriteOnceRule("uploads/", role), true},
		{"a shorter prefix", rule("up", "", "arn:sts::123:assumed-role/up/*"), true},
		{"the whole bucket, everyone", rule("", ""), true},
		{"any principal", rule("", "", "*"), true},
		{"every role of the account", rule("", "", "arn:sts::123:assumed-role/*"), true},
		{"another prefix", rule("other/", "", "arn:sts::123:assumed-role/up/*"), false},
		{"a longer prefix", rule("uploads/alice/", "", "arn:sts::123:assumed-role/up/*"), false},
		{"a suffix", rule("uploads/", ".png", "arn:sts::123:assumed-role/up/*"), false},
		{"one session only", rule("uploads/", "", "arn:sts::123:assumed-role/up/ossup-alice"), false},
		{"another role", rule("uploads/", "", "arn:sts::123:assumed-role/upload/*"), false},
		{"another account", rule("uploads/", "", "arn:sts::124:assumed-role/up/*"), false},
		{"a pattern inside", rule("uploads/", "", "arn:sts::123:assumed-role/up/ossup-*-x*"), false},
	} {
		if got := coversUploads([]OverwriteRule{tc.r}, "uploads/", role); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if coversUploads(nil, "uploads/", role) {
		t.Error("no rules: covered")
	}
}
