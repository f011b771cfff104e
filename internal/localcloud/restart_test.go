package localcloud

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// startIn runs a local cloud on fresh :0 ports over an existing data
// directory, as a restarted process would.
func startIn(t testing.TB, dir string, mod func(*Config)) *Cloud {
	t.Helper()
	return startCloud(t, func(c *Config) {
		c.DataDir = dir
		if mod != nil {
			mod(c)
		}
	})
}

// sentPart is a part as the client uploaded it and the server acknowledged it.
type sentPart struct {
	Number int32
	Data   []byte
	ETag   string // as returned by UploadPart
	CRC    uint64 // as returned by UploadPart
}

func uploadPart(ctx context.Context, c *oss.Client, key, id string, n int32, data []byte) (sentPart, error) {
	res, err := c.UploadPart(ctx, &oss.UploadPartRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), UploadId: oss.Ptr(id),
		PartNumber: n, Body: bytes.NewReader(data),
	})
	if err != nil {
		return sentPart{}, err
	}
	crc, err := strconv.ParseUint(oss.ToString(res.HashCRC64), 10, 64)
	if err != nil {
		return sentPart{}, err
	}
	return sentPart{Number: n, Data: data, ETag: oss.ToString(res.ETag), CRC: crc}, nil
}

func mustUploadPart(t testing.TB, c *oss.Client, key, id string, n int32, data []byte) sentPart {
	t.Helper()
	p, err := uploadPart(context.Background(), c, key, id, n, data)
	if err != nil {
		t.Fatalf("UploadPart %d: %v", n, err)
	}
	if p.CRC != crcOf(data) {
		t.Fatalf("UploadPart %d: server CRC %d, want %d", n, p.CRC, crcOf(data))
	}
	return p
}

func initiate(t testing.TB, c *oss.Client, key string, meta map[string]string) string {
	t.Helper()
	res, err := c.InitiateMultipartUpload(context.Background(), &oss.InitiateMultipartUploadRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), Metadata: meta, ContentType: oss.Ptr("application/x-ossup-test"),
	})
	if err != nil {
		t.Fatalf("InitiateMultipartUpload %s: %v", key, err)
	}
	return oss.ToString(res.UploadId)
}

func completeParts(ctx context.Context, c *oss.Client, key, id string, parts []sentPart) (*oss.CompleteMultipartUploadResult, error) {
	list := make([]oss.UploadPart, len(parts))
	for i, p := range parts {
		list[i] = oss.UploadPart{PartNumber: p.Number, ETag: oss.Ptr(p.ETag)}
	}
	return c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), UploadId: oss.Ptr(id),
		CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: list},
	})
}

// listAllParts pages through ListParts.
func listAllParts(c *oss.Client, key, id string) ([]oss.Part, error) {
	var all []oss.Part
	var marker int32
	for {
		res, err := c.ListParts(context.Background(), &oss.ListPartsRequest{
			Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), UploadId: oss.Ptr(id), PartNumberMarker: marker,
		})
		if err != nil {
			return nil, err
		}
		all = append(all, res.Parts...)
		if !res.IsTruncated {
			return all, nil
		}
		marker = res.NextPartNumberMarker
	}
}

// checkListedPart compares a ListParts entry with what was sent.
func checkListedPart(t testing.TB, got oss.Part, want sentPart) {
	t.Helper()
	crc, _ := strconv.ParseUint(oss.ToString(got.HashCRC64), 10, 64)
	if got.PartNumber != want.Number || got.Size != int64(len(want.Data)) || crc != crcOf(want.Data) ||
		oss.ToString(got.ETag) != want.ETag {
		t.Fatalf("part %d listed as size %d etag %s crc %d; sent size %d etag %s crc %d",
			got.PartNumber, got.Size, oss.ToString(got.ETag), crc, len(want.Data), want.ETag, crcOf(want.Data))
	}
}

func concat(parts []sentPart) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p.Data...)
	}
	return b
}

func TestRestartKeepsObjectsUploadsAndCredentials(t *testing.T) {
	dir := t.TempDir()
	short := func(c *Config) { c.MinSTSDuration = time.Second }
	first := startIn(t, dir, short)
	root := rootClient(first)
	ctx := context.Background()

	// A Normal object with metadata.
	plain := randomBytes(300_000, 11)
	if _, err := root.PutObject(ctx, &oss.PutObjectRequest{
		Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("restart/plain.bin"), Body: bytes.NewReader(plain),
		ContentType: oss.Ptr("application/x-plain"), Metadata: map[string]string{"owner": "u-42"},
	}); err != nil {
		t.Fatal(err)
	}
	// A multipart upload left half done.
	const key = "restart/multi.bin"
	id := initiate(t, root, key, map[string]string{"origin": "before-restart"})
	parts := []sentPart{
		mustUploadPart(t, root, key, id, 1, randomBytes(150_000, 21)),
		mustUploadPart(t, root, key, id, 2, randomBytes(120_000, 22)),
	}
	// Credentials: a long one to use after the restart, a short one to watch
	// expire after it.
	long := assumeRole(t, first, "", 3600)
	brief := assumeRole(t, first, "", 3)
	briefExp, err := time.Parse(time.RFC3339, *brief.Expiration)
	if err != nil {
		t.Fatalf("expiration %q: %v", *brief.Expiration, err)
	}
	if _, err := stsClient(first, brief).HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("restart/plain.bin")}); err != nil {
		t.Fatalf("short-lived credentials before the restart: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	second := startIn(t, dir, short)
	if second.OSSEndpoint == first.OSSEndpoint && second.STSEndpoint == first.STSEndpoint {
		t.Logf("restart reused both ports (allowed, but unusual)")
	}
	root = rootClient(second)

	got, res := readObject(t, root, DevBucket, "restart/plain.bin")
	mustEqual(t, "plain object after restart", got, plain)
	if oss.ToString(res.HashCRC64) != strconv.FormatUint(crcOf(plain), 10) ||
		oss.ToString(res.ContentType) != "application/x-plain" || res.Metadata["owner"] != "u-42" ||
		oss.ToString(res.ObjectType) != "Normal" {
		t.Fatalf("plain object headers after restart: crc %s type %s content-type %s meta %v",
			oss.ToString(res.HashCRC64), oss.ToString(res.ObjectType), oss.ToString(res.ContentType), res.Metadata)
	}

	ups, err := root.ListMultipartUploads(ctx, &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(DevBucket), Prefix: oss.Ptr("restart/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 1 || oss.ToString(ups.Uploads[0].UploadId) != id || oss.ToString(ups.Uploads[0].Key) != key {
		t.Fatalf("uploads after restart: %+v, want only %s", ups.Uploads, id)
	}
	listed, err := listAllParts(root, key, id)
	if err != nil {
		t.Fatalf("ListParts after restart: %v", err)
	}
	if len(listed) != len(parts) {
		t.Fatalf("ListParts after restart: %d parts, want %d", len(listed), len(parts))
	}
	for i := range parts {
		checkListedPart(t, listed[i], parts[i])
	}

	// Credentials minted by the first process work on the second, for both
	// a new part and the Complete.
	sc := stsClient(second, long)
	parts = append(parts, mustUploadPart(t, sc, key, id, 3, randomBytes(40_000, 23)))
	cres, err := completeParts(ctx, sc, key, id, parts)
	if err != nil {
		t.Fatalf("Complete with pre-restart STS credentials: %v", err)
	}
	want := concat(parts)
	if oss.ToString(cres.HashCRC64) != strconv.FormatUint(crcOf(want), 10) {
		t.Fatalf("Complete CRC %s, want %d", oss.ToString(cres.HashCRC64), crcOf(want))
	}
	got, res = readObject(t, root, DevBucket, key)
	if sha(got) != sha(want) {
		t.Fatalf("completed object: SHA-256 differs (%d bytes, want %d)", len(got), len(want))
	}
	if res.Metadata["origin"] != "before-restart" || oss.ToString(res.ContentType) != "application/x-ossup-test" ||
		oss.ToString(res.ObjectType) != "Multipart" {
		t.Fatalf("completed object: type %s content-type %s meta %v", oss.ToString(res.ObjectType), oss.ToString(res.ContentType), res.Metadata)
	}

	// The short credentials keep their original expiry across the restart.
	time.Sleep(time.Until(briefExp) + 1500*time.Millisecond)
	_, err = stsClient(second, brief).HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("restart/plain.bin")})
	serviceError(t, err, 403, "SecurityTokenExpired")
	if _, err := sc.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)}); err != nil {
		t.Fatalf("long-lived credentials after the restart: %v", err)
	}
	if err := second.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	// A third start sees the completed object and no upload.
	third := startIn(t, dir, short)
	root = rootClient(third)
	got, _ = readObject(t, root, DevBucket, key)
	mustEqual(t, "completed object after a second restart", got, want)
	_, err = listAllParts(root, key, id)
	serviceError(t, err, 404, "NoSuchUpload")
}
