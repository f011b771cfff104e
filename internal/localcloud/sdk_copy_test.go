package localcloud

import (
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// TestSDKUploadPartCopy: a part copied from another object holds that
// object's bytes (the requested range of them), so the completed object is
// the concatenation. The local OSS once stored such a part as empty.
func TestSDKUploadPartCopy(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	src := randomBytes(300<<10, 7)
	sdkPut(t, c, "copy/src.bin", src)

	u := sdkInitiate(t, c, "copy/dst.bin")
	first, err := c.UploadPartCopy(sdkCtx, &oss.UploadPartCopyRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(u.key), UploadId: oss.Ptr(u.id), PartNumber: 1,
		SourceKey: oss.Ptr("copy/src.bin"), Range: oss.Ptr("bytes=0-204799"),
	})
	if err != nil {
		t.Fatalf("UploadPartCopy 1: %v", err)
	}
	if got, want := oss.ToString(first.ETag), quotedMD5(src[:200<<10]); got != want {
		t.Errorf("part 1 ETag %s, want %s", got, want)
	}
	second, err := c.UploadPartCopy(sdkCtx, &oss.UploadPartCopyRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(u.key), UploadId: oss.Ptr(u.id), PartNumber: 2,
		SourceKey: oss.Ptr("copy/src.bin"),
	})
	if err != nil {
		t.Fatalf("UploadPartCopy 2: %v", err)
	}
	if _, err := u.complete(oss.UploadPart{PartNumber: 1, ETag: first.ETag}, oss.UploadPart{PartNumber: 2, ETag: second.ETag}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	got, _ := readObject(t, c, DevBucket, "copy/dst.bin")
	mustEqual(t, "copied object", got, append(append([]byte{}, src[:200<<10]...), src...))
}
