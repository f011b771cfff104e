//go:build !js

package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossup/ossup/internal/localcloud"
	"github.com/ossup/ossup/internal/uploadapi"
)

// testBackend is a running backend (dev mode: with its local cloud).
type testBackend struct {
	srv  *Server
	base string
}

// startBackend runs the backend on free loopback ports with env on top of a
// dev-mode base configuration.
func startBackend(t testing.TB, extra map[string]string) *testBackend {
	t.Helper()
	web := t.TempDir()
	if err := os.WriteFile(filepath.Join(web, "index.html"), []byte("<h1>demo</h1>"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := map[string]string{
		"OSSUP_ADDR": "127.0.0.1:0", "OSSUP_LOCAL_OSS_ADDR": "127.0.0.1:0", "OSSUP_LOCAL_STS_ADDR": "127.0.0.1:0",
		"OSSUP_DATA_DIR": t.TempDir(), "OSSUP_WEB_DIR": web, "OSSUP_JANITOR_INTERVAL": "0",
	}
	for k, v := range extra {
		e[k] = v
	}
	cfg, err := LoadConfig(env(e))
	if err != nil {
		t.Fatal(err)
	}
	return serveBackend(t, cfg)
}

func serveBackend(t testing.TB, cfg Config) *testBackend {
	t.Helper()
	srv, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return serveExisting(t, srv)
}

// serveExisting serves srv on its configured address until the test ends.
func serveExisting(t testing.TB, srv *Server) *testBackend {
	t.Helper()
	ln, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	return &testBackend{srv: srv, base: "http://" + ln.Addr().String()}
}

// apiClient calls the API as one user: a cookie jar (dev identity) and an
// optional bearer token.
type apiClient struct {
	t     testing.TB
	base  string
	http  *http.Client
	token string
}

func (b *testBackend) client(t testing.TB, token string) *apiClient {
	jar, _ := cookiejar.New(nil)
	return &apiClient{t: t, base: b.base, http: &http.Client{Jar: jar}, token: token}
}

type apiResp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r apiResp) code() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// post sends body (a value marshalled to JSON, or raw []byte) to path.
func (c *apiClient) post(path string, body any, hdr ...string) apiResp {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case []byte:
		raw = b
	default:
		raw, _ = json.Marshal(b)
	}
	req, err := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(raw))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apiResp{resp.StatusCode, resp.Header, b}
}

// postRefused sends a body the server is expected to refuse before reading
// it (413), over a raw connection whose answer is read while the body is
// still being written: a server that answers and closes makes the write
// fail (broken pipe), which net/http's client may report instead of the
// answer when it does not arrive within its short grace (seen under load).
func (c *apiClient) postRefused(path string, raw []byte) apiResp {
	c.t.Helper()
	u, err := url.Parse(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		c.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	var head strings.Builder
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", u.RequestURI(), u.Host, len(raw))
	if c.token != "" {
		fmt.Fprintf(&head, "Authorization: Bearer %s\r\n", c.token)
	}
	head.WriteString("Connection: close\r\n\r\n")
	go func() {
		_, _ = conn.Write([]byte(head.String()))
		_, _ = conn.Write(raw) // may fail once the server answered: that is the point
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		c.t.Fatalf("no answer to the refused body: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apiResp{resp.StatusCode, resp.Header, b}
}

func (c *apiClient) create(name string, size int64) (uploadapi.Session, apiResp) {
	c.t.Helper()
	r := c.post("/api/v1/uploads", map[string]any{"name": name, "size": size, "type": "application/octet-stream", "lastModified": 1700000000000})
	var s uploadapi.Session
	if r.Status == http.StatusCreated {
		if err := json.Unmarshal(r.Body, &s); err != nil {
			c.t.Fatal(err)
		}
	}
	return s, r
}

func (c *apiClient) mustCreate(name string, size int64) uploadapi.Session {
	c.t.Helper()
	s, r := c.create(name, size)
	if r.Status != http.StatusCreated {
		c.t.Fatalf("create %q: %d %s", name, r.Status, r.Body)
	}
	return s
}

// ossFor is an OSS SDK client with a session's credentials, addressing the
// endpoint the session names.
func ossFor(s uploadapi.Session) *oss.Client {
	return oss.NewClient(oss.LoadDefaultConfig().
		WithEndpoint(s.Endpoint).WithRegion(s.Region).WithUsePathStyle(s.PathStyle).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(s.Credentials.AccessKeyID, s.Credentials.AccessKeySecret, s.Credentials.SecurityToken)))
}

// rootOSS is an OSS client with the local cloud's account keys.
func rootOSS(cl *localcloud.Cloud) *oss.Client {
	return oss.NewClient(oss.LoadDefaultConfig().
		WithEndpoint(cl.OSSEndpoint).WithRegion(cl.Config.Region).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cl.Config.AccessKeyID, cl.Config.AccessKeySecret)))
}

// protectBucket gives cl's bucket the overwrite rule the backend requires
// for the default key template (writeonce.go), as an operator would: the
// document the README gives, read from the README itself (the local
// cloud's role is the README's example).
func protectBucket(t testing.TB, cl *localcloud.Cloud) {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```xml\n(<OverwriteConfiguration>.*?</OverwriteConfiguration>)\n```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no overwrite configuration")
	}
	if want := WriteOnceConfigXML("uploads/", cl.Config.RoleARN); !bytes.Equal(bytes.TrimSpace(m[1]), want) {
		t.Fatalf("the README's overwrite configuration\n%s\nis not the backend's\n%s", m[1], want)
	}
	if _, err := rootOSS(cl).InvokeOperation(context.Background(), &oss.OperationInput{
		OpName: "PutBucketOverwriteConfig", Method: http.MethodPut, Bucket: oss.Ptr(cl.Config.Bucket),
		Parameters: map[string]string{"overwriteConfig": ""}, Body: bytes.NewReader(m[1]),
		Headers: map[string]string{"Content-Type": "application/xml"},
	}); err != nil {
		t.Fatalf("put the bucket's overwrite rule: %v", err)
	}
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func putReq(bucket, key, body string) *oss.PutObjectRequest {
	return &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key), Body: strings.NewReader(body)}
}
