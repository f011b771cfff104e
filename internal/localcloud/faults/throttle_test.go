package faults

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"testing"
	"time"
)

const (
	transferSize = 2 << 20
	limit        = 1 << 20 // bytes per second: 2 MiB take 2 s
	// A loose lower bound: half the theoretical time. This checks that the
	// limit works, not how precisely.
	minElapsed = time.Second
)

func TestBandwidthLimitsUpload(t *testing.T) {
	t.Parallel()
	inj := New(Config{BandwidthBytesPerSec: limit})
	ts := newTestServer(t, inj)
	c := newClient(t)

	start := time.Now()
	resp, _ := mustDo(t, c, http.MethodPut, ts.URL+"/bucket/UploadPart", make([]byte, transferSize))
	elapsed := time.Since(start)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if elapsed < minElapsed {
		t.Errorf("2 MiB upload at 1 MiB/s took %v, want at least %v", elapsed, minElapsed)
	}
}

// The download starts on a connection opened while unlimited, so it also
// shows that a change made with Set reaches open connections.
func TestBandwidthChangeAppliesToOpenConnections(t *testing.T) {
	t.Parallel()
	inj := New(Config{})
	ts := newTestServer(t, inj)
	c := newClient(t)
	url := ts.URL + "/bucket/GetObject?size=" + strconv.Itoa(transferSize)

	get := func() (reused bool, elapsed time.Duration) {
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, url, nil)
		start := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != transferSize {
			t.Fatalf("read %d bytes: %v", n, err)
		}
		return reused, time.Since(start)
	}

	get()
	if err := inj.Set(Config{BandwidthBytesPerSec: limit}); err != nil {
		t.Fatal(err)
	}
	reused, elapsed := get()
	if !reused {
		t.Fatal("the second download did not reuse the connection; the test proves nothing")
	}
	if elapsed < minElapsed {
		t.Errorf("2 MiB download at 1 MiB/s took %v, want at least %v", elapsed, minElapsed)
	}
}

// TestLinkLimitIsShared: two uploads on two connections share one link of
// 1 MiB/s, so 2 × 1 MiB take about 2 s; with a per-connection limit of
// 1 MiB/s they would take 1 s.
func TestLinkLimitIsShared(t *testing.T) {
	t.Parallel()
	inj := New(Config{LinkBytesPerSec: limit})
	ts := newTestServer(t, inj)
	start := time.Now()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A client each, so the uploads take two connections.
			resp, _, err := do(t, newClient(t), http.MethodPut, ts.URL+"/bucket/UploadPart", make([]byte, transferSize/2))
			if err != nil || resp.StatusCode != 200 {
				t.Errorf("upload: %v %v", resp, err)
			}
		}()
	}
	wg.Wait()
	if elapsed := time.Since(start); elapsed < 3*minElapsed/2 {
		t.Errorf("2 × 1 MiB on two connections over a 1 MiB/s link took %v, want at least %v", elapsed, 3*minElapsed/2)
	}
}

func TestBurstFor(t *testing.T) {
	for _, tc := range []struct {
		bps  int64
		want int
	}{{1, 1}, {100, 100}, {4096, 4096}, {10000, 4096}, {1 << 20, 64 << 10}, {1 << 30, maxBurst}} {
		if got := burstFor(tc.bps); got != tc.want {
			t.Errorf("burstFor(%d) = %d, want %d", tc.bps, got, tc.want)
		}
	}
}
