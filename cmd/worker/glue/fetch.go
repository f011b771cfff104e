//go:build js && wasm

package glue

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"syscall/js"
)

// Fetch sends one outbound call (STS, OSS, webhook, JWKS) with the Workers
// fetch API, through the glue's fetch helper:
//
//	abort = fetch(method, url, headers, body, done)
//
// which calls done(status, headers, body, error) once: the answer with its
// body read whole (a Uint8Array, or null), or status 0 and why it failed.
// The answers here are small (STS, JWKS, webhook receivers; OSS HEAD and
// DELETE), and reading them in the glue is one crossing instead of one per
// chunk. The request's context aborts the call.
//
// It calls fetch directly rather than through an *http.Client: a call of
// (*http.Client).Do links net/http's native transport and TLS, about 0.4 MB
// of the 3 MB (gzip) a Worker may weigh on the free plan (see
// server.DoFunc). Redirects are not followed: neither STS nor OSS answers
// with one, and a followed redirect would carry a signed request elsewhere.
func (b *Boot) Fetch(req *http.Request) (*http.Response, error) {
	body := js.Null()
	if req.Body != nil && req.Body != http.NoBody {
		sent, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		if len(sent) > 0 || (req.Method != http.MethodGet && req.Method != http.MethodHead) {
			body = uint8Array(sent)
		}
	}
	type answer struct {
		resp *http.Response
		err  error
	}
	ch := make(chan answer, 1)
	var done js.Func
	done = js.FuncOf(func(_ js.Value, a []js.Value) any {
		defer done.Release()
		status, headers, data, msg := a[0].Int(), a[1].String(), a[2], a[3].String()
		if status == 0 {
			ch <- answer{err: errors.New(msg)}
			return nil
		}
		var got []byte
		if data.Type() == js.TypeObject {
			got = make([]byte, data.Length())
			js.CopyBytesToGo(got, data)
		}
		h := parseHeader(headers)
		cl, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
		if err != nil || req.Method != http.MethodHead {
			cl = int64(len(got))
		}
		ch <- answer{resp: &http.Response{
			Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), StatusCode: status,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: h, Body: io.NopCloser(bytes.NewReader(got)), ContentLength: cl, Request: req,
		}}
		return nil
	})
	abort := b.fetch.Invoke(req.Method, req.URL.String(), headerLines(req.Header), body, done)
	select {
	case a := <-ch:
		return a.resp, a.err
	case <-req.Context().Done():
		// done still comes (the abort rejects the fetch) and releases
		// itself; its answer is dropped into the buffered channel.
		abort.Invoke()
		return nil, req.Context().Err()
	}
}
