package localcloud

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"hash/crc64"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"
)

// startCloud runs a local cloud on free loopback ports in a temporary dir.
func startCloud(t testing.TB, mod func(*Config)) *Cloud {
	t.Helper()
	cfg := Config{DataDir: t.TempDir(), OSSAddr: "127.0.0.1:0", STSAddr: "127.0.0.1:0"}
	if mod != nil {
		mod(&cfg)
	}
	cl, err := Start(cfg)
	if err != nil {
		t.Fatalf("start local cloud: %v", err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

type clientOpt func(*oss.Config)

func withV1() clientOpt {
	return func(c *oss.Config) { c.WithSignatureVersion(oss.SignatureVersionV1) }
}

// rootClient is an OSS SDK client with the account's keys.
func rootClient(cl *Cloud, opts ...clientOpt) *oss.Client {
	return sdkClient(cl, cl.Config.AccessKeyID, cl.Config.AccessKeySecret, "", opts...)
}

func sdkClient(cl *Cloud, ak, sk, token string, opts ...clientOpt) *oss.Client {
	cfg := oss.LoadDefaultConfig().
		WithEndpoint(cl.OSSEndpoint).
		WithRegion(cl.Config.Region).
		WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(ak, sk, token))
	for _, o := range opts {
		o(cfg)
	}
	return oss.NewClient(cfg)
}

// assumeRole obtains temporary credentials from the local STS with the
// official STS SDK.
func assumeRole(t testing.TB, cl *Cloud, policy string, seconds int64) *sts.AssumeRoleResponseBodyCredentials {
	t.Helper()
	c, err := sts.NewClient(&openapi.Config{
		AccessKeyId:     dara.String(cl.Config.AccessKeyID),
		AccessKeySecret: dara.String(cl.Config.AccessKeySecret),
		Endpoint:        dara.String(cl.STSHost),
		Protocol:        dara.String("http"),
	})
	if err != nil {
		t.Fatal(err)
	}
	req := &sts.AssumeRoleRequest{
		RoleArn:         dara.String(cl.Config.RoleARN),
		RoleSessionName: dara.String("test-user-42"),
		DurationSeconds: dara.Int64(seconds),
	}
	if policy != "" {
		req.Policy = dara.String(policy)
	}
	resp, err := c.AssumeRole(req)
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	return resp.Body.Credentials
}

func stsClient(cl *Cloud, c *sts.AssumeRoleResponseBodyCredentials, opts ...clientOpt) *oss.Client {
	return sdkClient(cl, *c.AccessKeyId, *c.AccessKeySecret, *c.SecurityToken, opts...)
}

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func crcOf(b []byte) uint64 { return crc64.Checksum(b, crc64.MakeTable(crc64.ECMA)) }

func sha(b []byte) [32]byte { return sha256.Sum256(b) }

// readObject reads a whole object back with the SDK (which checks the CRC64
// of whole-object reads itself).
func readObject(t testing.TB, c *oss.Client, bucket, key string) ([]byte, *oss.GetObjectResult) {
	t.Helper()
	res, err := c.GetObject(context.Background(), &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b, res
}

// serviceError asserts err is an OSS service error with the status and code.
func serviceError(t testing.TB, err error, status int, code string) *oss.ServiceError {
	t.Helper()
	var se *oss.ServiceError
	if err == nil {
		t.Fatalf("want %d %s, got success", status, code)
	}
	if !errors.As(err, &se) {
		t.Fatalf("want %d %s, got %v", status, code, err)
	}
	if se.StatusCode != status || se.Code != code {
		t.Fatalf("want %d %s, got %d %s: %s", status, code, se.StatusCode, se.Code, se.Message)
	}
	if se.RequestID == "" {
		t.Errorf("error %s without a request id", code)
	}
	return se
}

// localhostDialer sends every connection to the loopback address, so
// virtual-hosted names like dev-bucket.localhost reach the local OSS.
func localhostDialer(port string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
	}
}

func mustEqual(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes differ from the %d expected", what, len(got), len(want))
	}
}

var _ = http.StatusOK
