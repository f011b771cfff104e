package localcloud

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/retry"

	"github.com/ossup/ossup/internal/localcloud/faults"
)

// TestSDKUploader64MiBWithSTS is the headline conformance check: the SDK's
// own multipart Uploader, in parallel, with temporary credentials minted by
// the official STS SDK, stores 64 MiB byte-identical with the right CRC64.
func TestSDKUploader64MiBWithSTS(t *testing.T) {
	cl := startCloud(t, nil)
	creds := assumeRole(t, cl, "", 3600)
	c := stsClient(cl, creds)
	data := randomBytes(64<<20, 64)
	wantCRC := crcDecimal(data)
	const key = "big/64MiB.bin"
	up := oss.NewUploader(c, func(o *oss.UploaderOptions) {
		o.PartSize = 8 << 20
		o.ParallelNum = 4
	})
	res, err := up.UploadFrom(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)}, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Uploader: %v", err)
	}
	if oss.ToString(res.HashCRC64) != wantCRC || oss.ToString(res.UploadId) == "" {
		t.Fatalf("upload result: CRC %s (want %s) upload id %q", oss.ToString(res.HashCRC64), wantCRC, oss.ToString(res.UploadId))
	}
	if st := cl.OSS.Stats().Snapshot()["UploadPart"]; st.Requests != 8 || st.BytesIn != int64(len(data)) {
		t.Errorf("UploadPart stats %+v, want 8 requests carrying %d bytes", st, len(data))
	}

	got, gres := readObject(t, c, DevBucket, key)
	if sha(got) != sha(data) {
		t.Fatalf("read back %d bytes with a different SHA-256", len(got))
	}
	if oss.ToString(gres.HashCRC64) != wantCRC || oss.ToString(gres.ObjectType) != "Multipart" {
		t.Fatalf("GetObject: CRC %s type %s", oss.ToString(gres.HashCRC64), oss.ToString(gres.ObjectType))
	}
}

// TestSDKUploaderSTSV1 runs a smaller Uploader upload signed with V1 and an
// STS token, the combination older clients use.
func TestSDKUploaderSTSV1(t *testing.T) {
	cl := startCloud(t, nil)
	c := stsClient(cl, assumeRole(t, cl, "", 900), withV1())
	data := randomBytes(1<<20+12345, 5)
	up := oss.NewUploader(c, func(o *oss.UploaderOptions) { o.PartSize = 256 << 10; o.ParallelNum = 3 })
	res, err := up.UploadFrom(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("v1/sts.bin")}, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if oss.ToString(res.HashCRC64) != crcDecimal(data) {
		t.Fatalf("CRC %s, want %s", oss.ToString(res.HashCRC64), crcDecimal(data))
	}
	got, _ := readObject(t, c, DevBucket, "v1/sts.bin")
	mustEqual(t, "object", got, data)
}

// TestSDKUploaderCheckpointResume interrupts UploadFile at about 40% and
// runs it again: the second run must pick up the upload from its checkpoint
// and ListParts, and send only the missing parts.
func TestSDKUploaderCheckpointResume(t *testing.T) {
	cl := startCloud(t, nil)
	c := stsClient(cl, assumeRole(t, cl, "", 3600))
	const partSize = 256 << 10
	data := randomBytes(16*partSize, 16)
	src := filepath.Join(t.TempDir(), "src.bin")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// The SDK takes filepath.Dir of CheckpointDir, hence the trailing slash.
	cpDir := t.TempDir()
	const key = "resume/src.bin"
	up := oss.NewUploader(c, func(o *oss.UploaderOptions) {
		o.PartSize = partSize
		o.ParallelNum = 2
		o.EnableCheckpoint = true
		o.CheckpointDir = cpDir + string(filepath.Separator)
	})

	ctx, cancel := context.WithCancel(sdkCtx)
	defer cancel()
	_, err := up.UploadFile(ctx, &oss.PutObjectRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key),
		ProgressFn: func(_, transferred, total int64) {
			if transferred*10 >= total*4 {
				cancel()
			}
		},
	}, src)
	if err == nil {
		t.Fatal("the interrupted upload succeeded")
	}
	if !errors.Is(err, context.Canceled) {
		t.Logf("interrupted upload: %v", err)
	}
	cps, _ := filepath.Glob(filepath.Join(cpDir, "*.ucp"))
	if len(cps) != 1 {
		t.Fatalf("checkpoint files after the interruption: %v", cps)
	}
	uploads, err := c.ListMultipartUploads(sdkCtx, &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(DevBucket), Prefix: oss.Ptr(key)})
	if err != nil || len(uploads.Uploads) != 1 {
		t.Fatalf("the interrupted upload should be left in place: %v %+v", err, uploads)
	}
	firstID := oss.ToString(uploads.Uploads[0].UploadId)

	cl.OSS.Stats().Reset()
	res, err := up.UploadFile(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)}, src)
	if err != nil {
		t.Fatalf("resumed upload: %v", err)
	}
	if oss.ToString(res.UploadId) != firstID {
		t.Errorf("resumed with upload %s, want the interrupted %s", oss.ToString(res.UploadId), firstID)
	}
	stats := cl.OSS.Stats().Snapshot()
	sent := stats["UploadPart"].BytesIn
	if sent <= 0 || sent > int64(len(data))*3/4 {
		t.Fatalf("second run sent %d UploadPart bytes of %d: not a resume", sent, len(data))
	}
	if n := stats["InitiateMultipartUpload"].Requests; n != 0 {
		t.Errorf("second run initiated %d new uploads", n)
	}
	if stats["ListParts"].Requests == 0 {
		t.Error("second run never listed the parts already uploaded")
	}
	t.Logf("resume sent %d of %d bytes", sent, len(data))
	if oss.ToString(res.HashCRC64) != crcDecimal(data) {
		t.Fatalf("CRC %s, want %s", oss.ToString(res.HashCRC64), crcDecimal(data))
	}
	got, _ := readObject(t, c, DevBucket, key)
	if sha(got) != sha(data) {
		t.Fatal("resumed object differs from the file")
	}
	if cps, _ := filepath.Glob(filepath.Join(cpDir, "*.ucp")); len(cps) != 0 {
		t.Errorf("checkpoint left after success: %v", cps)
	}
}

// fastRetries lets the SDK retry often with short backoff, so tests with
// injected failure rates finish quickly and deterministically.
func fastRetries(attempts int) clientOpt {
	return func(c *oss.Config) {
		c.WithRetryer(retry.NewStandard(func(o *retry.RetryOptions) {
			o.MaxAttempts = attempts
			o.BaseDelay = 10 * time.Millisecond
			o.MaxBackoff = 100 * time.Millisecond
		}))
	}
}

func TestSDKUploaderSurvivesInjected5xx(t *testing.T) {
	cl := startCloud(t, nil)
	if err := cl.Faults.Set(faults.Config{Seed: 20240601, Rules: []faults.Rule{{Op: "UploadPart", ErrorRate: 0.3}}}); err != nil {
		t.Fatal(err)
	}
	c := rootClient(cl, fastRetries(12))
	data := randomBytes(24*sdkMinPart+99, 30)
	up := oss.NewUploader(c, func(o *oss.UploaderOptions) { o.PartSize = sdkMinPart; o.ParallelNum = 4 })
	res, err := up.UploadFrom(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("faulty/5xx")}, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Uploader under a 30%% UploadPart error rate: %v", err)
	}
	injected := cl.Faults.Stats()["UploadPart"].Errors
	st := cl.OSS.Stats().Snapshot()["UploadPart"]
	if injected == 0 || st.Errors != injected || st.Requests != 25+injected {
		t.Fatalf("injected %d errors; endpoint saw %+v (want %d requests)", injected, st, 25+injected)
	}
	if oss.ToString(res.HashCRC64) != crcDecimal(data) {
		t.Fatalf("CRC %s, want %s", oss.ToString(res.HashCRC64), crcDecimal(data))
	}
	got, _ := readObject(t, c, DevBucket, "faulty/5xx")
	mustEqual(t, "object", got, data)
}

func TestSDKRetriesCorruptCRC(t *testing.T) {
	cl := startCloud(t, nil)
	if err := cl.Faults.Set(faults.Config{Rules: []faults.Rule{{Op: "PutObject", CorruptCRCRate: 1, Count: 1}}}); err != nil {
		t.Fatal(err)
	}
	c := rootClient(cl, fastRetries(3))
	data := randomBytes(10_000, 8)
	res := sdkPut(t, c, "crc/once", data)
	if oss.ToString(res.HashCRC64) != crcDecimal(data) {
		t.Fatalf("CRC %s, want %s", oss.ToString(res.HashCRC64), crcDecimal(data))
	}
	if n := cl.Faults.Stats()["PutObject"].CorruptCRC; n != 1 {
		t.Fatalf("corrupted %d responses, want 1", n)
	}
	if n := cl.OSS.Stats().Snapshot()["PutObject"].Requests; n != 2 {
		t.Fatalf("PutObject sent %d times, want 2 (one retry after the bad CRC)", n)
	}

	// A CRC corrupted on every attempt is an error the SDK names.
	if err := cl.Faults.Set(faults.Config{Rules: []faults.Rule{{Op: "PutObject", CorruptCRCRate: 1}}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutObject(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("crc/always"), Body: bytes.NewReader(data)})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("crc is inconsistent")) {
		t.Fatalf("persistent CRC corruption: %v", err)
	}
}

// TestSDKCompleteRetriedAfter5xx: a 5xx answer to Complete is retried by the
// SDK and the upload still completes once, intact.
func TestSDKCompleteRetriedAfter5xx(t *testing.T) {
	cl := startCloud(t, nil)
	if err := cl.Faults.Set(faults.Config{Rules: []faults.Rule{{Op: "CompleteMultipartUpload", ErrorRate: 1, Count: 2}}}); err != nil {
		t.Fatal(err)
	}
	c := rootClient(cl, fastRetries(3))
	data := randomBytes(3*sdkMinPart+1, 12)
	up := oss.NewUploader(c, func(o *oss.UploaderOptions) { o.PartSize = sdkMinPart })
	res, err := up.UploadFrom(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("complete/5xx")}, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Uploader with two failed Completes: %v", err)
	}
	st := cl.OSS.Stats().Snapshot()["CompleteMultipartUpload"]
	if st.Requests != 3 || st.Errors != 2 {
		t.Fatalf("Complete stats %+v, want 3 requests and 2 errors", st)
	}
	if oss.ToString(res.HashCRC64) != crcDecimal(data) {
		t.Fatalf("CRC %s, want %s", oss.ToString(res.HashCRC64), crcDecimal(data))
	}
	got, _ := readObject(t, c, DevBucket, "complete/5xx")
	mustEqual(t, "object", got, data)
	uploads, err := c.ListMultipartUploads(sdkCtx, &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(DevBucket)})
	if err != nil || len(uploads.Uploads) != 0 {
		t.Fatalf("uploads left behind: %v %+v", err, uploads)
	}
}
