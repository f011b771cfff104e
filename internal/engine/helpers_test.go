//go:build !js

// The integration tests run the backend and its local cloud in process,
// which exist natively only.

package engine

import (
	"context"
	"crypto/sha256"
	"hash/crc64"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/localcloud"
	"github.com/ossup/ossup/internal/localcloud/faults"
	"github.com/ossup/ossup/server"
	"github.com/ossup/ossup/server/loopback"
)

const testToken = "engine-test-token-0123456789abcdef"

// testEnv is a running backend in dev mode with its local cloud, using
// token authentication.
type testEnv struct {
	t     testing.TB
	srv   *server.Server
	base  string
	cl    *localcloud.Cloud
	root  *oss.Client
	trans *HTTPTransport
}

// startEnv runs the backend on free loopback ports; extra overrides the
// configuration (OSSUP_* variables).
func startEnv(t testing.TB, extra map[string]string) *testEnv {
	t.Helper()
	web := t.TempDir()
	if err := os.WriteFile(filepath.Join(web, "index.html"), []byte("<h1>engine</h1>"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := map[string]string{
		"OSSUP_DATA_DIR": t.TempDir(), "OSSUP_WEB_DIR": web,
		"OSSUP_AUTH": "token", "OSSUP_AUTH_TOKENS": testToken + "=tester",
		"OSSUP_RATE_LIMIT_IP": "100000", "OSSUP_RATE_LIMIT_USER": "100000",
		"OSSUP_PART_SIZE": "1048576", "OSSUP_CONCURRENCY": "4",
	}
	for k, v := range extra {
		e[k] = v
	}
	srv, err := loopback.Start(e)
	if err != nil {
		t.Fatal(err)
	}
	trans := &HTTPTransport{Client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	t.Cleanup(func() {
		trans.Client.CloseIdleConnections()
		srv.Close()
	})
	cl := srv.Cloud()
	root := oss.NewClient(oss.LoadDefaultConfig().
		WithEndpoint(cl.OSSEndpoint).WithRegion(cl.Config.Region).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cl.Config.AccessKeyID, cl.Config.AccessKeySecret)))
	return &testEnv{t: t, srv: srv.Server, base: srv.Base, cl: cl, root: root, trans: trans}
}

// backend is the API client with the test user's token.
func (e *testEnv) backend() *Backend {
	return &Backend{BaseURL: e.base, Header: Header{"Authorization": {"Bearer " + testToken}}}
}

// fastOptions keep retries quick in tests.
func fastOptions(store checkpoint.Store) Options {
	return Options{
		Store: store, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		ProgressInterval: 20 * time.Millisecond,
	}
}

func (e *testEnv) engine(o Options) *Engine { return New(e.trans, e.backend(), o) }

// setFaults replaces the local OSS's fault injection.
func (e *testEnv) setFaults(cfg faults.Config) {
	e.t.Helper()
	if err := e.cl.Faults.Set(cfg); err != nil {
		e.t.Fatal(err)
	}
}

// uploadPartBytes is the request body bytes UploadPart has received.
func (e *testEnv) uploadPartBytes() int64 { return e.cl.OSS.Stats().Snapshot()["UploadPart"].BytesIn }

func (e *testEnv) opRequests(op string) int64 { return e.cl.OSS.Stats().Snapshot()[op].Requests }

// checkObject reads key back with the account's keys and compares it with
// data by SHA-256 and CRC-64, and the result's CRC with the data's.
func (e *testEnv) checkObject(res *Result, data []byte) {
	e.t.Helper()
	got, err := e.root.GetObject(context.Background(), &oss.GetObjectRequest{Bucket: oss.Ptr(e.cl.Config.Bucket), Key: oss.Ptr(res.Key)})
	if err != nil {
		e.t.Fatalf("get %s: %v", res.Key, err)
	}
	defer got.Body.Close()
	h := sha256.New()
	c := crc64.New(crc64.MakeTable(crc64.ECMA))
	n, err := io.Copy(io.MultiWriter(h, c), got.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	want := sha256.Sum256(data)
	wantCRC := crc64.Checksum(data, crc64.MakeTable(crc64.ECMA))
	if n != int64(len(data)) || string(h.Sum(nil)) != string(want[:]) {
		e.t.Fatalf("object %s: %d bytes, SHA-256 %x; want %d bytes, %x", res.Key, n, h.Sum(nil), len(data), want)
	}
	if c.Sum64() != wantCRC || res.CRC64 != wantCRC || res.Size != int64(len(data)) {
		e.t.Fatalf("object %s: CRC-64 read %d, result %d (size %d); want %d (size %d)", res.Key, c.Sum64(), res.CRC64, res.Size, wantCRC, len(data))
	}
	if res.Bucket != e.cl.Config.Bucket || res.ETag == "" {
		e.t.Fatalf("result %+v: wrong bucket or no ETag", res)
	}
}

// multipartUploads lists the multipart uploads left in the bucket.
func (e *testEnv) multipartUploads() []string {
	e.t.Helper()
	res, err := e.root.ListMultipartUploads(context.Background(), &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(e.cl.Config.Bucket)})
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for _, u := range res.Uploads {
		ids = append(ids, oss.ToString(u.UploadId))
	}
	return ids
}

// writeFile creates a file of size random bytes named name.
func writeFile(t testing.TB, name string, size int, seed uint64) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, 7))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, data
}

func openSource(t testing.TB, path string) *FileSource {
	t.Helper()
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// wait waits for u with a generous test deadline.
func wait(t testing.TB, u *Upload) (*Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := u.Wait(ctx)
	if ctx.Err() != nil {
		t.Fatalf("upload did not finish: %v (progress %+v)", err, u.Progress())
	}
	return res, err
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder collects an upload's events.
type recorder struct {
	mu     sync.Mutex
	events []Event
	done   chan struct{}
}

func record(u *Upload) *recorder {
	r := &recorder{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for ev := range u.Events() {
			r.mu.Lock()
			r.events = append(r.events, ev)
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *recorder) all() []Event {
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// transportFunc adapts a function to Transport, for wrappers.
type transportFunc func(ctx context.Context, r *Request) (*Response, error)

func (f transportFunc) Do(ctx context.Context, r *Request) (*Response, error) { return f(ctx, r) }

// waitOnlineWhen is a WaitOnline that counts its calls in waits and blocks
// until online says the network is back, as navigator.onLine would.
func waitOnlineWhen(online func() bool, waits *atomic.Int64) func(context.Context) error {
	return func(ctx context.Context) error {
		waits.Add(1)
		for !online() {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
		return nil
	}
}

// start is Start for tests that expect it to succeed.
func (e *Engine) start(ctx context.Context, src Source) *Upload {
	u, err := e.Start(ctx, src)
	if err != nil {
		panic(err)
	}
	return u
}

// Pending lists store's pending uploads as an Engine over it would.
func Pending(ctx context.Context, store checkpoint.Store) ([]PendingUpload, error) {
	return New(nil, &Backend{}, Options{Store: store}).Pending(ctx)
}
