package localcloud

import (
	"net"
	"net/http"
	"net/url"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

// vhostClient is an SDK client in its default virtual-hosted style: the
// bucket goes into the Host (dev-bucket.localhost:PORT), and the dialer sends
// every connection to the loopback listener.
func vhostClient(t testing.TB, cl *Cloud, opts ...clientOpt) (*oss.Client, string) {
	t.Helper()
	u, err := url.Parse(cl.OSSEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()
	hc := &http.Client{Transport: &http.Transport{DialContext: localhostDialer(port)}}
	cfg := oss.LoadDefaultConfig().
		WithEndpoint("http://localhost:" + port).
		WithRegion(cl.Config.Region).
		WithHttpClient(hc).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cl.Config.AccessKeyID, cl.Config.AccessKeySecret, ""))
	for _, o := range opts {
		o(cfg)
	}
	return oss.NewClient(cfg), port
}

func TestSDKVirtualHostedStyle(t *testing.T) {
	cl := startCloud(t, nil)
	for _, v := range sdkSigners {
		t.Run(v.name, func(t *testing.T) {
			c, port := vhostClient(t, cl, v.opts...)
			key := "vhost/" + v.name + "/a b+c.bin"
			data := randomBytes(3*sdkMinPart+5, 6)
			res := sdkPut(t, c, key, data)
			if oss.ToString(res.HashCRC64) != crcDecimal(data) {
				t.Fatalf("CRC %s", oss.ToString(res.HashCRC64))
			}
			if res.Headers.Get("x-oss-request-id") == "" {
				t.Error("no request id")
			}
			got, _ := readObject(t, c, DevBucket, key)
			mustEqual(t, "virtual-hosted GET", got, data)
			// The same object, seen path-style.
			got, _ = readObject(t, rootClient(cl), DevBucket, key)
			mustEqual(t, "path-style GET", got, data)

			// Multipart through the virtual host, too.
			up := oss.NewUploader(c, func(o *oss.UploaderOptions) { o.PartSize = sdkMinPart })
			if _, err := up.UploadFile(sdkCtx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key + ".mp")}, writeTemp(t, data)); err != nil {
				t.Fatal(err)
			}
			got, _ = readObject(t, c, DevBucket, key+".mp")
			mustEqual(t, "virtual-hosted multipart", got, data)

			// Location keeps the bucket in the host.
			u := sdkInitiate(t, c, key+".loc")
			done, err := u.complete(u.mustPart(1, data[:10]))
			if err != nil {
				t.Fatal(err)
			}
			if loc, err := url.Parse(oss.ToString(done.Location)); err != nil || loc.Host != "dev-bucket.localhost:"+port || loc.Path != "/"+key+".loc" {
				t.Errorf("Complete Location %q", oss.ToString(done.Location))
			}

			// On a virtual host, /-/... is a key like any other, not the admin API.
			sdkPut(t, c, "-/stats", []byte("an object"))
			got, _ = readObject(t, c, DevBucket, "-/stats")
			mustEqual(t, "object -/stats", got, []byte("an object"))
		})
	}
}

func TestSDKVirtualHostInvalidBucketName(t *testing.T) {
	cl := startCloud(t, nil)
	_, port := vhostClient(t, cl)
	for _, host := range []string{"Bad_Bucket.localhost", "ab.localhost", "-dash.localhost"} {
		req, err := http.NewRequest(http.MethodGet, cl.OSSEndpoint+"/some/key", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = net.JoinHostPort(host, port)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		doc := sdkReadError(t, resp, http.StatusBadRequest, "InvalidBucketName")
		if doc.get("RequestId") != resp.Header.Get("x-oss-request-id") {
			t.Errorf("%s: RequestId %q, header %q", host, doc.get("RequestId"), resp.Header.Get("x-oss-request-id"))
		}
	}
	// A well-formed bucket that does not exist.
	req, _ := http.NewRequest(http.MethodGet, cl.OSSEndpoint+"/some/key", nil)
	req.Host = net.JoinHostPort("no-such-bucket.localhost", port)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sdkReadError(t, resp, http.StatusNotFound, "NoSuchBucket")
}
