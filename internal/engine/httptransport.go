//go:build !js

// Native only: in the browser build this file would link net/http, which
// the engine avoids (see Header); the browser sends by XHR (wasm/xhr.go).

package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ReaderBody is a Body that HTTPTransport can stream: NewReader returns a
// fresh reader over the whole body each time it is called.
type ReaderBody interface {
	Body
	NewReader() io.Reader
}

// DefaultMaxResponse caps the response bodies HTTPTransport reads: the
// largest legitimate one is a ListParts page of 1000 parts (~250 KB).
const DefaultMaxResponse = 4 << 20

// HTTPTransport is a Transport over net/http, for native use. Bodies must
// implement ReaderBody (FileSource's bodies do).
type HTTPTransport struct {
	// Client is the HTTP client; nil means http.DefaultClient.
	Client *http.Client
	// MaxResponse caps response bodies (default DefaultMaxResponse).
	MaxResponse int64
}

// Do sends r, streaming its body, and reads the (small) response.
func (t *HTTPTransport) Do(ctx context.Context, r *Request) (*Response, error) {
	var newBody func() io.Reader
	switch {
	case r.Body != nil:
		rb, ok := r.Body.(ReaderBody)
		if !ok {
			return nil, fmt.Errorf("engine: HTTPTransport cannot send a %T body", r.Body)
		}
		newBody = rb.NewReader
	case r.Bytes != nil:
		newBody = func() io.Reader { return bytes.NewReader(r.Bytes) }
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	for k, vs := range r.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if n := r.bodyLen(); newBody != nil && n > 0 {
		req.ContentLength = n
		// GetBody lets net/http replay the body on a fresh connection when
		// a kept-alive one turns out dead; progress then restarts from 0.
		req.GetBody = func() (io.ReadCloser, error) {
			return io.NopCloser(&countingReader{r: newBody(), onProgress: r.OnProgress}), nil
		}
		req.Body, _ = req.GetBody()
	} else {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	c := t.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	limit := t.MaxResponse
	if limit <= 0 {
		limit = DefaultMaxResponse
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, errors.New("engine: response body larger than the transport's limit")
	}
	return &Response{Status: resp.StatusCode, Header: Header(resp.Header), Body: body}, nil
}

// countingReader reports the bytes read from it, i.e. handed to the
// connection.
type countingReader struct {
	r          io.Reader
	n          int64
	onProgress func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n += int64(n)
		if c.onProgress != nil {
			c.onProgress(c.n)
		}
	}
	return n, err
}
