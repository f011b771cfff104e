package faults

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestErrorAnswersAlternate500And503(t *testing.T) {
	inj := New(Config{Rules: []Rule{{Op: "PutObject", ErrorRate: 1}}})
	ts := newTestServer(t, inj)
	c := newClient(t)
	body := make([]byte, 1<<20)

	for n, want := range []struct {
		status int
		code   string
	}{{500, "InternalError"}, {503, "ServiceUnavailable"}, {500, "InternalError"}} {
		resp, b := mustDo(t, c, http.MethodPut, ts.URL+"/bucket/PutObject", body)
		if resp.StatusCode != want.status {
			t.Fatalf("request %d: status %d, want %d", n, resp.StatusCode, want.status)
		}
		code, id := errorCode(t, b)
		if code != want.code || id != testRequestID {
			t.Errorf("request %d: code %q request id %q, want %q %q", n, code, id, want.code, testRequestID)
		}
		if got := resp.Header.Get("x-oss-request-id"); got != testRequestID {
			t.Errorf("x-oss-request-id = %q", got)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("CORS header lost: %q", got)
		}
	}

	// HEAD errors carry the document in x-oss-err, as OSS does.
	resp, _ := mustDo(t, c, http.MethodHead, ts.URL+"/bucket/PutObject", nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("HEAD status %d", resp.StatusCode)
	}
	doc, err := base64.StdEncoding.DecodeString(resp.Header.Get("x-oss-err"))
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := errorCode(t, doc); code != "ServiceUnavailable" {
		t.Errorf("HEAD x-oss-err code %q", code)
	}

	if resp, _ := mustDo(t, c, http.MethodPut, ts.URL+"/bucket/UploadPart", body); resp.StatusCode != 200 {
		t.Errorf("other operation: status %d, want 200", resp.StatusCode)
	}
	if got := ts.reached.Load(); got != 1 {
		t.Errorf("handler reached %d times, want 1", got)
	}
	if got := inj.Stats()["PutObject"]; got != (FaultStats{Errors: 4}) {
		t.Errorf("stats %+v", got)
	}
}

// isConnError reports whether err looks like a dropped connection.
func isConnError(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	for _, sub := range []string{"connection reset", "EOF", "broken pipe", "forcibly closed",
		// The transport's reader saw the RST and closed the connection
		// under the writer still sending the body.
		"use of closed network connection"} {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestResetMidBody(t *testing.T) {
	inj := New(Config{Rules: []Rule{{Op: "UploadPart", ResetRate: 1}}})
	ts := newTestServer(t, inj)
	c := newClient(t)
	const size = 4 << 20

	_, _, err := do(t, c, http.MethodPut, ts.URL+"/bucket/UploadPart", make([]byte, size))
	if !isConnError(err) {
		t.Fatalf("PUT error = %v, want a connection error", err)
	}
	if op := <-ts.handled; op != "UploadPart" {
		t.Fatalf("handled %q", op)
	}
	// About half of the body was read: the server reads through a 4 KiB
	// bufio.Reader, so allow a little read-ahead plus the request header.
	if got := ts.read.Load(); got < size/2 || got > size/2+64<<10 {
		t.Errorf("server read %d bytes before the reset, want about %d", got, size/2)
	}

	// Without a body the client is waiting for the answer, so it sees the
	// RST itself: a reset, not the orderly EOF a plain Close would give.
	_, _, err = do(t, c, http.MethodGet, ts.URL+"/bucket/UploadPart", nil)
	if err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("GET error = %v, want connection reset", err)
	}
	if got := ts.reached.Load(); got != 0 {
		t.Errorf("handler reached %d times", got)
	}
	if got := inj.Stats()["UploadPart"]; got != (FaultStats{Resets: 2}) {
		t.Errorf("stats %+v", got)
	}
}

func TestResetPrefix(t *testing.T) {
	for _, tc := range []struct{ cl, want int64 }{
		{-1, unknownLengthPrefix}, {0, 0}, {1, 1}, {2, 1}, {3, 1}, {1001, 500},
	} {
		if got := resetPrefix(tc.cl); got != tc.want {
			t.Errorf("resetPrefix(%d) = %d, want %d", tc.cl, got, tc.want)
		}
	}
}

func TestStallDelaysThenHandles(t *testing.T) {
	const stall = 300 * time.Millisecond
	inj := New(Config{Rules: []Rule{{Op: "GetObject", StallRate: 1, Stall: Duration(stall), Count: 1}}})
	ts := newTestServer(t, inj)
	c := newClient(t)

	start := time.Now()
	resp, _ := mustDo(t, c, http.MethodGet, ts.URL+"/bucket/GetObject?size=10", nil)
	if elapsed := time.Since(start); elapsed < stall {
		t.Errorf("stalled request took %v, want at least %v", elapsed, stall)
	}
	if resp.StatusCode != 200 || ts.reached.Load() != 1 {
		t.Errorf("status %d, reached %d: a stall must not stop the request", resp.StatusCode, ts.reached.Load())
	}
	if got := inj.Stats()["GetObject"]; got != (FaultStats{Stalls: 1}) {
		t.Errorf("stats %+v", got)
	}
}

func TestStallCutShortByClientCancel(t *testing.T) {
	inj := New(Config{Rules: []Rule{{Op: "GetObject", StallRate: 1, Stall: Duration(time.Hour)}}})
	ts := newTestServer(t, inj)
	c := newClient(t)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/bucket/GetObject", nil)
	_, err := c.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	select {
	case op := <-ts.handled:
		if op != "GetObject" {
			t.Errorf("handled %q", op)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stall did not end when the client went away")
	}
	if ts.reached.Load() != 0 {
		t.Error("an abandoned stalled request reached the handler")
	}
}

func TestCorruptCRC(t *testing.T) {
	inj := New(Config{Rules: []Rule{{Op: "UploadPart", CorruptCRCRate: 1}}})
	ts := newTestServer(t, inj)
	c := newClient(t)
	body := []byte("123456789")
	want := crc64(body)

	resp, _ := mustDo(t, c, http.MethodPut, ts.URL+"/bucket/UploadPart", body)
	got, err := strconv.ParseUint(resp.Header.Get("x-oss-hash-crc64ecma"), 10, 64)
	if err != nil {
		t.Fatalf("corrupted header is not an unsigned decimal: %v", err)
	}
	if resp.StatusCode != 200 || got == want {
		t.Errorf("status %d, crc %d: want 200 and a crc other than %d", resp.StatusCode, got, want)
	}

	resp, _ = mustDo(t, c, http.MethodPut, ts.URL+"/bucket/PutObject", body)
	if h := resp.Header.Get("x-oss-hash-crc64ecma"); h != strconv.FormatUint(want, 10) {
		t.Errorf("unaffected operation: crc %s, want %d", h, want)
	}
	if got := inj.Stats()["UploadPart"]; got != (FaultStats{CorruptCRC: 1}) {
		t.Errorf("stats %+v", got)
	}
}

func TestCorruptCRCWriterStaysTransparent(t *testing.T) {
	inj := New(Config{Rules: []Rule{{Op: "PutObject", CorruptCRCRate: 1}}})
	ts := newTestServer(t, inj)
	c := newClient(t)
	// Flushing through a ResponseController sends the header first; the CRC
	// must already be altered by then.
	ts.answer = func(w http.ResponseWriter) {
		if _, ok := w.(http.Flusher); !ok {
			t.Error("wrapped writer lost http.Flusher")
		}
		if _, ok := w.(http.Hijacker); !ok {
			t.Error("wrapped writer lost http.Hijacker")
		}
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("ResponseController cannot reach the connection: %v", err)
		}
		w.Header().Set("x-oss-hash-crc64ecma", "42")
		w.WriteHeader(http.StatusOK)
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
	}
	resp, _ := mustDo(t, c, http.MethodPut, ts.URL+"/bucket/PutObject", nil)
	if h := resp.Header.Get("x-oss-hash-crc64ecma"); h == "42" || h == "" {
		t.Errorf("crc header %q, want a corrupted value", h)
	}

	// The wrapper offers exactly the optional interfaces of what it wraps.
	rec := httptest.NewRecorder() // a Flusher, not a Hijacker
	w := corruptCRC(rec)
	if _, ok := w.(http.Flusher); !ok {
		t.Error("recorder wrapper is not a Flusher")
	}
	if _, ok := w.(http.Hijacker); ok {
		t.Error("recorder wrapper claims to be a Hijacker")
	}
	w.Header()["x-oss-hash-crc64ecma"] = []string{"not-a-number"}
	w.(http.Flusher).Flush()
	if h := rec.Header()["x-oss-hash-crc64ecma"][0]; h == "not-a-number" {
		t.Error("non-canonical header name not corrupted on Flush")
	} else if _, err := strconv.ParseUint(h, 10, 64); err != nil {
		t.Errorf("corrupted value %q is not decimal", h)
	}
	if !rec.Flushed {
		t.Error("Flush did not reach the recorder")
	}
	bare := corruptCRC(struct{ http.ResponseWriter }{rec})
	if _, ok := bare.(http.Flusher); ok {
		t.Error("wrapper of a plain ResponseWriter claims to be a Flusher")
	}
}

func TestCountLimitsFires(t *testing.T) {
	inj := New(Config{Rules: []Rule{{Op: "UploadPart", ResetRate: 1, Count: 2}}})
	ts := newTestServer(t, inj)
	c := newClient(t)
	body := make([]byte, 256<<10)
	for n := range 4 {
		resp, _, err := do(t, c, http.MethodPut, ts.URL+"/bucket/UploadPart", body)
		if n < 2 {
			if !isConnError(err) {
				t.Fatalf("request %d: err %v, want a reset", n, err)
			}
			continue
		}
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("request %d after Count was used up: %v %v", n, resp, err)
		}
	}
	if got := inj.Stats()["UploadPart"].Resets; got != 2 {
		t.Errorf("resets %d, want 2", got)
	}

	// Set restores the count.
	if err := inj.Set(inj.Config()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := do(t, c, http.MethodPut, ts.URL+"/bucket/UploadPart", body); !isConnError(err) {
		t.Errorf("after Set: err %v, want a reset", err)
	}
}

func TestWildcardAndOpMatching(t *testing.T) {
	inj := New(Config{Rules: []Rule{{Op: "*", ErrorRate: 1}}})
	ts := newTestServer(t, inj)
	c := newClient(t)
	for _, op := range []string{"PutObject", "ListParts", "CompleteMultipartUpload", "Anything"} {
		if resp, _ := mustDo(t, c, http.MethodPost, ts.URL+"/bucket/"+op, nil); resp.StatusCode < 500 {
			t.Errorf("%s: status %d, want 5xx from \"*\"", op, resp.StatusCode)
		}
	}

	if err := inj.Set(Config{Rules: []Rule{{Op: "uploadpart", ErrorRate: 1}}}); err != nil {
		t.Fatal(err)
	}
	if resp, _ := mustDo(t, c, http.MethodPut, ts.URL+"/bucket/UploadPart", nil); resp.StatusCode != 500 {
		t.Errorf("UploadPart: status %d, want 500 (names match case-insensitively)", resp.StatusCode)
	}
	if resp, _ := mustDo(t, c, http.MethodPut, ts.URL+"/bucket/PutObject", nil); resp.StatusCode != 200 {
		t.Errorf("PutObject: status %d, want 200", resp.StatusCode)
	}
}

func TestRulesEvaluatedInOrder(t *testing.T) {
	inj := New(Config{Rules: []Rule{
		{Op: "*", ErrorRate: 1, Count: 1},
		{Op: "UploadPart", ResetRate: 1, Count: 1},
	}})
	ts := newTestServer(t, inj)
	c := newClient(t)
	url := ts.URL + "/bucket/UploadPart"

	if resp, _ := mustDo(t, c, http.MethodPut, url, []byte("x")); resp.StatusCode != 500 {
		t.Fatalf("first: status %d, want 500 from the first rule", resp.StatusCode)
	}
	if _, _, err := do(t, c, http.MethodPut, url, []byte("x")); !isConnError(err) {
		t.Fatalf("second: err %v, want a reset from the second rule", err)
	}
	if resp, _ := mustDo(t, c, http.MethodPut, url, []byte("x")); resp.StatusCode != 200 {
		t.Fatalf("third: status %d, want 200", resp.StatusCode)
	}
}

// outcomes runs 200 requests over three operations and records what each
// one got: its status and whether the CRC was corrupted.
func outcomes(t *testing.T, inj *Injector) []string {
	t.Helper()
	ts := newTestServer(t, inj)
	c := newClient(t)
	ops := []string{"PutObject", "UploadPart", "GetObject"}
	body := []byte("123456789")
	want := strconv.FormatUint(crc64(body), 10)
	var out []string
	for n := range 200 {
		resp, _ := mustDo(t, c, http.MethodPut, ts.URL+"/bucket/"+ops[n%3], body)
		out = append(out, fmt.Sprintf("%d/%t", resp.StatusCode, resp.StatusCode == 200 && resp.Header.Get("x-oss-hash-crc64ecma") != want))
	}
	return out
}

func TestSameSeedSameDecisions(t *testing.T) {
	cfg := Config{Seed: 42, Rules: []Rule{
		{Op: "*", ErrorRate: 0.2, CorruptCRCRate: 0.3},
		{Op: "GetObject", StallRate: 0.5, Stall: Duration(time.Microsecond), ErrorRate: 0.1},
	}}
	first := outcomes(t, New(cfg))

	kinds := map[string]int{}
	for _, o := range first {
		kinds[o]++
	}
	// 500, 503, corrupted and clean answers must all occur, or the
	// comparison below proves little.
	if len(kinds) != 4 {
		t.Fatalf("outcome mix %v, want four kinds", kinds)
	}

	inj := New(Config{Seed: 7, Rules: cfg.Rules})
	_ = outcomes(t, inj)
	if err := inj.Set(cfg); err != nil {
		t.Fatal(err)
	}
	if again := outcomes(t, inj); strings.Join(again, " ") != strings.Join(first, " ") {
		t.Errorf("same seed, different decisions:\n%v\n%v", first, again)
	}

	cfg.Seed = 43
	if other := outcomes(t, New(cfg)); strings.Join(other, " ") == strings.Join(first, " ") {
		t.Error("seeds 42 and 43 gave identical decisions over 200 requests")
	}
}

func TestNilAndOffInjectorPassThrough(t *testing.T) {
	var nilInj *Injector
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if w, handled := nilInj.Apply("PutObject", rec, req, "id"); handled || w != rec {
		t.Error("nil injector must pass the writer through")
	}
	if w, handled := New(Config{}).Apply("PutObject", rec, req, "id"); handled || w != rec {
		t.Error("zero config must pass the writer through")
	}
	if len(New(Config{}).Stats()) != 0 {
		t.Error("stats recorded without faults")
	}
}

func TestNewPanicsOnInvalidConfig(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New accepted an error rate of 2")
		}
	}()
	New(Config{Rules: []Rule{{Op: "*", ErrorRate: 2}}})
}
