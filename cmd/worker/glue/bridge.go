//go:build js && wasm

package glue

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"syscall/js"
)

// The glue and the Go program exchange a request or a response in a handful
// of values: headers as one string of lines (name, value, name, value...;
// a header value holds no newline), bodies as one Uint8Array. Each value
// crossing between JavaScript and Go costs a call and a reference that the
// Go garbage collector finalizes; syumai/workers' per-header and per-chunk
// crossings were most of a request's CPU time in the profile (bench/worker
// -profile).

// serve handles one request the glue hands over:
//
//	serve(method, url, headers, body, done)
//
// body is a Uint8Array or null; done(status, headers, body) receives the
// response, its body a Uint8Array or null. It returns at once: the request
// runs on its own goroutine.
func serve(args []js.Value, app func() http.Handler) {
	if len(args) != 5 {
		panic(fmt.Sprintf("glue: serve takes 5 arguments, got %d", len(args)))
	}
	method, rawURL, headers, body, done := args[0].String(), args[1].String(), args[2].String(), args[3], args[4]
	var b []byte
	if body.Type() == js.TypeObject {
		b = make([]byte, body.Length())
		js.CopyBytesToGo(b, body)
	}
	run(func() {
		rec := &recorder{header: http.Header{}}
		defer func() {
			// Echo recovers the handlers' panics; this is the bridge's own
			// last line, so that no request goes unanswered.
			if p := recover(); p != nil {
				slog.Error("glue: panic serving a request", "panic", fmt.Sprint(p))
				rec = &recorder{header: http.Header{"Content-Type": {"application/json"}}}
				rec.WriteHeader(http.StatusInternalServerError)
				rec.body.WriteString(`{"error":{"code":"internal","message":"internal error"}}` + "\n")
			}
			rec.respond(done, method)
		}()
		req, err := request(method, rawURL, headers, b)
		if err != nil {
			http.Error(rec, err.Error(), http.StatusBadRequest)
			return
		}
		app().ServeHTTP(rec, req)
	})
}

// idle hands a request to a goroutine that served one before and waits for
// the next: its stack has grown to what Echo's middleware chain needs,
// where a new goroutine's would grow by copying, again and again (5 % of a
// create-session's CPU in the profile).
var idle = make(chan func())

func run(f func()) {
	select {
	case idle <- f:
	default:
		go func() {
			for {
				f()
				f = <-idle
			}
		}()
	}
}

// request is the *http.Request of what the glue passed. The client's
// address is CF-Connecting-IP, which Cloudflare's edge sets (and replaces
// if a client sent one); without it (local workerd) it is empty.
func request(method, rawURL, headers string, body []byte) (*http.Request, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	h := parseHeader(headers)
	r := &http.Request{
		Method: method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Host: u.Host, RequestURI: u.RequestURI(),
		RemoteAddr: h.Get("Cf-Connecting-Ip"),
		Body:       http.NoBody,
	}
	if body != nil {
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	return r, nil
}

// parseHeader reads the glue's header lines. A name that came more than once
// arrives as one value joined with ", " (the fetch API's Headers), which
// HTTP treats as the same.
func parseHeader(lines string) http.Header {
	h := http.Header{}
	for lines != "" {
		name, rest, _ := strings.Cut(lines, "\n")
		value, rest, _ := strings.Cut(rest, "\n")
		h.Add(name, value)
		lines = rest
	}
	return h
}

// headerLines is h in the glue's form.
func headerLines(h http.Header) string {
	var b strings.Builder
	for name, values := range h {
		for _, v := range values {
			// net/http refuses such values too; a newline would split the
			// line format.
			if strings.ContainsAny(v, "\r\n") || strings.ContainsAny(name, "\r\n") {
				continue
			}
			b.WriteString(name)
			b.WriteByte('\n')
			b.WriteString(v)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// recorder is the response, kept whole until the handler returns: the API
// answers small JSON documents, and one copy into a Uint8Array costs less
// than a stream that calls into Go for every chunk.
type recorder struct {
	header http.Header
	sent   http.Header // the header as it was at WriteHeader
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status != 0 {
		return
	}
	r.status, r.sent = code, r.header.Clone()
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}

// Flush is a no-op: the response goes out whole when the handler returns.
func (r *recorder) Flush() {}

func (r *recorder) respond(done js.Value, method string) {
	r.WriteHeader(http.StatusOK)
	body := js.Null()
	switch {
	case method == http.MethodHead, r.status == http.StatusNoContent, r.status == http.StatusResetContent,
		r.status == http.StatusNotModified, r.status < 200:
		// The fetch API's Response refuses a body with these.
	default:
		body = uint8Array(r.body.Bytes())
	}
	done.Invoke(r.status, headerLines(r.sent), body)
}

var uint8ArrayClass = js.Global().Get("Uint8Array")

func uint8Array(b []byte) js.Value {
	a := uint8ArrayClass.New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}
