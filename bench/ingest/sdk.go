package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossup/ossup/internal/localcloud"
)

// The Uploader settings under test.
const (
	sdkPartSize    = 8 << 20
	sdkParallelNum = 4
)

// newSDKContender starts an in-process local cloud on dataDir and uploads
// the source file to it with the SDK's Uploader and the account's keys.
func newSDKContender(src string, size int64, crc uint64, dataDir string) (*contender, error) {
	cl, err := localcloud.Start(localcloud.Config{DataDir: dataDir, OSSAddr: "127.0.0.1:0", STSAddr: "127.0.0.1:0"})
	if err != nil {
		return nil, fmt.Errorf("start local cloud: %w", err)
	}
	client := oss.NewClient(oss.LoadDefaultConfig().
		WithEndpoint(cl.OSSEndpoint).
		WithRegion(cl.Config.Region).
		WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cl.Config.AccessKeyID, cl.Config.AccessKeySecret)))
	up := client.NewUploader(func(o *oss.UploaderOptions) {
		o.PartSize = sdkPartSize
		o.ParallelNum = sdkParallelNum
	})
	bucket := cl.Config.Bucket
	want := strconv.FormatUint(crc, 10)
	return &contender{
		Key:  "ours",
		Name: fmt.Sprintf("ossup local OSS, SDK Uploader (%d MiB × %d)", sdkPartSize>>20, sdkParallelNum),
		run: func(ctx context.Context, run int) (time.Duration, error) {
			key := fmt.Sprintf("bench/ingest-%d.bin", run)
			req := &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)}
			began := time.Now()
			res, err := up.UploadFile(ctx, req, src)
			took := time.Since(began)
			if err != nil {
				return 0, fmt.Errorf("upload: %w", err)
			}
			// Check what the server stored, not only what it answered.
			head, err := client.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
			if err != nil {
				return 0, fmt.Errorf("head: %w", err)
			}
			if got := oss.ToString(head.HashCRC64); got != want || head.ContentLength != size || oss.ToString(res.HashCRC64) != want {
				return 0, fmt.Errorf("stored object has %d bytes, CRC64 %s (upload said %s); the file has %d bytes, CRC64 %s",
					head.ContentLength, got, oss.ToString(res.HashCRC64), size, want)
			}
			if _, err := client.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)}); err != nil {
				return 0, fmt.Errorf("delete: %w", err)
			}
			return took, nil
		},
		close: cl.Close,
	}, nil
}
