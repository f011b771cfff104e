package localcloud

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// sdkSigners runs a subtest per signature version the SDK offers.
var sdkSigners = []struct {
	name string
	opts []clientOpt
}{{"v4", nil}, {"v1", []clientOpt{withV1()}}}

func TestSDKObjectLifecycle(t *testing.T) {
	cl := startCloud(t, nil)
	for _, v := range sdkSigners {
		t.Run(v.name, func(t *testing.T) {
			c := rootClient(cl, v.opts...)
			key := "objects/" + v.name + "/life.bin"
			data := randomBytes(200_000, 7)
			put, err := c.PutObject(sdkCtx, &oss.PutObjectRequest{
				Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), Body: bytes.NewReader(data),
				ContentType: oss.Ptr("image/x-test"),
				Metadata:    map[string]string{"Owner": "Ada Lovelace", "run": "42"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := oss.ToString(put.ETag), quotedMD5(data); got != want {
				t.Errorf("Put ETag %s, want %s", got, want)
			}
			if got, want := oss.ToString(put.HashCRC64), crcDecimal(data); got != want {
				t.Errorf("Put CRC64 %s, want %s", got, want)
			}
			if got, want := oss.ToString(put.ContentMD5), b64MD5(data); got != want {
				t.Errorf("Put Content-MD5 %s, want %s", got, want)
			}

			head, err := c.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
			if err != nil {
				t.Fatal(err)
			}
			if head.ContentLength != int64(len(data)) || oss.ToString(head.ContentType) != "image/x-test" ||
				oss.ToString(head.ETag) != quotedMD5(data) || oss.ToString(head.HashCRC64) != crcDecimal(data) ||
				oss.ToString(head.ObjectType) != "Normal" || head.LastModified == nil {
				t.Errorf("Head: length %d type %q etag %q crc %q objtype %q", head.ContentLength,
					oss.ToString(head.ContentType), oss.ToString(head.ETag), oss.ToString(head.HashCRC64), oss.ToString(head.ObjectType))
			}
			if head.Metadata["owner"] != "Ada Lovelace" || head.Metadata["run"] != "42" {
				t.Errorf("Head metadata %v", head.Metadata)
			}

			got, res := readObject(t, c, DevBucket, key)
			mustEqual(t, "GetObject body", got, data)
			if oss.ToString(res.HashCRC64) != crcDecimal(data) || oss.ToString(res.ContentType) != "image/x-test" ||
				res.Metadata["owner"] != "Ada Lovelace" || oss.ToString(res.ETag) != quotedMD5(data) {
				t.Errorf("Get headers: crc %q type %q meta %v etag %q", oss.ToString(res.HashCRC64),
					oss.ToString(res.ContentType), res.Metadata, oss.ToString(res.ETag))
			}

			del, err := c.DeleteObject(sdkCtx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
			if err != nil || del.StatusCode != http.StatusNoContent {
				t.Fatalf("DeleteObject: %v %+v", err, del)
			}
			_, err = c.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
			se := serviceError(t, err, http.StatusNotFound, "NoSuchKey")
			if se.Message == "" {
				t.Error("HEAD 404 decoded from x-oss-err without a message")
			}
			_, err = c.GetObject(sdkCtx, &oss.GetObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
			serviceError(t, err, http.StatusNotFound, "NoSuchKey")
			// Deleting a missing key is not an error on OSS.
			if _, err := c.DeleteObject(sdkCtx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)}); err != nil {
				t.Errorf("DeleteObject of a missing key: %v", err)
			}
		})
	}
}

func TestSDKGetObjectRange(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	data := randomBytes(1000, 3)
	sdkPut(t, c, "range.bin", data)
	get := func(rng string, standard bool) (*oss.GetObjectResult, []byte, error) {
		req := &oss.GetObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("range.bin"), Range: oss.Ptr(rng)}
		if standard {
			req.RangeBehavior = oss.Ptr("standard")
		}
		res, err := c.GetObject(sdkCtx, req)
		if err != nil {
			return nil, nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res, b, err
	}
	for _, tc := range []struct {
		rng        string
		start, end int // end exclusive
	}{
		{"bytes=0-99", 0, 100},
		{"bytes=100-", 100, 1000},
		{"bytes=-10", 990, 1000},
		{"bytes=990-5000", 990, 1000},
	} {
		res, b, err := get(tc.rng, false)
		if err != nil {
			t.Fatalf("%s: %v", tc.rng, err)
		}
		wantCR := fmt.Sprintf("bytes %d-%d/1000", tc.start, tc.end-1)
		if res.StatusCode != http.StatusPartialContent || oss.ToString(res.ContentRange) != wantCR || res.ContentLength != int64(tc.end-tc.start) {
			t.Errorf("%s: status %d Content-Range %q length %d, want 206 %q", tc.rng, res.StatusCode, oss.ToString(res.ContentRange), res.ContentLength, wantCR)
		}
		mustEqual(t, tc.rng, b, data[tc.start:tc.end])
	}

	// OSS ignores an unsatisfiable range and sends the whole object...
	res, b, err := get("bytes=5000-6000", false)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.ContentRange != nil {
		t.Errorf("range beyond the end: status %d Content-Range %q, want 200 and none", res.StatusCode, oss.ToString(res.ContentRange))
	}
	mustEqual(t, "range beyond the end", b, data)
	// ...unless the client asks for the standard behaviour.
	_, _, err = get("bytes=5000-6000", true)
	serviceError(t, err, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
	res, b, err = get("bytes=10-19", true)
	if err != nil || res.StatusCode != http.StatusPartialContent {
		t.Fatalf("standard range within the object: %v", err)
	}
	mustEqual(t, "standard range", b, data[10:20])

	// An empty object has no range to give.
	sdkPut(t, c, "empty", nil)
	for _, standard := range []bool{false, true} {
		req := &oss.GetObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("empty"), Range: oss.Ptr("bytes=-10")}
		if standard {
			req.RangeBehavior = oss.Ptr("standard")
		}
		res, err := c.GetObject(sdkCtx, req)
		if standard {
			serviceError(t, err, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.ContentLength != 0 || res.ContentRange != nil {
			t.Errorf("suffix range of an empty object: %d length %d range %q", res.StatusCode, res.ContentLength, oss.ToString(res.ContentRange))
		}
	}
}

func TestSDKPutObjectContentMD5(t *testing.T) {
	cl := startCloud(t, nil)
	for _, v := range sdkSigners {
		t.Run(v.name, func(t *testing.T) {
			c := rootClient(cl, v.opts...)
			data := randomBytes(5000, 11)
			key := "md5/" + v.name
			_, err := c.PutObject(sdkCtx, &oss.PutObjectRequest{
				Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), Body: bytes.NewReader(data),
				ContentMD5: oss.Ptr(b64MD5([]byte("something else"))),
			})
			serviceError(t, err, http.StatusBadRequest, "InvalidDigest")
			if _, err := c.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)}); err == nil {
				t.Fatal("an object was stored despite InvalidDigest")
			}
			if _, err := c.PutObject(sdkCtx, &oss.PutObjectRequest{
				Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), Body: bytes.NewReader(data),
				ContentMD5: oss.Ptr(b64MD5(data)),
			}); err != nil {
				t.Fatalf("PutObject with the right Content-MD5: %v", err)
			}
			got, _ := readObject(t, c, DevBucket, key)
			mustEqual(t, "object", got, data)
		})
	}
}

func TestSDKForbidOverwrite(t *testing.T) {
	cl := startCloud(t, nil)
	c := rootClient(cl)
	sdkPut(t, c, "once", []byte("first"))
	_, err := c.PutObject(sdkCtx, &oss.PutObjectRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("once"), Body: bytes.NewReader([]byte("second")),
		ForbidOverwrite: oss.Ptr("true"),
	})
	serviceError(t, err, http.StatusConflict, "FileAlreadyExists")
	got, _ := readObject(t, c, DevBucket, "once")
	mustEqual(t, "object after a refused overwrite", got, []byte("first"))
	// A new key is fine with the header, and "false" allows overwriting.
	if _, err := c.PutObject(sdkCtx, &oss.PutObjectRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("fresh"), Body: bytes.NewReader([]byte("x")), ForbidOverwrite: oss.Ptr("true"),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(sdkCtx, &oss.PutObjectRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("once"), Body: bytes.NewReader([]byte("third")), ForbidOverwrite: oss.Ptr("false"),
	}); err != nil {
		t.Fatal(err)
	}
}

// sdkSpecialKeys are keys that exercise escaping in paths and in both signature
// versions' canonical forms.
var sdkSpecialKeys = []string{
	"unicode/ünïcödé/文件 名.txt",
	"spaces/a b  c",
	"plus/a+b+c",
	"percent/100%/%41%2F",
	"query/what?x=1&y=2",
	"hash/#fragment#",
	"dots/../up/./here/..",
	"..",
	"mixed/~!@$&'()*,;=:[]{}^`|\"<>\\",
}

func TestSDKSpecialKeys(t *testing.T) {
	cl := startCloud(t, nil)
	for _, v := range sdkSigners {
		t.Run(v.name, func(t *testing.T) {
			c := rootClient(cl, v.opts...)
			for i, key := range sdkSpecialKeys {
				key := v.name + "/" + key
				data := []byte(fmt.Sprintf("%d:%s", i, key))
				sdkPut(t, c, key, data)
				got, _ := readObject(t, c, DevBucket, key)
				mustEqual(t, key, got, data)
				head, err := c.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
				if err != nil || head.ContentLength != int64(len(data)) {
					t.Fatalf("HeadObject %q: %v", key, err)
				}
				if _, err := c.DeleteObject(sdkCtx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)}); err != nil {
					t.Fatalf("DeleteObject %q: %v", key, err)
				}
				_, err = c.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
				serviceError(t, err, http.StatusNotFound, "NoSuchKey")
			}
		})
	}
}

func TestSDKInvalidObjectNames(t *testing.T) {
	cl := startCloud(t, nil)
	for _, v := range sdkSigners {
		c := rootClient(cl, v.opts...)
		for _, tc := range []struct{ key, ec string }{
			{"/leading-slash", "0016-00000005"},
			{"\\leading-backslash", "0016-00000005"},
			{strings.Repeat("k", 1024), "0016-00000002"},
		} {
			_, err := c.PutObject(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(tc.key), Body: bytes.NewReader([]byte("x"))})
			se := serviceError(t, err, http.StatusBadRequest, "InvalidObjectName")
			if se.EC != tc.ec {
				t.Errorf("%s %.20q: EC %q, want %s", v.name, tc.key, se.EC, tc.ec)
			}
		}
		// The longest allowed key works.
		long := strings.Repeat("k", 1023)
		sdkPut(t, c, long, []byte("x"))
		got, _ := readObject(t, c, DevBucket, long)
		mustEqual(t, "1023-byte key", got, []byte("x"))
	}
}

// TestSDKReadHelpers covers the SDK's read-side helpers, which combine
// ranged GETs, HEAD ?objectMeta and CRC checks.
func TestSDKReadHelpers(t *testing.T) {
	cl := startCloud(t, nil)
	data := randomBytes(3<<20+17, 13)
	up := oss.NewUploader(rootClient(cl), func(o *oss.UploaderOptions) { o.PartSize = 1 << 20 })
	if _, err := up.UploadFrom(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("read/obj")}, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	for _, v := range sdkSigners {
		t.Run(v.name, func(t *testing.T) {
			c := rootClient(cl, v.opts...)
			d := c.NewDownloader(func(o *oss.DownloaderOptions) { o.PartSize = 512 << 10; o.ParallelNum = 3 })
			p := filepath.Join(t.TempDir(), "out")
			if _, err := d.DownloadFile(sdkCtx, &oss.GetObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("read/obj")}, p); err != nil {
				t.Fatalf("Downloader: %v", err)
			}
			got, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			mustEqual(t, "downloaded file", got, data)

			f, err := c.OpenFile(sdkCtx, DevBucket, "read/obj", func(o *oss.OpenOptions) { o.EnablePrefetch = true; o.ChunkSize = 512 << 10 })
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Seek(1000, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			got, err = io.ReadAll(f)
			if err != nil {
				t.Fatalf("OpenFile read: %v", err)
			}
			mustEqual(t, "OpenFile from offset 1000", got, data[1000:])

			meta, err := c.GetObjectMeta(sdkCtx, &oss.GetObjectMetaRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("read/obj")})
			if err != nil {
				t.Fatalf("GetObjectMeta: %v", err)
			}
			if meta.ContentLength != int64(len(data)) || oss.ToString(meta.HashCRC64) != crcDecimal(data) || oss.ToString(meta.ETag) == "" || meta.LastModified == nil {
				t.Errorf("GetObjectMeta: %+v", meta)
			}
			for key, want := range map[string]bool{"read/obj": true, "read/none": false} {
				ok, err := c.IsObjectExist(sdkCtx, DevBucket, key)
				if err != nil || ok != want {
					t.Errorf("IsObjectExist(%s) = %v, %v; want %v", key, ok, err, want)
				}
			}
		})
	}
}
