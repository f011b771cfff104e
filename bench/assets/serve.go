package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ossup/ossup/server"
)

// backend serves the backend's handler through a recorder of what each
// asset response carried, so the report states what the browser was
// actually sent, not what it could have been.
type backend struct {
	base   string
	assets *server.Assets
	stop   func()

	mu     sync.Mutex
	served map[string][]sent // by path
}

// sent is one response: its Content-Encoding and body bytes on the wire.
type sent struct {
	encoding string
	bytes    int64
}

func serve(srv *server.Server) (*backend, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &backend{base: "http://" + ln.Addr().String(), assets: srv.Assets(), served: map[string][]sent{}}
	h := srv.Handler()
	hs := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cw := &countingWriter{ResponseWriter: w}
			h.ServeHTTP(cw, r)
			b.mu.Lock()
			b.served[r.URL.Path] = append(b.served[r.URL.Path], sent{cw.Header().Get("Content-Encoding"), cw.n})
			b.mu.Unlock()
		}),
	}
	done := make(chan struct{})
	go func() { _ = hs.Serve(ln); close(done) }()
	b.stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		<-done
	}
	return b, nil
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// checkServed fetches each asset by its hashed URL, as the page does,
// accepting brotli, and records the encoding and size the backend sent.
func (b *backend) checkServed(sizes []fileSize) error {
	// DisableCompression keeps Go from adding its own Accept-Encoding
	// and decoding the body: the bytes counted are the bytes sent.
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Second}
	defer c.CloseIdleConnections()
	for i := range sizes {
		s := &sizes[i]
		u, ok := b.assets.URL(s.name)
		if !ok {
			return fmt.Errorf("the backend does not serve %s", s.name)
		}
		req, err := http.NewRequest(http.MethodGet, b.base+u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept-Encoding", "br, gzip")
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		s.url, s.served, s.servedEncoding = u, n, resp.Header.Get("Content-Encoding")
	}
	return nil
}

// engineServed summarises the engine.wasm responses to the page loads,
// e.g. "5 × br, 1,234,567 B".
func (b *backend) engineServed() string {
	u, _ := b.assets.URL("engine.wasm")
	b.mu.Lock()
	defer b.mu.Unlock()
	count := map[string]int{}
	var last int64
	// The first response is checkServed's own request.
	loads := b.served[u]
	if len(loads) > 0 {
		loads = loads[1:]
	}
	for _, s := range loads {
		enc := s.encoding
		if enc == "" {
			enc = "identity"
		}
		count[enc]++
		last = s.bytes
	}
	var parts []string
	for enc, n := range count {
		parts = append(parts, fmt.Sprintf("%d × %s", n, enc))
	}
	if len(parts) == 0 {
		return "not requested by the page"
	}
	return strings.Join(parts, ", ") + ", " + bytesStr(last) + " each"
}
