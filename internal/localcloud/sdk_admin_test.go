package localcloud

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// TestAdminRefusesReboundHost: every admin endpoint of the local OSS refuses
// a request whose Host is not a loopback name, though it comes from
// loopback (a DNS-rebound page), and such a request changes nothing.
func TestAdminRefusesReboundHost(t *testing.T) {
	cl := startCloud(t, nil)
	sdkPut(t, rootClient(cl), "admin/x", []byte("x"))
	send := func(method, path, host, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, cl.OSSEndpoint+path, strings.NewReader(body))
		req.Host = host
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	cfg := `{"rules":[{"op":"PutObject","errorRate":1}]}`
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/-/stats", ""}, {"DELETE", "/-/stats", ""},
		{"GET", "/-/faults", ""}, {"PUT", "/-/faults", cfg}, {"POST", "/-/faults", cfg}, {"DELETE", "/-/faults", ""},
		{"GET", "/-/health", ""},
	} {
		for _, host := range []string{"rebound.example:" + portOf(cl.OSSEndpoint), "rebound.example"} {
			if got := send(tc.method, tc.path, host, tc.body); got != http.StatusForbidden {
				t.Errorf("%s %s with Host %s: %d, want 403", tc.method, tc.path, host, got)
			}
		}
	}
	if len(cl.Faults.Config().Rules) != 0 {
		t.Error("a rebound request configured faults")
	}
	if cl.OSS.Stats().Snapshot()["PutObject"].Requests != 1 {
		t.Error("a rebound request reset the stats")
	}
	// The same requests for a loopback name work.
	for _, host := range []string{"localhost:" + portOf(cl.OSSEndpoint), "127.0.0.1:" + portOf(cl.OSSEndpoint)} {
		if got := send("GET", "/-/stats", host, ""); got != http.StatusOK {
			t.Errorf("GET /-/stats with Host %s: %d", host, got)
		}
	}
}

func portOf(endpoint string) string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(endpoint, "http://"))
	return port
}

// TestSlowBodyTimesOut: a client that stops sending its body mid-way gets
// 400 RequestTimeout once the idle timeout passes, and nothing is stored; a
// body that keeps arriving slowly is not cut.
func TestSlowBodyTimesOut(t *testing.T) {
	cl := startCloud(t, func(c *Config) { c.BodyIdleTimeout = 300 * time.Millisecond })
	c := rootClient(cl)
	stalled := func(key string, total int, chunks []string, gap time.Duration) (int, string) {
		t.Helper()
		conn, err := net.Dial("tcp", strings.TrimPrefix(cl.OSSEndpoint, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// The client's own patience: far longer than the server's.
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		req := sdkRaw{method: http.MethodPut, bucket: DevBucket, key: key}.signed(t, cl, int64(total))
		fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\n", req.URL.RequestURI(), req.Host)
		req.Header.Write(conn)
		fmt.Fprintf(conn, "Content-Length: %d\r\n\r\n", total)
		for _, ch := range chunks {
			io.WriteString(conn, ch)
			time.Sleep(gap)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: no answer: %v", key, err)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := stalled("slow/stalled", 100, []string{"0123456789"}, 0)
	if status != http.StatusBadRequest || !strings.Contains(body, "<Code>RequestTimeout</Code>") {
		t.Fatalf("stalled body: %d %s", status, body)
	}
	if _, err := c.HeadObject(sdkCtx, &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr("slow/stalled")}); err == nil {
		t.Fatal("a stalled body was stored")
	}
	// Ten chunks 100 ms apart: slower in total than the timeout, never idle that long.
	chunks := strings.Split(strings.Repeat("x", 10), "")
	if status, body := stalled("slow/steady", 10, chunks, 100*time.Millisecond); status != http.StatusOK {
		t.Fatalf("steady slow body: %d %s", status, body)
	}
}
