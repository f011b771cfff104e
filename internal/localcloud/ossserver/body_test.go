package ossserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"

	"github.com/ossup/ossup/internal/localcloud/ossstore"
)

// brokenBody yields some bytes, then fails as a reset connection does.
type brokenBody struct{ left int }

func (b *brokenBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, errors.New("read tcp 127.0.0.1:9000: connection reset by peer")
	}
	n := min(len(p), b.left)
	b.left -= n
	return n, nil
}

func (b *brokenBody) Close() error { return nil }

// TestBodyCutMidwayIsTheClientsFault: a client that goes away mid-body gets
// IncompleteBody (400), not InternalError, and nothing is stored.
func TestBodyCutMidwayIsTheClientsFault(t *testing.T) {
	store, err := ossstore.Open(t.TempDir(), ossstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.CreateBucket("b-bucket"); err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Store: store, Keys: mapKeyring{fuzzKeyID: fuzzSecret}, Region: "cn-hangzhou", AccountID: "1"})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPut, "http://127.0.0.1/b-bucket/cut.bin", nil)
	req.Body = &brokenBody{left: 1000}
	req.ContentLength = 5000
	bucket, key := "b-bucket", "cut.bin"
	sc := &signer.SigningContext{Product: ptr("oss"), Region: ptr("cn-hangzhou"), Bucket: &bucket, Key: &key, Request: req,
		Credentials: &credentials.Credentials{AccessKeyID: fuzzKeyID, AccessKeySecret: fuzzSecret}}
	if err := (&signer.SignerV4{}).Sign(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusBadRequest || !strings.Contains(string(body), "<Code>IncompleteBody</Code>") {
		t.Fatalf("cut body: %d %s", rec.Code, body)
	}
	if _, err := store.HeadObject("b-bucket", "cut.bin"); err == nil {
		t.Fatal("a cut body was stored")
	}
}
