package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"slices"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

// contender is one way of uploading the file to the local OSS.
type contender struct {
	Key, Name string
	// Page is the bench page's contender (?c=...); empty for the native
	// contender, which runs in this process.
	Page string
	// run uploads src once from a page that is ready with src picked (for
	// the browser contenders) and returns the object's key.
	run func(ctx context.Context, src source) (outcome, error)
}

// outcome is what one run reports besides the wall time the caller takes.
type outcome struct {
	Key string
	// PageMs is the page's own time for the upload (performance.now), where
	// the contender runs in the page.
	PageMs float64
}

// contenders are the benchmark's contenders in the order they alternate.
func (b *bench) contenders() []*contender {
	ps, conc := b.partSize, b.concurrency
	shape := fmt.Sprintf("%d MiB × %d", ps>>20, conc)
	cs := []*contender{
		{Key: "limit", Page: "limit", Name: "limit: Blob slices → fetch, presigned URLs (" + shape + ")", run: b.runLimit(limitPlain)},
		{Key: "limit-read", Page: "limit", Name: "limit + each part read into memory first (" + shape + ")", run: b.runLimit(limitRead)},
		{Key: "ours", Page: "ours", Name: "ours: ossup engine, CRC-64 on, STS (" + shape + ")", run: b.runOurs},
		{Key: "alioss-defaults", Page: "alioss", Name: "ali-oss " + b.aliVersion + " multipartUpload, its defaults (1 MiB × 5)", run: b.runAliOSS(0, 0)},
		{Key: "alioss-tuned", Page: "alioss", Name: "ali-oss " + b.aliVersion + " multipartUpload (" + shape + ")", run: b.runAliOSS(ps, conc)},
		{Key: "native", Name: "native: OSS Go SDK v2 Uploader, STS (" + shape + ")", run: b.runNative},
	}
	if b.engineB != "" {
		// Right after ours, so the two alternate run by run.
		cs = slices.Insert(cs, 3, &contender{Key: "ours-b", Page: "ours", Name: "ours-b: " + filepath.Base(b.engineB) + " (" + shape + ")", run: b.runOurs})
	}
	return cs
}

// engineBFile is where -engine-b's engine is served, next to engine.wasm.
const engineBFile = "engine-b.wasm"

// diagnosticContenders split the difference between the limit and ours;
// they run with -diag.
func (b *bench) diagnosticContenders() []*contender {
	shape := fmt.Sprintf("%d MiB × %d", b.partSize>>20, b.concurrency)
	return []*contender{
		{Key: "limit-xhr", Page: "limit", Name: "limit, sent with XMLHttpRequest instead of fetch (" + shape + ")", run: b.runLimit(limitXHR)},
		{Key: "limit-read-xhr", Page: "limit", Name: "limit + read each part, XMLHttpRequest (" + shape + ")", run: b.runLimit(limitRead | limitXHR)},
	}
}

// limitMode varies the limit contender.
type limitMode int

const (
	limitPlain limitMode = 0
	limitRead  limitMode = 1 << iota // read each part into memory before sending it
	limitXHR                         // send with XMLHttpRequest, not fetch
)

// runLimit is the browser's own limit: this process initiates the upload
// and presigns every UploadPart URL with the account's keys, the page sends
// Blob slices to them with fetch (no signing, hashing or copying in the
// browser), and this process completes the upload with the page's ETags.
// With limitRead the page also reads every part into memory before sending
// it: the floor for an uploader that hashes every byte in the browser.
func (b *bench) runLimit(mode limitMode) func(ctx context.Context, src source) (outcome, error) {
	return func(ctx context.Context, src source) (outcome, error) { return b.limit(ctx, src, mode) }
}

func (b *bench) limit(ctx context.Context, src source, mode limitMode) (outcome, error) {
	b.seq++
	key := fmt.Sprintf("bench/limit-%d.bin", b.seq)
	bucket := oss.Ptr(b.bucket)
	init, err := b.admin.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: bucket, Key: oss.Ptr(key)})
	if err != nil {
		return outcome{}, fmt.Errorf("initiate: %w", err)
	}
	n := int((src.Size + b.partSize - 1) / b.partSize)
	urls := make([]string, n)
	for i := range urls {
		p, err := b.admin.Presign(ctx, &oss.UploadPartRequest{Bucket: bucket, Key: oss.Ptr(key), UploadId: init.UploadId, PartNumber: int32(i + 1)},
			oss.PresignExpires(time.Hour))
		if err != nil {
			return outcome{}, fmt.Errorf("presign part %d: %w", i+1, err)
		}
		urls[i] = p.URL
	}
	var res struct {
		Ms    float64
		ETags []string
	}
	arg := map[string]any{"urls": urls, "partSize": b.partSize, "concurrency": b.concurrency,
		"read": mode&limitRead != 0, "xhr": mode&limitXHR != 0}
	if err := evalJSON(ctx, "bench.run("+jsArg(arg)+")", &res); err != nil {
		return outcome{}, fmt.Errorf("page: %w", err)
	}
	parts := make([]oss.UploadPart, n)
	for i, e := range res.ETags {
		parts[i] = oss.UploadPart{PartNumber: int32(i + 1), ETag: oss.Ptr(e)}
	}
	_, err = b.admin.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: bucket, Key: oss.Ptr(key), UploadId: init.UploadId,
		CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts}})
	if err != nil {
		return outcome{}, fmt.Errorf("complete: %w", err)
	}
	return outcome{Key: key, PageMs: res.Ms}, nil
}

// runOurs uploads through the engine's public API on the page.
func (b *bench) runOurs(ctx context.Context, _ source) (outcome, error) {
	var res struct {
		Ms  float64
		Key string
	}
	if err := evalJSON(ctx, "bench.run()", &res); err != nil {
		// Say where the upload was: ctx may have ended, so ask on the tab.
		sctx, cancel := context.WithTimeout(b.tab, 5*time.Second)
		defer cancel()
		var snap any
		_ = evalJSON(sctx, `JSON.stringify(bench.current ? {state: bench.current.state, progress: bench.current.progress} : null)`, &snap)
		return outcome{}, fmt.Errorf("page: %w (the upload then: %v)", err, snap)
	}
	return outcome{Key: res.Key, PageMs: res.Ms}, nil
}

// runAliOSS uploads with ali-oss's multipartUpload on the page; partSize 0
// takes its defaults.
func (b *bench) runAliOSS(partSize int64, parallel int) func(ctx context.Context, src source) (outcome, error) {
	return func(ctx context.Context, _ source) (outcome, error) {
		arg := map[string]any{"v4": true}
		if partSize > 0 {
			arg["partSize"], arg["parallel"] = partSize, parallel
		}
		var res struct {
			Ms  float64
			Key string
		}
		if err := evalJSON(ctx, "bench.run("+jsArg(arg)+")", &res); err != nil {
			return outcome{}, fmt.Errorf("page: %w", err)
		}
		return outcome{Key: res.Key, PageMs: res.Ms}, nil
	}
}

// runNative uploads from this process with the OSS Go SDK's Uploader, with
// STS credentials from the same backend create call the browser makes.
func (b *bench) runNative(ctx context.Context, src source) (outcome, error) {
	s, err := b.api.create(ctx, src)
	if err != nil {
		return outcome{}, err
	}
	c := s.Credentials
	client := oss.NewClient(oss.LoadDefaultConfig().
		WithEndpoint(s.Endpoint).WithRegion(s.Region).WithUsePathStyle(s.PathStyle).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)))
	up := client.NewUploader(func(o *oss.UploaderOptions) {
		o.PartSize = b.partSize
		o.ParallelNum = b.concurrency
	})
	if _, err := up.UploadFile(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.Key)}, src.Path); err != nil {
		return outcome{}, fmt.Errorf("upload: %w", err)
	}
	return outcome{Key: s.Key}, nil
}

// apiClient calls the backend as a browser would, with the dev identity's
// cookie.
type apiClient struct {
	base string
	hc   *http.Client
}

func newAPIClient(base string) *apiClient {
	jar, _ := cookiejar.New(nil)
	return &apiClient{base: base, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// apiSession is the part of the backend's create answer the contenders use.
type apiSession struct {
	Bucket, Region, Endpoint, Key string
	PathStyle                     bool
	Credentials                   struct {
		AccessKeyID, AccessKeySecret, SecurityToken string
	}
}

func (a *apiClient) create(ctx context.Context, src source) (*apiSession, error) {
	if err := a.call(ctx, http.MethodGet, "/api/v1/whoami", nil, nil); err != nil {
		return nil, err
	}
	var s apiSession
	body := map[string]any{"name": "native.bin", "size": src.Size, "type": "application/octet-stream"}
	if err := a.call(ctx, http.MethodPost, "/api/v1/uploads", body, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

func (a *apiClient) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: HTTP %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}
