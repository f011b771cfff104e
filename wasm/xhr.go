//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall/js"

	"github.com/ossup/ossup/internal/engine"
)

// xhrTransport is the engine's Transport in the browser. It uses
// XMLHttpRequest rather than fetch because XHR reports upload progress
// (fetch cannot, over HTTP/1.1) and sends a Blob body streamed from disk;
// xhr.abort() cancels a request for real when its context ends.
type xhrTransport struct{}

// progressEvery is the least time, in ms, between two upload progress
// calls into the engine (which reports progress every 250 ms).
const progressEvery = 100

// maxResponse bounds the responses the engine reads (XML and JSON).
const maxResponse = 4 << 20

var errNetwork = errors.New("network error (connection failed, or the response was refused by CORS)")

func (t *xhrTransport) Do(ctx context.Context, r *engine.Request) (resp *engine.Response, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A JS exception (open refusing a URL, setRequestHeader a value, send
	// a body) fails this request, never the engine: see ErrJS.
	var funcs []js.Func
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, jsPanicError("XMLHttpRequest", r)
			for _, f := range funcs {
				f.Release()
			}
		}
	}()
	if b, ok := r.Body.(*blobBody); ok && b.err != nil {
		return nil, b.err
	}
	xhr := js.Global().Get("XMLHttpRequest").New()
	xhr.Call("open", r.Method, r.URL)
	xhr.Set("responseType", "arraybuffer")
	// Each request says whether it carries cookies; nothing is inferred
	// from its body or destination.
	xhr.Set("withCredentials", r.Credentials)
	for k, vs := range r.Header {
		for _, v := range vs {
			xhr.Call("setRequestHeader", k, v)
		}
	}
	type result struct {
		resp *engine.Response
		err  error
	}
	done := make(chan result, 1)
	on := func(target js.Value, event string, f func(js.Value)) {
		fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
			// A panic here would end the Go program: it fails the
			// request instead (non-blocking: done may be settled).
			defer func() {
				if r := recover(); r != nil {
					select {
					case done <- result{err: jsPanicError("XMLHttpRequest "+event, r)}:
					default:
					}
				}
			}()
			f(arg0(args))
			return nil
		})
		funcs = append(funcs, fn)
		target.Call("addEventListener", event, fn)
	}
	on(xhr, "load", func(js.Value) {
		resp := &engine.Response{Status: xhr.Get("status").Int(), Header: parseHeaders(xhr.Call("getAllResponseHeaders").String())}
		if body := xhr.Get("response"); !body.IsNull() && !body.IsUndefined() {
			if n := body.Get("byteLength").Int(); n > maxResponse {
				done <- result{err: errors.New("response body too large")}
				return
			}
			resp.Body = bytesFromJS(body)
		}
		done <- result{resp: resp}
	})
	on(xhr, "error", func(js.Value) { done <- result{err: errNetwork} })
	on(xhr, "timeout", func(js.Value) { done <- result{err: errNetwork} })
	on(xhr, "abort", func(js.Value) { done <- result{err: context.Canceled} })
	if r.OnProgress != nil {
		progress := r.OnProgress
		// WebKit fires upload progress far more often than the engine
		// reports it, and every event was a call into Go: the worker
		// glue's ossupThrottledProgress passes at most one every
		// progressEvery (WebKit at 512 MiB: ours 20.9 -> 14.6 s of browser
		// CPU per GiB, worker thread 7.3 -> 2.6; bench/browser).
		if th := js.Global().Get("ossupThrottledProgress"); th.Type() == js.TypeFunction {
			fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
				progress(int64(arg0(args).Float()))
				return nil
			})
			funcs = append(funcs, fn)
			if _, err := call(js.Global(), "ossupThrottledProgress", xhr.Get("upload"), fn, progressEvery); err != nil {
				for _, f := range funcs {
					f.Release()
				}
				return nil, err
			}
		} else {
			on(xhr.Get("upload"), "progress", func(e js.Value) { progress(int64(e.Get("loaded").Float())) })
		}
	}

	var body any = js.Null()
	var kept *keptBody
	switch b := r.Body.(type) {
	case nil:
		if r.Bytes != nil {
			body = bytesToJS(r.Bytes)
		}
	case *blobBody:
		body = b.blob
	case *keptBody:
		if b.released.Load() {
			return nil, errors.New("xhr transport: the part's kept bytes were released before sending")
		}
		body, kept = b.ab, b
	default:
		return nil, fmt.Errorf("xhr transport: cannot send a %T body", r.Body)
	}
	xhr.Call("send", body)
	if kept != nil {
		// send() took its own copy (XHR extracts a BufferSource body by
		// copying it): the buffer is free to go now, not when the part's
		// request ends.
		kept.Release()
	}

	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		if _, err := call(xhr, "abort"); err != nil {
			res = result{err: err}
			break
		}
		<-done // the abort event, or a load that won the race
		res = result{err: ctx.Err()}
	}
	for _, f := range funcs {
		f.Release()
	}
	return res.resp, res.err
}

// parseHeaders reads getAllResponseHeaders(): only the headers CORS exposes
// appear, which is how the engine notices a missing ExposeHeader rule.
func parseHeaders(raw string) engine.Header {
	h := engine.Header{}
	for _, line := range strings.Split(raw, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	return h
}
