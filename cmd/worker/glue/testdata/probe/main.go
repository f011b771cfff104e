//go:build js && wasm

// Command probe serves through cmd/worker/glue for its tests
// (glue_test.go): it reports which instance answered and how many requests
// it was serving at once, exits or crashes on request, and makes outbound
// calls.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ossup/ossup/cmd/worker/glue"
)

func main() {
	boot, err := glue.Take()
	if err != nil {
		panic(err)
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	instance := hex.EncodeToString(id)
	inFlight, served := 0, 0
	mux := http.NewServeMux()
	mux.HandleFunc("/id", func(w http.ResponseWriter, r *http.Request) {
		// Goroutines of one wasm instance run on one thread: the counter
		// needs no lock.
		inFlight++
		served++
		most := inFlight
		if ms, _ := strconv.Atoi(r.URL.Query().Get("ms")); ms > 0 {
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
		most = max(most, inFlight)
		inFlight--
		v, _ := boot.Binding("OSSUP_REGION")
		writeJSON(w, map[string]any{"instance": instance, "served": served, "inFlight": most, "var": v})
	})
	mux.HandleFunc("/exit", func(http.ResponseWriter, *http.Request) { os.Exit(3) })
	mux.HandleFunc("/crash", func(http.ResponseWriter, *http.Request) {
		done := make(chan struct{})
		go func() { panic("probe: crash") }()
		<-done
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Add("X-Probe", "one")
		w.Header().Add("X-Probe", "two")
		writeJSON(w, map[string]any{"method": r.Method, "length": len(b), "contentLength": r.ContentLength,
			"host": r.Host, "path": r.URL.Path, "query": r.URL.RawQuery, "remote": r.RemoteAddr,
			"header": r.Header.Get("X-Test"), "body": string(b[:min(len(b), 64)])})
	})
	mux.HandleFunc("/nocontent", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/fetch", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		ctx := r.Context()
		if ms, _ := strconv.Atoi(q.Get("timeout")); ms > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(ms)*time.Millisecond)
			defer cancel()
		}
		var body io.Reader
		if b := q.Get("body"); b != "" {
			body = strings.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, q.Get("method"), q.Get("url"), body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Header.Set("X-Test", "sent")
		if ms, _ := strconv.Atoi(q.Get("sleep")); ms > 0 {
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
		start := time.Now()
		resp, err := boot.Fetch(req)
		if err != nil {
			writeJSON(w, map[string]any{"error": err.Error(), "ms": time.Since(start).Milliseconds()})
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		writeJSON(w, map[string]any{"status": resp.StatusCode, "length": len(b), "contentLength": resp.ContentLength,
			"header": resp.Header.Get("X-Answer"), "body": string(b[:min(len(b), 64)])})
	})
	boot.Serve(func() http.Handler { return mux })
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
