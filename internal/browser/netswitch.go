package browser

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// netSwitch is a forward HTTP proxy on loopback that a browser sends all
// its requests to, so that a test can cut the browser's network where the
// engine has no way to emulate an outage (WebDriver classic). It forwards
// only to loopback ("localhost" and "*.localhost" included) and refuses
// every other destination, so a browser behind it cannot reach any other
// network either. Bodies stream both ways, unchanged (no compression
// added or removed).
type netSwitch struct {
	ln      net.Listener
	aliases []string // names that are reached at 127.0.0.1
	srv     *http.Server
	offline atomic.Bool

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func startNetSwitch(aliases []string) (*netSwitch, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &netSwitch{ln: ln, aliases: aliases, conns: map[net.Conn]struct{}{}}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		Proxy:               nil,
		DisableCompression:  true,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			a, err := s.loopbackAddr(addr)
			if err != nil {
				return nil, err
			}
			return dialer.DialContext(ctx, network, a)
		},
	}
	rp := &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.Out.URL = r.In.URL; r.Out.Host = r.In.Host },
		Transport:     tr,
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "netswitch: "+err.Error(), http.StatusBadGateway)
		},
	}
	s.srv = &http.Server{
		ReadHeaderTimeout: 30 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if s.offline.Load() {
				s.drop(w)
				return
			}
			if r.Method == http.MethodConnect {
				s.tunnel(w, r, dialer)
				return
			}
			if r.URL.Host == "" {
				http.Error(w, "netswitch: not a proxy request", http.StatusBadRequest)
				return
			}
			if _, err := s.loopbackAddr(hostPort(r.URL.Host, "80")); err != nil {
				http.Error(w, "netswitch: "+err.Error(), http.StatusForbidden)
				return
			}
			rp.ServeHTTP(w, r)
		}),
		ConnState: func(c net.Conn, st http.ConnState) {
			s.mu.Lock()
			defer s.mu.Unlock()
			switch st {
			case http.StateNew:
				s.conns[c] = struct{}{}
			case http.StateClosed, http.StateHijacked:
				delete(s.conns, c)
			}
		},
	}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *netSwitch) url() string { return "http://" + s.ln.Addr().String() }

// setOffline switches the network off (every connection in flight is cut,
// every new request fails as a dropped connection) or on again.
func (s *netSwitch) setOffline(off bool) {
	s.offline.Store(off)
	if !off {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// drop closes the request's connection without an answer, as a network
// that is gone would.
func (s *netSwitch) drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// tunnel serves CONNECT to a loopback address.
func (s *netSwitch) tunnel(w http.ResponseWriter, r *http.Request, d *net.Dialer) {
	addr, err := s.loopbackAddr(r.Host)
	if err != nil {
		http.Error(w, "netswitch: "+err.Error(), http.StatusForbidden)
		return
	}
	up, err := d.DialContext(r.Context(), "tcp", addr)
	if err != nil {
		http.Error(w, "netswitch: "+err.Error(), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		http.Error(w, "netswitch: cannot tunnel", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
	c, _, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	go func() { io.Copy(up, c); up.Close() }()
	go func() { io.Copy(c, up); c.Close() }()
}

func (s *netSwitch) close() {
	s.srv.Close()
	s.setOffline(true)
}

// loopbackAddr maps host:port to a loopback address to dial, or refuses a
// destination that is not loopback (or an alias of it).
func (s *netSwitch) loopbackAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") || slices.Contains(s.aliases, h) {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return addr, nil
	}
	return "", errors.New(host + " is not a loopback destination")
}

func hostPort(host, defPort string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	return net.JoinHostPort(host, defPort)
}
