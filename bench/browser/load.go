package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/ossup/ossup/internal/browser"
)

// transfer is the size of one served file over the wire, per encoding.
type transfer struct {
	File   string `json:"file"`
	Raw    int64  `json:"raw"`
	Gzip   int64  `json:"gzip"`
	Brotli int64  `json:"brotli"`
}

// engineFiles are what a page that embeds ossup downloads: the module, the
// worker glue, Go's wasm_exec.js and the engine.
var engineFiles = []string{"engine.wasm", "ossup.js", "ossup-worker.js", "wasm_exec.js"}

// transferSizes asks the backend for each file with each encoding, as
// browsers do (it precompresses with gzip -9 and brotli 11).
func (b *bench) transferSizes(files []string) ([]transfer, error) {
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: time.Minute}
	var out []transfer
	for _, f := range files {
		t := transfer{File: f}
		for _, enc := range []struct {
			name string
			dst  *int64
		}{{"identity", &t.Raw}, {"gzip", &t.Gzip}, {"br", &t.Brotli}} {
			req, err := http.NewRequest(http.MethodGet, b.be.base+"/"+f, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Accept-Encoding", enc.name)
			resp, err := hc.Do(req)
			if err != nil {
				return nil, fmt.Errorf("GET %s: %w", f, err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil {
				return nil, fmt.Errorf("GET %s: %w", f, err)
			}
			got := resp.Header.Get("Content-Encoding")
			if resp.StatusCode != http.StatusOK || (enc.name != "identity" && got != enc.name) {
				return nil, fmt.Errorf("GET %s with Accept-Encoding %s: HTTP %d, Content-Encoding %q", f, enc.name, resp.StatusCode, got)
			}
			*enc.dst = n
		}
		out = append(out, t)
	}
	return out, nil
}

// coldReady loads the bench page for ours in a new browser on a fresh
// profile (empty HTTP and code caches, as a first visit) and returns the
// page's time from navigation start to the engine being ready.
func (b *bench) coldReady() (float64, error) {
	br, err := browser.Launch(context.Background(), b.br.Engine(), browser.Options{})
	if err != nil {
		return 0, err
	}
	defer br.Close()
	ctx := context.Background()
	if tab, ok := browser.CDP(br.Page()); ok {
		if err := disableNetwork(tab); err != nil {
			return 0, err
		}
		ctx = tab
	}
	tctx, cancel := context.WithTimeout(withPage(ctx, br.Page()), time.Minute)
	defer cancel()
	return openBench(tctx, b.be.base, "ours", "")
}
