package localcloud

import (
	"bytes"
	"context"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

func TestSmokePutGet(t *testing.T) {
	cl := startCloud(t, nil)
	for _, v := range []struct {
		name string
		opts []clientOpt
	}{{"v4", nil}, {"v1", []clientOpt{withV1()}}} {
		t.Run(v.name, func(t *testing.T) {
			c := rootClient(cl, v.opts...)
			data := randomBytes(300_000, 1)
			_, err := c.PutObject(context.Background(), &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("smoke/" + v.name), Body: bytes.NewReader(data)})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := readObject(t, c, DevBucket, "smoke/"+v.name)
			mustEqual(t, "object", got, data)
		})
	}
}
