package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// newRawContender serves a minimal loopback PUT endpoint and streams the
// source file to it in one request. With outDir the server writes the body
// to a new file there and fsyncs it before answering, as a store must;
// without, it discards the body.
func newRawContender(key, name, src string, size int64, outDir string) (*contender, error) {
	if outDir != "" {
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return nil, fmt.Errorf("raw output dir: %w", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("raw listener: %w", err)
	}
	srv := &http.Server{Handler: rawHandler(outDir), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	url := "http://" + ln.Addr().String() + "/"
	client := &http.Client{}
	return &contender{
		Key:  key,
		Name: name,
		run: func(ctx context.Context, run int) (time.Duration, error) {
			f, err := os.Open(src)
			if err != nil {
				return 0, fmt.Errorf("open source: %w", err)
			}
			defer f.Close()
			req, err := http.NewRequestWithContext(ctx, http.MethodPut, url+"run-"+strconv.Itoa(run), f)
			if err != nil {
				return 0, err
			}
			req.ContentLength = size
			began := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				return 0, fmt.Errorf("put: %w", err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			took := time.Since(began)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Received") != strconv.FormatInt(size, 10) {
				return 0, fmt.Errorf("put: %s, %s bytes received of %d", resp.Status, resp.Header.Get("X-Received"), size)
			}
			if outDir != "" {
				// Outside the timed region: the next run starts from the same
				// free space.
				if err := os.Remove(filepath.Join(outDir, "run-"+strconv.Itoa(run))); err != nil {
					return 0, fmt.Errorf("remove output: %w", err)
				}
			}
			return took, nil
		},
		close: func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(ctx)
		},
	}, nil
}

func rawHandler(outDir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut {
			http.Error(w, "PUT only", http.StatusMethodNotAllowed)
			return
		}
		n, err := receive(r.Body, outDir, filepath.Base(r.URL.Path))
		w.Header().Set("X-Received", strconv.FormatInt(n, 10))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// receive stores body as outDir/name, durably, or discards it when outDir
// is empty, and returns the bytes read.
func receive(body io.Reader, outDir, name string) (n int64, err error) {
	if outDir == "" {
		return io.Copy(io.Discard, body)
	}
	f, err := os.Create(filepath.Join(outDir, name))
	if err != nil {
		return 0, err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	if n, err = io.Copy(f, body); err != nil {
		return n, err
	}
	return n, f.Sync()
}
