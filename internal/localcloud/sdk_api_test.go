package localcloud

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// condStatement is an Allow statement with one condition.
func condStatement(actions []string, resource, op, key string, values ...string) string {
	vals := ""
	for i, v := range values {
		if i > 0 {
			vals += ","
		}
		vals += fmt.Sprintf("%q", v)
	}
	s := statement("Allow", actions, resource)
	return strings.TrimSuffix(s, "}") + fmt.Sprintf(`,"Condition":{%q:{%q:[%s]}}}`, op, key, vals)
}

func putWith(c *oss.Client, key string, mod func(*oss.PutObjectRequest)) error {
	req := &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), Body: bytes.NewReader([]byte("data:" + key))}
	if mod != nil {
		mod(req)
	}
	_, err := c.PutObject(sdkCtx, req)
	return err
}

// TestSDKForbidOverwriteEverywhere: x-oss-forbid-overwrite: true refuses to
// replace an object on PutObject, CopyObject, InitiateMultipartUpload and
// CompleteMultipartUpload with 409 FileAlreadyExists, and any value but
// true or false is 400 with EC 0017-00000279.
func TestSDKForbidOverwriteEverywhere(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	sdkPut(t, c, "fo/dst", []byte("original"))
	sdkPut(t, c, "fo/src", []byte("other"))

	_, err := c.CopyObject(sdkCtx, &oss.CopyObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("fo/dst"), SourceKey: oss.Ptr("fo/src"), ForbidOverwrite: oss.Ptr("true")})
	serviceError(t, err, http.StatusConflict, "FileAlreadyExists")
	_, err = c.InitiateMultipartUpload(sdkCtx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("fo/dst"), ForbidOverwrite: oss.Ptr("true")})
	serviceError(t, err, http.StatusConflict, "FileAlreadyExists")

	// The object appears while the upload runs: Complete decides.
	u := sdkInitiate(t, c, "fo/late")
	p := u.mustPart(1, []byte("part"))
	sdkPut(t, c, "fo/late", []byte("got there first"))
	_, err = c.CompleteMultipartUpload(sdkCtx, &oss.CompleteMultipartUploadRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("fo/late"), UploadId: oss.Ptr(u.id),
		CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: []oss.UploadPart{p}}, ForbidOverwrite: oss.Ptr("true"),
	})
	serviceError(t, err, http.StatusConflict, "FileAlreadyExists")
	got, _ := readObject(t, c, DevBucket, "fo/late")
	mustEqual(t, "object after a refused Complete", got, []byte("got there first"))
	got, _ = readObject(t, c, DevBucket, "fo/dst")
	mustEqual(t, "object after refused copies", got, []byte("original"))

	se := serviceError(t, putWith(c, "fo/new", func(r *oss.PutObjectRequest) { r.ForbidOverwrite = oss.Ptr("yes") }), http.StatusBadRequest, "InvalidArgument")
	if se.EC != "0017-00000279" {
		t.Errorf("invalid x-oss-forbid-overwrite: EC %q", se.EC)
	}
}

// TestSDKOverwriteConfig: a bucket overwrite rule refuses to replace
// objects under its prefix and suffix for the principals it names (an STS
// session by arn:sts::<account>:assumed-role/<role>/<session>), and for
// everyone when it names none.
func TestSDKOverwriteConfig(t *testing.T) {
	cl := startCloud(t, nil)
	root := rootClient(cl)
	pol := policyDoc(statement("Allow", []string{"oss:PutObject"}, objectARN("*")))
	sess := stsClient(cl, assumeRole(t, cl, pol, 900))
	rule := "arn:sts::" + cl.Config.AccountID + ":assumed-role/ossup-uploader/*"
	_, err := root.PutBucketOverwriteConfig(sdkCtx, &oss.PutBucketOverwriteConfigRequest{Bucket: oss.Ptr(DevBucket),
		OverwriteConfiguration: &oss.OverwriteConfiguration{Rules: []oss.OverwriteRule{
			{ID: oss.Ptr("sessions"), Action: oss.Ptr("forbid"), Prefix: oss.Ptr("uploads/"), Principals: &oss.OverwritePrincipals{Principals: []string{rule}}},
			{Action: oss.Ptr("forbid"), Prefix: oss.Ptr("locked/"), Suffix: oss.Ptr(".json")},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := root.GetBucketOverwriteConfig(sdkCtx, &oss.GetBucketOverwriteConfigRequest{Bucket: oss.Ptr(DevBucket)})
	if err != nil || len(got.OverwriteConfiguration.Rules) != 2 || oss.ToString(got.OverwriteConfiguration.Rules[1].ID) == "" {
		t.Fatalf("GetBucketOverwriteConfig: %+v, %v", got, err)
	}

	if err := putErr(sess, "uploads/u1/file"); err != nil {
		t.Fatalf("first write: %v", err)
	}
	serviceError(t, putErr(sess, "uploads/u1/file"), http.StatusConflict, "FileAlreadyExists")
	// Initiate already refuses an upload bound to end in an overwrite.
	_, err = sess.InitiateMultipartUpload(sdkCtx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("uploads/u1/file")})
	serviceError(t, err, http.StatusConflict, "FileAlreadyExists")
	// Complete decides for an upload started before the object existed.
	u := sdkInitiate(t, sess, "uploads/u1/late")
	p := u.mustPart(1, []byte("x"))
	if err := putErr(sess, "uploads/u1/late"); err != nil {
		t.Fatal(err)
	}
	_, err = u.complete(p)
	serviceError(t, err, http.StatusConflict, "FileAlreadyExists")
	// The rule names sessions, not the account: root keys may replace.
	sdkPut(t, root, "uploads/u1/file", []byte("root"))
	// Outside the prefix the session may overwrite.
	sdkPut(t, sess, "other/f", []byte("1"))
	sdkPut(t, sess, "other/f", []byte("2"))
	// A rule without principals binds everyone, root included; the suffix must match too.
	sdkPut(t, root, "locked/a.json", []byte("1"))
	serviceError(t, putErr(root, "locked/a.json"), http.StatusConflict, "FileAlreadyExists")
	sdkPut(t, root, "locked/a.txt", []byte("1"))
	sdkPut(t, root, "locked/a.txt", []byte("2"))

	if _, err := root.DeleteBucketOverwriteConfig(sdkCtx, &oss.DeleteBucketOverwriteConfigRequest{Bucket: oss.Ptr(DevBucket)}); err != nil {
		t.Fatal(err)
	}
	sdkPut(t, root, "locked/a.json", []byte("2"))
	_, err = root.GetBucketOverwriteConfig(sdkCtx, &oss.GetBucketOverwriteConfigRequest{Bucket: oss.Ptr(DevBucket)})
	serviceError(t, err, http.StatusNotFound, "NoSuchOverwriteConfiguration")
}

// TestSDKConditionKeys: the documented condition keys are evaluated, and a
// condition on a key OSS does not document (oss:x-oss-forbid-overwrite)
// never lets a request through.
func TestSDKConditionKeys(t *testing.T) {
	cl := startCloud(t, nil)
	all := objectARN("*")

	t.Run("x-oss-object-acl", func(t *testing.T) {
		c := stsClient(cl, assumeRole(t, cl, policyDoc(condStatement([]string{"oss:PutObject"}, all, "StringEquals", "oss:x-oss-object-acl", "private")), 900))
		if err := putWith(c, "acl/ok", func(r *oss.PutObjectRequest) { r.Acl = oss.ObjectACLPrivate }); err != nil {
			t.Fatalf("private: %v", err)
		}
		denied(t, "public-read", putWith(c, "acl/pub", func(r *oss.PutObjectRequest) { r.Acl = oss.ObjectACLPublicRead }))
		denied(t, "no ACL header", putErr(c, "acl/none"))
	})
	t.Run("forbid-overwrite is no condition key", func(t *testing.T) {
		c := stsClient(cl, assumeRole(t, cl, policyDoc(condStatement([]string{"oss:PutObject"}, all, "StringEquals", "oss:x-oss-forbid-overwrite", "true")), 900))
		denied(t, "with the header", putWith(c, "fo/x", func(r *oss.PutObjectRequest) { r.ForbidOverwrite = oss.Ptr("true") }))
	})
	t.Run("RequestObjectTag", func(t *testing.T) {
		st := condStatement([]string{"oss:PutObject", "oss:PutObjectTagging"}, all, "StringEquals", "oss:RequestObjectTag/state", "staged")
		c := stsClient(cl, assumeRole(t, cl, policyDoc(st), 900))
		if err := putWith(c, "tag/ok", func(r *oss.PutObjectRequest) { r.Tagging = oss.Ptr("state=staged") }); err != nil {
			t.Fatalf("tagged: %v", err)
		}
		denied(t, "other tag value", putWith(c, "tag/bad", func(r *oss.PutObjectRequest) { r.Tagging = oss.Ptr("state=verified") }))
		denied(t, "untagged", putErr(c, "tag/none"))
	})
	t.Run("tagging needs PutObjectTagging", func(t *testing.T) {
		c := stsClient(cl, assumeRole(t, cl, policyDoc(statement("Allow", []string{"oss:PutObject"}, all)), 900))
		if err := putErr(c, "tag/plain"); err != nil {
			t.Fatal(err)
		}
		denied(t, "x-oss-tagging without oss:PutObjectTagging", putWith(c, "tag/x", func(r *oss.PutObjectRequest) { r.Tagging = oss.Ptr("a=b") }))
	})
	t.Run("ExistingObjectTag", func(t *testing.T) {
		root := rootClient(cl)
		sdkPut(t, root, "et/plain", []byte("p"))
		if err := putWith(root, "et/tagged", func(r *oss.PutObjectRequest) { r.Tagging = oss.Ptr("verified=yes") }); err != nil {
			t.Fatal(err)
		}
		c := stsClient(cl, assumeRole(t, cl, policyDoc(condStatement([]string{"oss:GetObject"}, all, "StringEquals", "oss:ExistingObjectTag/verified", "yes")), 900))
		if err := getErr(c, "et/tagged"); err != nil {
			t.Fatalf("tagged: %v", err)
		}
		denied(t, "untagged", getErr(c, "et/plain"))
	})
}

// TestSDKObjectTagging: tags set at Put and Initiate and by the tagging
// APIs read back in order, count in x-oss-tagging-count, leave Last-Modified
// alone, and bad tags are refused.
func TestSDKObjectTagging(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	if err := putWith(c, "t/a", func(r *oss.PutObjectRequest) { r.Tagging = oss.Ptr("k1=v%201&k2=") }); err != nil {
		t.Fatal(err)
	}
	tags := func(key string) string {
		t.Helper()
		res, err := c.GetObjectTagging(sdkCtx, &oss.GetObjectTaggingRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
		if err != nil {
			t.Fatalf("GetObjectTagging %s: %v", key, err)
		}
		var s []string
		for _, tg := range res.Tags {
			s = append(s, oss.ToString(tg.Key)+"="+oss.ToString(tg.Value))
		}
		return strings.Join(s, ",")
	}
	if got := tags("t/a"); got != "k1=v 1,k2=" {
		t.Errorf("tags after Put: %q", got)
	}
	head, err := c.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("t/a")})
	if err != nil || head.Headers.Get("x-oss-tagging-count") != "2" {
		t.Fatalf("HeadObject: %v, tagging count %q", err, head.Headers.Get("x-oss-tagging-count"))
	}
	if _, err := c.PutObjectTagging(sdkCtx, &oss.PutObjectTaggingRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("t/a"),
		Tagging: &oss.Tagging{TagSet: &oss.TagSet{Tags: []oss.Tag{{Key: oss.Ptr("z"), Value: oss.Ptr("1")}, {Key: oss.Ptr("a"), Value: oss.Ptr("2")}}}}}); err != nil {
		t.Fatal(err)
	}
	if got := tags("t/a"); got != "z=1,a=2" {
		t.Errorf("tags after PutObjectTagging: %q", got)
	}
	head2, _ := c.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("t/a")})
	if oss.ToTime(head2.LastModified) != oss.ToTime(head.LastModified) {
		t.Errorf("tagging changed Last-Modified")
	}
	if _, err := c.DeleteObjectTagging(sdkCtx, &oss.DeleteObjectTaggingRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("t/a")}); err != nil {
		t.Fatal(err)
	}
	if got := tags("t/a"); got != "" {
		t.Errorf("tags after delete: %q", got)
	}
	u := sdkInitiateWith(t, c, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("t/mp"), Tagging: oss.Ptr("m=1")})
	if _, err := u.complete(u.mustPart(1, []byte("p"))); err != nil {
		t.Fatal(err)
	}
	if got := tags("t/mp"); got != "m=1" {
		t.Errorf("tags after multipart: %q", got)
	}
	many := "a=1&b=1&c=1&d=1&e=1&f=1&g=1&h=1&i=1&j=1&k=1"
	serviceError(t, putWith(c, "t/many", func(r *oss.PutObjectRequest) { r.Tagging = oss.Ptr(many) }), http.StatusBadRequest, "InvalidTag")
	serviceError(t, putWith(c, "t/bad", func(r *oss.PutObjectRequest) { r.Tagging = oss.Ptr("a%3C=1") }), http.StatusBadRequest, "InvalidTag")
	_, err = c.GetObjectTagging(sdkCtx, &oss.GetObjectTaggingRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("t/none")})
	serviceError(t, err, http.StatusNotFound, "NoSuchKey")
}

func sdkInitiateWith(t testing.TB, c *oss.Client, req *oss.InitiateMultipartUploadRequest) *sdkUpload {
	t.Helper()
	res, err := c.InitiateMultipartUpload(sdkCtx, req)
	if err != nil {
		t.Fatalf("Initiate: %v", err)
	}
	return &sdkUpload{t: t, c: c, key: *req.Key, id: *res.UploadId}
}

// TestSDKListObjects: V1 and V2 with prefix, delimiter, pages and URL
// encoding, through the SDK's paginators.
func TestSDKListObjects(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	keys := []string{"a/1", "a/2", "a/b/3", "a/b/4", "a/c/5", "b/6", "top", "ü nicode/x+y"}
	for _, k := range keys {
		sdkPut(t, c, k, []byte(k))
	}
	v1 := func(prefix, delim string, max int32) (got []string) {
		t.Helper()
		p := c.NewListObjectsPaginator(&oss.ListObjectsRequest{Bucket: oss.Ptr(DevBucket), Prefix: oss.Ptr(prefix), Delimiter: oss.Ptr(delim), MaxKeys: max, EncodingType: oss.Ptr("url")})
		for p.HasNext() {
			page, err := p.NextPage(sdkCtx)
			if err != nil {
				t.Fatalf("ListObjects: %v", err)
			}
			for _, o := range page.Contents {
				if o.Size != int64(len(oss.ToString(o.Key))) || oss.ToString(o.ETag) != quotedMD5([]byte(oss.ToString(o.Key))) {
					t.Errorf("ListObjects %s: size %d etag %s", oss.ToString(o.Key), o.Size, oss.ToString(o.ETag))
				}
				got = append(got, oss.ToString(o.Key))
			}
			for _, cp := range page.CommonPrefixes {
				got = append(got, oss.ToString(cp.Prefix)+"(cp)")
			}
		}
		return got
	}
	v2 := func(prefix, delim string, max int32) (got []string) {
		t.Helper()
		p := c.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: oss.Ptr(DevBucket), Prefix: oss.Ptr(prefix), Delimiter: oss.Ptr(delim), MaxKeys: max})
		for p.HasNext() {
			page, err := p.NextPage(sdkCtx)
			if err != nil {
				t.Fatalf("ListObjectsV2: %v", err)
			}
			if page.KeyCount != len(page.Contents)+len(page.CommonPrefixes) {
				t.Errorf("KeyCount %d", page.KeyCount)
			}
			for _, o := range page.Contents {
				got = append(got, oss.ToString(o.Key))
			}
			for _, cp := range page.CommonPrefixes {
				got = append(got, oss.ToString(cp.Prefix)+"(cp)")
			}
		}
		return got
	}
	for _, list := range []func(string, string, int32) []string{v1, v2} {
		if got := strings.Join(list("", "", 3), " "); got != strings.Join(keys, " ") {
			t.Errorf("all keys in pages of 3: %s", got)
		}
		if got := strings.Join(list("a/", "/", 1), " "); got != "a/1 a/2 a/b/(cp) a/c/(cp)" {
			t.Errorf("a/ with delimiter, pages of 1: %s", got)
		}
		if got := strings.Join(list("", "/", 100), " "); got != "top a/(cp) b/(cp) ü nicode/(cp)" {
			t.Errorf("top level: %s", got)
		}
		if got := list("none/", "", 10); len(got) != 0 {
			t.Errorf("empty prefix: %v", got)
		}
	}
	_, err := c.ListObjects(sdkCtx, &oss.ListObjectsRequest{Bucket: oss.Ptr(DevBucket), MaxKeys: 1001})
	serviceError(t, err, http.StatusBadRequest, "InvalidArgument")
}

// TestSDKCopyObject: metadata and tag directives, and the source authorised
// as OSS does (oss:GetObject on it).
func TestSDKCopyObject(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	data := randomBytes(150<<10, 3)
	if err := putWith(c, "src/a", func(r *oss.PutObjectRequest) {
		r.Body = bytes.NewReader(data)
		r.ContentType = oss.Ptr("image/png")
		r.Metadata = map[string]string{"Owner": "alice"}
		r.Tagging = oss.Ptr("t=1")
	}); err != nil {
		t.Fatal(err)
	}
	res, err := c.CopyObject(sdkCtx, &oss.CopyObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("dst/copy"), SourceKey: oss.Ptr("src/a")})
	if err != nil {
		t.Fatal(err)
	}
	if oss.ToString(res.ETag) != quotedMD5(data) || oss.ToString(res.HashCRC64) != crcDecimal(data) {
		t.Errorf("CopyObject result ETag %s CRC %s", oss.ToString(res.ETag), oss.ToString(res.HashCRC64))
	}
	got, gr := readObject(t, c, DevBucket, "dst/copy")
	mustEqual(t, "copy", got, data)
	if oss.ToString(gr.ContentType) != "image/png" || gr.Metadata["owner"] != "alice" {
		t.Errorf("COPY directive: type %q meta %v", oss.ToString(gr.ContentType), gr.Metadata)
	}
	if _, err := c.CopyObject(sdkCtx, &oss.CopyObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("dst/replaced"), SourceKey: oss.Ptr("src/a"),
		MetadataDirective: oss.Ptr("REPLACE"), ContentType: oss.Ptr("text/plain"), TaggingDirective: oss.Ptr("Replace"), Tagging: oss.Ptr("new=2")}); err != nil {
		t.Fatal(err)
	}
	_, gr = readObject(t, c, DevBucket, "dst/replaced")
	if oss.ToString(gr.ContentType) != "text/plain" || len(gr.Metadata) != 0 {
		t.Errorf("REPLACE directive: type %q meta %v", oss.ToString(gr.ContentType), gr.Metadata)
	}
	tg, _ := c.GetObjectTagging(sdkCtx, &oss.GetObjectTaggingRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("dst/replaced")})
	if len(tg.Tags) != 1 || oss.ToString(tg.Tags[0].Key) != "new" {
		t.Errorf("Replace tagging: %+v", tg.Tags)
	}
	// A multipart source copies too.
	u := sdkInitiate(t, c, "src/mp")
	parts := []oss.UploadPart{u.mustPart(1, data[:sdkMinPart]), u.mustPart(2, data[sdkMinPart:])}
	if _, err := u.complete(parts...); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CopyObject(sdkCtx, &oss.CopyObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("dst/mp"), SourceKey: oss.Ptr("src/mp")}); err != nil {
		t.Fatal(err)
	}
	got, _ = readObject(t, c, DevBucket, "dst/mp")
	mustEqual(t, "copy of a multipart object", got, data)
	_, err = c.CopyObject(sdkCtx, &oss.CopyObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("dst/x"), SourceKey: oss.Ptr("src/none")})
	serviceError(t, err, http.StatusNotFound, "NoSuchKey")

	// A session that may write dst/ but not read src/ copies nothing.
	pol := policyDoc(statement("Allow", []string{"oss:PutObject"}, objectARN("dst/*")), statement("Allow", []string{"oss:GetObject"}, objectARN("open/*")))
	s := stsClient(cl, assumeRole(t, cl, pol, 900))
	_, err = s.CopyObject(sdkCtx, &oss.CopyObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("dst/stolen"), SourceKey: oss.Ptr("src/a"), TaggingDirective: oss.Ptr("Replace")})
	denied(t, "copy from an unreadable source", err)
	up := sdkInitiate(t, s, "dst/parts")
	_, err = s.UploadPartCopy(sdkCtx, &oss.UploadPartCopyRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("dst/parts"), UploadId: oss.Ptr(up.id), PartNumber: 1, SourceKey: oss.Ptr("src/a")})
	denied(t, "part copy from an unreadable source", err)
	// Copying a tagged source's tags needs oss:GetObjectTagging on it.
	sdkPut(t, c, "open/plain", []byte("p"))
	if err := putWith(c, "open/tagged", func(r *oss.PutObjectRequest) { r.Tagging = oss.Ptr("t=1") }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CopyObject(sdkCtx, &oss.CopyObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("dst/ok"), SourceKey: oss.Ptr("open/plain")}); err != nil {
		t.Fatalf("copy from a readable source: %v", err)
	}
	_, err = s.CopyObject(sdkCtx, &oss.CopyObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("dst/tags"), SourceKey: oss.Ptr("open/tagged")})
	denied(t, "copying tags without oss:GetObjectTagging", err)
}

// TestSDKDeleteObjects: quiet and verbose, and one denied key refuses all.
func TestSDKDeleteObjects(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	for _, k := range []string{"d/1", "d/2", "d/3", "keep/1"} {
		sdkPut(t, c, k, []byte(k))
	}
	res, err := c.DeleteMultipleObjects(sdkCtx, &oss.DeleteMultipleObjectsRequest{Bucket: oss.Ptr(DevBucket),
		Objects: []oss.DeleteObject{{Key: oss.Ptr("d/1")}, {Key: oss.Ptr("d/absent")}}})
	if err != nil || len(res.DeletedObjects) != 2 {
		t.Fatalf("verbose delete: %+v, %v", res, err)
	}
	res, err = c.DeleteMultipleObjects(sdkCtx, &oss.DeleteMultipleObjectsRequest{Bucket: oss.Ptr(DevBucket), Quiet: true,
		Objects: []oss.DeleteObject{{Key: oss.Ptr("d/2")}}})
	if err != nil || len(res.DeletedObjects) != 0 {
		t.Fatalf("quiet delete: %+v, %v", res, err)
	}
	s := stsClient(cl, assumeRole(t, cl, policyDoc(statement("Allow", []string{"oss:DeleteObject"}, objectARN("d/*"))), 900))
	_, err = s.DeleteMultipleObjects(sdkCtx, &oss.DeleteMultipleObjectsRequest{Bucket: oss.Ptr(DevBucket),
		Objects: []oss.DeleteObject{{Key: oss.Ptr("d/3")}, {Key: oss.Ptr("keep/1")}}})
	denied(t, "delete with one key outside the policy", err)
	for _, k := range []string{"d/3", "keep/1"} {
		if _, err := c.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(k)}); err != nil {
			t.Errorf("%s was deleted by a refused request: %v", k, err)
		}
	}
	for _, k := range []string{"d/1", "d/2"} {
		if _, err := c.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(k)}); err == nil {
			t.Errorf("%s still exists", k)
		}
	}
}

// TestSDKObjectACL: x-oss-object-acl and PutObjectACL are honoured: an
// anonymous GET of a public-read object works, of a private one (or one
// that inherits the private bucket's ACL) is refused.
func TestSDKObjectACL(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	anon := func(key string) int {
		resp, err := http.Get(cl.OSSEndpoint + "/" + DevBucket + "/" + key)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if err := putWith(c, "pub", func(r *oss.PutObjectRequest) { r.Acl = oss.ObjectACLPublicRead }); err != nil {
		t.Fatal(err)
	}
	sdkPut(t, c, "inherit", []byte("x"))
	if err := putWith(c, "priv", func(r *oss.PutObjectRequest) { r.Acl = oss.ObjectACLPrivate }); err != nil {
		t.Fatal(err)
	}
	if got := anon("pub"); got != 200 {
		t.Errorf("anonymous GET of public-read: %d", got)
	}
	for _, k := range []string{"inherit", "priv", "absent"} {
		if got := anon(k); got != 403 {
			t.Errorf("anonymous GET of %s: %d", k, got)
		}
	}
	acl := func(key string) string {
		res, err := c.GetObjectAcl(sdkCtx, &oss.GetObjectAclRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
		if err != nil {
			t.Fatalf("GetObjectAcl: %v", err)
		}
		return oss.ToString(res.ACL)
	}
	if acl("pub") != "public-read" || acl("inherit") != "default" {
		t.Errorf("ACLs: %s %s", acl("pub"), acl("inherit"))
	}
	if _, err := c.PutObjectAcl(sdkCtx, &oss.PutObjectAclRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("pub"), Acl: oss.ObjectACLPrivate}); err != nil {
		t.Fatal(err)
	}
	if got := anon("pub"); got != 403 {
		t.Errorf("anonymous GET after PutObjectACL private: %d", got)
	}
	// A public-read bucket opens objects with the default ACL, not private ones.
	if _, err := c.PutBucketAcl(sdkCtx, &oss.PutBucketAclRequest{Bucket: oss.Ptr(DevBucket), Acl: oss.BucketACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	if anon("inherit") != 200 || anon("priv") != 403 {
		t.Errorf("public-read bucket: inherit %d priv %d", anon("inherit"), anon("priv"))
	}
	// Anonymous writes stay refused.
	req, _ := http.NewRequest(http.MethodPut, cl.OSSEndpoint+"/"+DevBucket+"/anon", strings.NewReader("x"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sdkReadError(t, resp, 403, "AccessDenied")
	_, err = c.PutObjectAcl(sdkCtx, &oss.PutObjectAclRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("pub"), Acl: "everyone"})
	serviceError(t, err, http.StatusBadRequest, "InvalidArgument")
}

// TestSDKStorageClassAndSSE: storage class and encryption are stored and
// returned; an archived object cannot be read before a restore; KMS, which
// the local cloud cannot do, is refused rather than faked.
func TestSDKStorageClassAndSSE(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	if err := putWith(c, "ia", func(r *oss.PutObjectRequest) {
		r.StorageClass = oss.StorageClassIA
		r.ServerSideEncryption = oss.Ptr("AES256")
	}); err != nil {
		t.Fatal(err)
	}
	head, err := c.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("ia")})
	if err != nil || oss.ToString(head.StorageClass) != "IA" || oss.ToString(head.ServerSideEncryption) != "AES256" {
		t.Fatalf("HeadObject: class %q sse %q %v", oss.ToString(head.StorageClass), oss.ToString(head.ServerSideEncryption), err)
	}
	if err := getErr(c, "ia"); err != nil {
		t.Errorf("GET of IA: %v", err)
	}
	if err := putWith(c, "arch", func(r *oss.PutObjectRequest) { r.StorageClass = oss.StorageClassArchive }); err != nil {
		t.Fatal(err)
	}
	serviceError(t, getErr(c, "arch"), http.StatusForbidden, "InvalidObjectState")
	serviceError(t, putWith(c, "bad", func(r *oss.PutObjectRequest) { r.StorageClass = "Glacier" }), http.StatusBadRequest, "InvalidArgument")
	serviceError(t, putWith(c, "kms", func(r *oss.PutObjectRequest) { r.ServerSideEncryption = oss.Ptr("KMS") }), http.StatusNotImplemented, "NotImplemented")
	serviceError(t, putWith(c, "bad", func(r *oss.PutObjectRequest) { r.ServerSideEncryption = oss.Ptr("DES") }), http.StatusBadRequest, "InvalidEncryptionAlgorithmError")
	up, err := c.ListObjects(sdkCtx, &oss.ListObjectsRequest{Bucket: oss.Ptr(DevBucket), Prefix: oss.Ptr("ia")})
	if err != nil || len(up.Contents) != 1 || oss.ToString(up.Contents[0].StorageClass) != "IA" {
		t.Errorf("ListObjects storage class: %+v %v", up, err)
	}
}

// TestSDKNotImplementedNamesTheAPI: an unsupported API is 501 naming it.
func TestSDKNotImplementedNamesTheAPI(t *testing.T) {
	cl := startCloud(t, nil)
	for _, tc := range []struct {
		r   sdkRaw
		api string
	}{
		{sdkRaw{method: "GET", bucket: DevBucket, query: map[string][]string{"website": {""}}}, "GetBucketWebsite"},
		{sdkRaw{method: "POST", bucket: DevBucket, header: http.Header{"Content-Type": {"multipart/form-data; boundary=x"}},
			body: []byte("--x--\r\n")}, "PostObject"},
	} {
		resp := tc.r.send(t, cl)
		doc := sdkReadError(t, resp, http.StatusNotImplemented, "NotImplemented")
		if !strings.Contains(doc.get("Message"), tc.api) {
			t.Errorf("message %q does not name %s", doc.get("Message"), tc.api)
		}
	}
}
