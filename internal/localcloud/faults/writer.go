package faults

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"strings"
)

const crcHeader = "X-Oss-Hash-Crc64ecma"

// crcMask is XORed into the CRC so the corrupted value is always different
// and still a valid unsigned decimal.
const crcMask = 0x5a5a5a5a5a5a5a5a

// corruptCRC wraps w so that the x-oss-hash-crc64ecma header is altered when
// the response header is sent. The wrapper offers http.Flusher and
// http.Hijacker exactly when w does, and Unwrap for http.ResponseController.
func corruptCRC(w http.ResponseWriter) http.ResponseWriter {
	c := &crcWriter{ResponseWriter: w}
	_, f := w.(http.Flusher)
	_, h := w.(http.Hijacker)
	switch {
	case f && h:
		return &crcFlushHijacker{c}
	case f:
		return &crcFlusher{c}
	case h:
		return &crcHijacker{c}
	}
	return c
}

type crcWriter struct {
	http.ResponseWriter
	done bool
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *crcWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *crcWriter) WriteHeader(code int) {
	// Informational answers (100 Continue) precede the real header.
	if code >= 200 || code == http.StatusSwitchingProtocols {
		c.corrupt()
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *crcWriter) Write(b []byte) (int, error) {
	c.corrupt()
	return c.ResponseWriter.Write(b)
}

// corrupt alters the CRC header once, just before the header is sent. The
// header map may hold the name in any case, since handlers can assign it
// directly.
func (c *crcWriter) corrupt() {
	if c.done {
		return
	}
	c.done = true
	h := c.ResponseWriter.Header()
	for name, vs := range h {
		if !strings.EqualFold(name, crcHeader) || len(vs) == 0 {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSpace(vs[0]), 10, 64)
		if err != nil {
			v = 0 // any decimal differs from a malformed value
		}
		vs[0] = strconv.FormatUint(v^crcMask, 10)
	}
}

// FlushError is what http.ResponseController.Flush calls; defining it here
// keeps a controller from flushing the underlying writer before the header
// has been altered.
func (c *crcWriter) FlushError() error {
	c.corrupt()
	return http.NewResponseController(c.ResponseWriter).Flush()
}

func (c *crcWriter) flush() { _ = c.FlushError() }

func (c *crcWriter) hijack() (net.Conn, *bufio.ReadWriter, error) {
	return c.ResponseWriter.(http.Hijacker).Hijack()
}

type crcFlusher struct{ *crcWriter }

func (c *crcFlusher) Flush() { c.flush() }

type crcHijacker struct{ *crcWriter }

func (c *crcHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) { return c.hijack() }

type crcFlushHijacker struct{ *crcWriter }

func (c *crcFlushHijacker) Flush() { c.flush() }

func (c *crcFlushHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) { return c.hijack() }
