package localcloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossup/ossup/internal/localcloud/osslifecycle"
)

// lifecycleCloud is a local cloud whose stored data is stamped by a clock
// the test moves, with no background lifecycle runs: the test runs them.
func lifecycleCloud(t *testing.T) (*Cloud, *ManualClock) {
	t.Helper()
	clock := NewManualClock(time.Now().UTC())
	cl := startCloud(t, func(c *Config) {
		c.DataClock = clock.Now
		c.LifecycleInterval = -1
	})
	return cl, clock
}

func putLifecycle(t *testing.T, c *oss.Client, rules ...oss.LifecycleRule) error {
	t.Helper()
	_, err := c.PutBucketLifecycle(sdkCtx, &oss.PutBucketLifecycleRequest{
		Bucket:                 oss.Ptr(DevBucket),
		LifecycleConfiguration: &oss.LifecycleConfiguration{Rules: rules},
	})
	return err
}

func objectExists(t *testing.T, c *oss.Client, key string) bool {
	t.Helper()
	_, err := c.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
	if err == nil {
		return true
	}
	serviceError(t, err, http.StatusNotFound, "NoSuchKey")
	return false
}

func uploadIDs(t *testing.T, c *oss.Client) []string {
	t.Helper()
	res, err := c.ListMultipartUploads(sdkCtx, &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(DevBucket)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range res.Uploads {
		ids = append(ids, oss.ToString(u.UploadId))
	}
	return ids
}

func initiateWithPart(t *testing.T, c *oss.Client, key string) string {
	t.Helper()
	res, err := c.InitiateMultipartUpload(sdkCtx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPart(sdkCtx, &oss.UploadPartRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), UploadId: res.UploadId, PartNumber: 1,
		Body: bytes.NewReader(randomBytes(1000, 3)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return oss.ToString(res.UploadId)
}

// TestSDKBucketLifecycle sets rules with the SDK, writes objects and
// uploads, moves the data clock and runs the rules: what is due goes, what
// is newer or filtered out stays.
func TestSDKBucketLifecycle(t *testing.T) {
	cl, clock := lifecycleCloud(t)
	c := rootClient(cl)
	t0 := clock.Now()
	// The first UTC midnight after t0, plus one day: objects written at t0
	// are before it, objects written 20 days later are not.
	day := time.Date(t0.Year(), t0.Month(), t0.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 2)
	err := putLifecycle(t, c,
		oss.LifecycleRule{
			ID: oss.Ptr("tmp-30d"), Prefix: oss.Ptr("tmp/"), Status: oss.Ptr("Enabled"),
			Expiration: &oss.LifecycleRuleExpiration{Days: oss.Ptr(int32(30))},
			Filter:     &oss.LifecycleRuleFilter{Nots: []oss.LifecycleRuleNot{{Prefix: oss.Ptr("tmp/keep/")}}},
		},
		oss.LifecycleRule{
			ID: oss.Ptr("uploads-7d"), Prefix: oss.Ptr(""), Status: oss.Ptr("Enabled"),
			AbortMultipartUpload: &oss.LifecycleRuleAbortMultipartUpload{Days: oss.Ptr(int32(7))},
		},
		oss.LifecycleRule{
			ID: oss.Ptr("tagged-1d"), Prefix: oss.Ptr("tagged/"), Status: oss.Ptr("Enabled"),
			Tags:       []oss.Tag{{Key: oss.Ptr("state"), Value: oss.Ptr("done")}},
			Expiration: &oss.LifecycleRuleExpiration{Days: oss.Ptr(int32(1))},
		},
		oss.LifecycleRule{
			ID: oss.Ptr("dated"), Prefix: oss.Ptr("dated/"), Status: oss.Ptr("Enabled"),
			Expiration: &oss.LifecycleRuleExpiration{CreatedBeforeDate: oss.Ptr(day.Format("2006-01-02T15:04:05.000Z"))},
		},
		oss.LifecycleRule{
			ID: oss.Ptr("off"), Prefix: oss.Ptr("off/"), Status: oss.Ptr("Disabled"),
			Expiration: &oss.LifecycleRuleExpiration{Days: oss.Ptr(int32(1))},
		},
	)
	if err != nil {
		t.Fatal(err)
	}

	got, err := c.GetBucketLifecycle(sdkCtx, &oss.GetBucketLifecycleRequest{Bucket: oss.Ptr(DevBucket)})
	if err != nil {
		t.Fatal(err)
	}
	rules := got.LifecycleConfiguration.Rules
	if len(rules) != 5 || oss.ToString(rules[0].ID) != "tmp-30d" || oss.ToString(rules[0].Prefix) != "tmp/" ||
		oss.ToString(rules[0].Status) != "Enabled" || *rules[0].Expiration.Days != 30 ||
		rules[0].Filter == nil || len(rules[0].Filter.Nots) != 1 || oss.ToString(rules[0].Filter.Nots[0].Prefix) != "tmp/keep/" ||
		rules[1].Prefix == nil || *rules[1].AbortMultipartUpload.Days != 7 ||
		len(rules[2].Tags) != 1 || oss.ToString(rules[2].Tags[0].Value) != "done" ||
		oss.ToString(rules[3].Expiration.CreatedBeforeDate) != day.Format("2006-01-02T15:04:05.000Z") ||
		oss.ToString(rules[4].Status) != "Disabled" {
		b, _ := json.Marshal(rules)
		t.Fatalf("GetBucketLifecycle returned %s", b)
	}

	data := randomBytes(100, 1)
	for _, k := range []string{"tmp/old", "tmp/keep/old", "other/old", "tagged/b", "dated/old", "off/old"} {
		sdkPut(t, c, k, data)
	}
	if _, err := c.PutObject(sdkCtx, &oss.PutObjectRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("tagged/a"), Body: bytes.NewReader(data), Tagging: oss.Ptr("state=done"),
	}); err != nil {
		t.Fatal(err)
	}
	oldUpload := initiateWithPart(t, c, "big/old")

	clock.Advance(20 * 24 * time.Hour)
	sdkPut(t, c, "tmp/new", data)
	sdkPut(t, c, "dated/new", data)
	newUpload := initiateWithPart(t, c, "big/new")

	rep, err := cl.RunLifecycle(sdkCtx)
	if err != nil {
		t.Fatal(err)
	}
	wantReport(t, rep, []string{"dated/old", "tagged/a"}, []string{"big/old"})
	for k, want := range map[string]bool{
		"tmp/old": true, "tmp/keep/old": true, "other/old": true, "tagged/a": false, "tagged/b": true,
		"dated/old": false, "dated/new": true, "tmp/new": true, "off/old": true,
	} {
		if got := objectExists(t, c, k); got != want {
			t.Errorf("after 20 days: %s exists %v, want %v", k, got, want)
		}
	}
	if ids := uploadIDs(t, c); !slices.Equal(ids, []string{newUpload}) {
		t.Errorf("after 20 days uploads %v, want only %s", ids, newUpload)
	}
	_, err = c.ListParts(sdkCtx, &oss.ListPartsRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("big/old"), UploadId: oss.Ptr(oldUpload)})
	serviceError(t, err, http.StatusNotFound, "NoSuchUpload")
	// The upload the rule left alone still completes.
	if _, err := c.CompleteMultipartUpload(sdkCtx, &oss.CompleteMultipartUploadRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("big/new"), UploadId: oss.Ptr(newUpload), CompleteAll: oss.Ptr("yes"),
	}); err != nil {
		t.Fatalf("complete the newer upload: %v", err)
	}

	// 35 days after t0: tmp/old (30 days) is due, tmp/new (15 days) is not,
	// and the Not filter keeps tmp/keep/old. Run through the admin endpoint.
	clock.Advance(15 * 24 * time.Hour)
	resp, err := http.Post(cl.OSSEndpoint+"/-/lifecycle", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	var rep2 osslifecycle.Report
	if err := json.Unmarshal(drainOK(t, resp, http.StatusOK), &rep2); err != nil {
		t.Fatal(err)
	}
	wantReport(t, &rep2, []string{"tmp/old"}, nil)
	for k, want := range map[string]bool{"tmp/old": false, "tmp/keep/old": true, "tmp/new": true, "other/old": true} {
		if got := objectExists(t, c, k); got != want {
			t.Errorf("after 35 days: %s exists %v, want %v", k, got, want)
		}
	}

	if _, err := c.DeleteBucketLifecycle(sdkCtx, &oss.DeleteBucketLifecycleRequest{Bucket: oss.Ptr(DevBucket)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketLifecycle(sdkCtx, &oss.GetBucketLifecycleRequest{Bucket: oss.Ptr(DevBucket)})
	serviceError(t, err, http.StatusNotFound, "NoSuchLifecycle")
	clock.Advance(365 * 24 * time.Hour)
	rep, err = cl.RunLifecycle(sdkCtx)
	if err != nil {
		t.Fatal(err)
	}
	wantReport(t, rep, nil, nil)
}

func wantReport(t *testing.T, rep *osslifecycle.Report, expired, aborted []string) {
	t.Helper()
	var gotExpired, gotAborted []string
	for _, e := range rep.ExpiredObjects {
		gotExpired = append(gotExpired, e.Key)
	}
	for _, a := range rep.AbortedUploads {
		gotAborted = append(gotAborted, a.Key)
	}
	slices.Sort(gotExpired)
	slices.Sort(gotAborted)
	if !slices.Equal(gotExpired, expired) || !slices.Equal(gotAborted, aborted) {
		t.Errorf("lifecycle run expired %v aborted %v, want %v and %v", gotExpired, gotAborted, expired, aborted)
	}
}

// TestSDKBucketLifecycleRefused: what PutBucketLifecycle refuses, with the
// documented codes, and what the local OSS does not serve (501 naming it).
func TestSDKBucketLifecycleRefused(t *testing.T) {
	cl, _ := lifecycleCloud(t)
	c := rootClient(cl)
	days := func(n int32) *oss.LifecycleRuleExpiration { return &oss.LifecycleRuleExpiration{Days: oss.Ptr(n)} }
	rule := func(id, prefix string) oss.LifecycleRule {
		return oss.LifecycleRule{ID: oss.Ptr(id), Prefix: oss.Ptr(prefix), Status: oss.Ptr("Enabled"), Expiration: days(3)}
	}
	for _, tc := range []struct {
		name   string
		rules  []oss.LifecycleRule
		status int
		code   string
		ec     string
	}{
		{"zero days", []oss.LifecycleRule{{ID: oss.Ptr("r"), Status: oss.Ptr("Enabled"), Expiration: days(0)}}, 400, "InvalidArgument", ""},
		{"negative abort days", []oss.LifecycleRule{{ID: oss.Ptr("r"), Status: oss.Ptr("Enabled"),
			AbortMultipartUpload: &oss.LifecycleRuleAbortMultipartUpload{Days: oss.Ptr(int32(-30))}}}, 400, "InvalidArgument", ""},
		{"bad status", []oss.LifecycleRule{{ID: oss.Ptr("r"), Status: oss.Ptr("Invalid"), Expiration: days(3)}}, 400, "MalformedXML", ""},
		{"date not midnight", []oss.LifecycleRule{{ID: oss.Ptr("r"), Status: oss.Ptr("Enabled"),
			Expiration: &oss.LifecycleRuleExpiration{CreatedBeforeDate: oss.Ptr("2015-11-11T08:00:00.000Z")}}}, 400, "InvalidArgument", ""},
		{"date garbage", []oss.LifecycleRule{{ID: oss.Ptr("r"), Status: oss.Ptr("Enabled"),
			Expiration: &oss.LifecycleRuleExpiration{CreatedBeforeDate: oss.Ptr("tomorrow")}}}, 400, "InvalidArgument", ""},
		{"expiration without a time", []oss.LifecycleRule{{ID: oss.Ptr("r"), Status: oss.Ptr("Enabled"),
			Expiration: &oss.LifecycleRuleExpiration{}}}, 400, "InvalidArgument", "0014-00000060"},
		{"abort with both", []oss.LifecycleRule{{ID: oss.Ptr("r"), Status: oss.Ptr("Enabled"),
			AbortMultipartUpload: &oss.LifecycleRuleAbortMultipartUpload{Days: oss.Ptr(int32(2)), CreatedBeforeDate: oss.Ptr("2021-12-30T00:00:00.000Z")}}}, 400, "InvalidArgument", "0014-00000074"},
		{"no action", []oss.LifecycleRule{{ID: oss.Ptr("r"), Prefix: oss.Ptr("log/"), Status: oss.Ptr("Enabled")}}, 400, "InvalidArgument", "0014-00000026"},
		{"overlapping prefixes", []oss.LifecycleRule{rule("a", "prefix1"), rule("b", "prefix1/prefix2")}, 400, "InvalidArgument", ""},
		{"duplicate ids", []oss.LifecycleRule{rule("a", "x/"), rule("a", "y/")}, 400, "InvalidArgument", ""},
		{"tag with abort", []oss.LifecycleRule{{ID: oss.Ptr("r"), Status: oss.Ptr("Enabled"), Tags: []oss.Tag{{Key: oss.Ptr("k"), Value: oss.Ptr("v")}},
			AbortMultipartUpload: &oss.LifecycleRuleAbortMultipartUpload{Days: oss.Ptr(int32(2))}}}, 400, "InvalidArgument", ""},
		{"bad tag key", []oss.LifecycleRule{{ID: oss.Ptr("r"), Status: oss.Ptr("Enabled"), Tags: []oss.Tag{{Key: oss.Ptr("test#"), Value: oss.Ptr("abc")}},
			Expiration: days(3)}}, 400, "InvalidTag", "0014-00000031"},
		{"not outside the prefix", []oss.LifecycleRule{{ID: oss.Ptr("r"), Prefix: oss.Ptr("logs/"), Status: oss.Ptr("Enabled"), Expiration: days(3),
			Filter: &oss.LifecycleRuleFilter{Nots: []oss.LifecycleRuleNot{{Prefix: oss.Ptr("other/")}}}}}, 400, "InvalidArgument", ""},
		{"transition", []oss.LifecycleRule{{ID: oss.Ptr("r"), Status: oss.Ptr("Enabled"),
			Transitions: []oss.LifecycleRuleTransition{{Days: oss.Ptr(int32(30)), StorageClass: oss.StorageClassIA}}}}, 501, "NotImplemented", ""},
		{"noncurrent versions", []oss.LifecycleRule{{ID: oss.Ptr("r"), Status: oss.Ptr("Enabled"),
			NoncurrentVersionExpiration: &oss.NoncurrentVersionExpiration{NoncurrentDays: oss.Ptr(int32(5))}}}, 501, "NotImplemented", ""},
		{"delete markers", []oss.LifecycleRule{{ID: oss.Ptr("r"), Status: oss.Ptr("Enabled"),
			Expiration: &oss.LifecycleRuleExpiration{ExpiredObjectDeleteMarker: oss.Ptr(true)}}}, 501, "NotImplemented", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			se := serviceError(t, putLifecycle(t, c, tc.rules...), tc.status, tc.code)
			if tc.ec != "" && se.EC != tc.ec {
				t.Errorf("EC %q, want %q", se.EC, tc.ec)
			}
			if tc.status == http.StatusNotImplemented && !strings.Contains(se.Message, "PutBucketLifecycle") {
				t.Errorf("501 message %q does not name the API", se.Message)
			}
			_, err := c.GetBucketLifecycle(sdkCtx, &oss.GetBucketLifecycleRequest{Bucket: oss.Ptr(DevBucket)})
			serviceError(t, err, http.StatusNotFound, "NoSuchLifecycle")
		})
	}

	t.Run("overlap allowed by header", func(t *testing.T) {
		_, err := c.PutBucketLifecycle(sdkCtx, &oss.PutBucketLifecycleRequest{
			Bucket: oss.Ptr(DevBucket), AllowSameActionOverlap: oss.Ptr("true"),
			LifecycleConfiguration: &oss.LifecycleConfiguration{Rules: []oss.LifecycleRule{rule("a", "prefix1"), rule("b", "prefix1/prefix2")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteBucketLifecycle(sdkCtx, &oss.DeleteBucketLifecycleRequest{Bucket: oss.Ptr(DevBucket)}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("IsAccessTime in AbortMultipartUpload", func(t *testing.T) {
		body := `<LifecycleConfiguration><Rule><ID>rule1</ID><Prefix>zzz</Prefix><Status>Enabled</Status>` +
			`<AbortMultipartUpload><IsAccessTime>true</IsAccessTime><Days>200</Days></AbortMultipartUpload></Rule></LifecycleConfiguration>`
		resp := sdkRaw{method: "PUT", bucket: DevBucket, query: map[string][]string{"lifecycle": {""}},
			header: http.Header{"Content-Type": {"application/xml"}}, body: []byte(body)}.send(t, cl)
		doc := sdkReadError(t, resp, http.StatusBadRequest, "InvalidArgument")
		if doc.get("EC") != "0014-00000071" {
			t.Errorf("EC %q, want 0014-00000071", doc.get("EC"))
		}
	})

	t.Run("empty configuration", func(t *testing.T) {
		resp := sdkRaw{method: "PUT", bucket: DevBucket, query: map[string][]string{"lifecycle": {""}},
			header: http.Header{"Content-Type": {"application/xml"}}, body: []byte(`<LifecycleConfiguration></LifecycleConfiguration>`)}.send(t, cl)
		sdkReadError(t, resp, http.StatusBadRequest, "MalformedXML")
	})

	t.Run("object path", func(t *testing.T) {
		resp := sdkRaw{method: "PUT", bucket: DevBucket, key: "k", query: map[string][]string{"lifecycle": {""}}, body: []byte("x")}.send(t, cl)
		sdkReadError(t, resp, http.StatusNotImplemented, "NotImplemented")
		if objectExists(t, c, "k") {
			t.Error("PUT /k?lifecycle stored an object")
		}
	})

	t.Run("STS session without the action", func(t *testing.T) {
		policy := fmt.Sprintf(`{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:PutObject","oss:GetBucketLifecycle"],"Resource":["acs:oss:*:*:%s","acs:oss:*:*:%s/*"]}]}`, DevBucket, DevBucket)
		s := stsClient(cl, assumeRole(t, cl, policy, 900))
		serviceError(t, putLifecycle(t, s, rule("a", "x/")), http.StatusForbidden, "AccessDenied")
		_, err := s.GetBucketLifecycle(sdkCtx, &oss.GetBucketLifecycleRequest{Bucket: oss.Ptr(DevBucket)})
		serviceError(t, err, http.StatusNotFound, "NoSuchLifecycle")
		_, err = s.DeleteBucketLifecycle(sdkCtx, &oss.DeleteBucketLifecycleRequest{Bucket: oss.Ptr(DevBucket)})
		serviceError(t, err, http.StatusForbidden, "AccessDenied")
	})
}
