package server

import (
	"context"
	"errors"
	"strings"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// ossObjects is Objects over the OSS Go SDK with the backend's own keys.
type ossObjects struct {
	client *oss.Client
	bucket string
}

func (o *ossObjects) Head(ctx context.Context, key string) (*ObjectInfo, error) {
	res, err := o.client.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(o.bucket), Key: oss.Ptr(key)})
	if err != nil {
		var se *oss.ServiceError
		if errors.As(err, &se) && se.StatusCode == 404 {
			return nil, ErrObjectNotFound
		}
		return nil, err
	}
	info := &ObjectInfo{Size: res.ContentLength, CRC64: oss.ToString(res.HashCRC64), ETag: strings.Trim(oss.ToString(res.ETag), `"`), ContentType: oss.ToString(res.ContentType)}
	if res.LastModified != nil {
		info.LastModified = *res.LastModified
	}
	return info, nil
}

func (o *ossObjects) AbortUpload(ctx context.Context, key, uploadID string) error {
	_, err := o.client.AbortMultipartUpload(ctx, &oss.AbortMultipartUploadRequest{Bucket: oss.Ptr(o.bucket), Key: oss.Ptr(key), UploadId: oss.Ptr(uploadID)})
	var se *oss.ServiceError
	if errors.As(err, &se) && se.Code == "NoSuchUpload" {
		return ErrUploadNotFound
	}
	return err
}
