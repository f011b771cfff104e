package faults

import (
	"bytes"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

const testRequestID = "5F1D2C3B4A596877665544AA"

// testServer is a minimal OSS-like endpoint: the operation is the last path
// element, the handler answers 200 with the CRC64 of the request body and no
// body, as PutObject does, and a GET with ?size=N answers N bytes.
type testServer struct {
	URL     string
	inj     *Injector
	reached atomic.Int64 // requests that got past Apply
	handled chan string  // operations Apply finished (handled=true)
	read    atomic.Int64 // bytes the server read from its connections
	// answer, if set, answers instead of the default handler.
	answer func(w http.ResponseWriter)
}

func newTestServer(t *testing.T, inj *Injector) *testServer {
	t.Helper()
	ts := &testServer{inj: inj, handled: make(chan string, 1000)}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(ts.serve))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = srv.Listener.Close()
	srv.Listener = inj.Listener(&countingListener{Listener: ln, n: &ts.read})
	srv.Start()
	t.Cleanup(srv.Close)
	ts.URL = srv.URL
	return ts
}

func (ts *testServer) serve(w http.ResponseWriter, r *http.Request) {
	op := path.Base(r.URL.Path)
	w.Header().Set("x-oss-request-id", testRequestID)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w, handled := ts.inj.Apply(op, w, r, testRequestID)
	if handled {
		ts.handled <- op
		return
	}
	ts.reached.Add(1)
	if ts.answer != nil {
		ts.answer(w)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var answer []byte
	if r.Method == http.MethodGet {
		size, _ := strconv.Atoi(r.URL.Query().Get("size"))
		body = bytes.Repeat([]byte("g"), size)
		answer = body
	}
	w.Header().Set("x-oss-hash-crc64ecma", strconv.FormatUint(crc64(body), 10))
	w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(answer)
}

func crc64(b []byte) uint64 {
	h := oss.NewCRC64(0)
	_, _ = h.Write(b)
	return h.Sum64()
}

// newClient returns a client with its own connection pool.
func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func do(t *testing.T, c *http.Client, method, url string, body []byte) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// mustDo is do for requests that must get an answer.
func mustDo(t *testing.T, c *http.Client, method, url string, body []byte) (*http.Response, []byte) {
	t.Helper()
	resp, b, err := do(t, c, method, url, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp, b
}

func errorCode(t *testing.T, body []byte) (code, requestID string) {
	t.Helper()
	var doc struct {
		Code      string
		RequestId string
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("error body is not OSS XML: %v\n%s", err, body)
	}
	return doc.Code, doc.RequestId
}

type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: l.n}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// SetLinger keeps the reset path working through this test wrapper.
func (c *countingConn) SetLinger(sec int) error {
	return c.Conn.(*net.TCPConn).SetLinger(sec)
}
