//go:build !js

package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/labstack/echo/v4"
)

// Assets serves the web/ directory: every file under its plain path with
// revalidation, and under a content-hashed path (/assets/<name>.<hash>.<ext>)
// with immutable caching. Bodies are precompressed with gzip and brotli once,
// at load. HTML files may reference other files as {{asset "path"}}, which
// is replaced by the hashed URL, so a deploy never serves a stale engine.
type Assets struct {
	files map[string]*asset
	wg    sync.WaitGroup
	// connectSrc are the origins pages and workers may connect to besides
	// their own (SetConnectSrc).
	connectSrc []string
}

type asset struct {
	ctype     string
	body      []byte
	hash      string
	immutable bool
	// scripts are the CSP sources of an HTML file's inline scripts.
	scripts []string

	mu     sync.RWMutex
	gz, br []byte
}

var assetRef = regexp.MustCompile(`\{\{\s*asset\s+"([^"]+)"\s*\}\}`)

// contentTypes pins the types browsers are strict about; the rest come from
// the mime package.
var contentTypes = map[string]string{
	".wasm": "application/wasm",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".map":  "application/json",
	".ts":   "text/plain; charset=utf-8",
}

// LoadAssets reads dir. Brotli compression (slow at its best quality) runs in
// the background; until it is done, clients get gzip.
func LoadAssets(dir string) (*Assets, error) {
	return LoadAssetsFS(os.DirFS(dir), dir)
}

// LoadAssetsFS reads the web files of fsys (a directory, or the ones
// embedded in the binary); what names it in errors.
func LoadAssetsFS(fsys fs.FS, what string) (*Assets, error) {
	a := &Assets{files: map[string]*asset{}}
	type entry struct {
		rel  string
		body []byte
	}
	var html, other []entry
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") && p != "." {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".br") {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		e := entry{p, b}
		if strings.HasSuffix(name, ".html") {
			html = append(html, e)
		} else {
			other = append(other, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load web assets from %s: %w", what, err)
	}
	hashed := map[string]string{}
	for _, e := range other {
		hashed[e.rel] = a.add(e.rel, e.body)
	}
	for _, e := range html {
		var missing []string
		body := assetRef.ReplaceAllFunc(e.body, func(m []byte) []byte {
			ref := string(assetRef.FindSubmatch(m)[1])
			if u, ok := hashed[strings.TrimPrefix(ref, "/")]; ok {
				return []byte(u)
			}
			missing = append(missing, ref)
			return m
		})
		if len(missing) > 0 {
			sort.Strings(missing)
			return nil, fmt.Errorf("load web assets: %s references missing files %s", e.rel, strings.Join(missing, ", "))
		}
		a.add(e.rel, body)
		scripts := inlineScripts(body)
		a.files["/"+e.rel].scripts = scripts
		if u, ok := a.URL(e.rel); ok {
			a.files[u].scripts = scripts
		}
	}
	return a, nil
}

var (
	inlineScript  = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	scriptSrcAttr = regexp.MustCompile(`(?i)\bsrc\s*=`)
)

// inlineScripts are the CSP hash sources ('sha256-...') of the inline
// scripts in an HTML body: the demo's module bootstrap runs under
// script-src 'self' without 'unsafe-inline'.
func inlineScripts(body []byte) []string {
	var out []string
	for _, m := range inlineScript.FindAllSubmatch(body, -1) {
		if scriptSrcAttr.Match(m[1]) {
			continue
		}
		sum := sha256.Sum256(m[2])
		out = append(out, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	return out
}

// SetConnectSrc names the origins (the OSS endpoint browsers are told)
// that the served pages and workers may connect to.
func (a *Assets) SetConnectSrc(origins ...string) { a.connectSrc = origins }

// csp is the Content-Security-Policy of a page or script: only this
// origin's scripts (and the page's own inline ones, by hash), WebAssembly
// compiled by them, workers from here or blob:, requests to here and the
// OSS endpoint, no plugins, frames, base rewriting or form posts
// elsewhere. Scripts get it too: a dedicated worker runs under the policy
// its script was served with.
func (a *Assets) csp(f *asset) string {
	script := append([]string{"'self'", "'wasm-unsafe-eval'"}, f.scripts...)
	connect := append([]string{"'self'"}, a.connectSrc...)
	return "default-src 'none'; script-src " + strings.Join(script, " ") +
		"; worker-src 'self' blob:; connect-src " + strings.Join(connect, " ") +
		"; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; manifest-src 'self'" +
		"; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// add registers body under its plain and hashed paths and returns the
// hashed URL.
func (a *Assets) add(rel string, body []byte) string {
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])[:16]
	ext := path.Ext(rel)
	ctype := contentTypes[ext]
	if ctype == "" {
		ctype = mime.TypeByExtension(ext)
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	hashedURL := "/assets/" + strings.TrimSuffix(rel, ext) + "." + h + ext
	plain := &asset{ctype: ctype, body: body, hash: h}
	imm := &asset{ctype: ctype, body: body, hash: h, immutable: true}
	a.files["/"+rel] = plain
	a.files[hashedURL] = imm
	if len(body) >= 256 && compressible(ctype) {
		gz := gzipBytes(body)
		plain.gz, imm.gz = gz, gz
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			br := brotliBytes(body)
			for _, x := range []*asset{plain, imm} {
				x.mu.Lock()
				x.br = br
				x.mu.Unlock()
			}
		}()
	}
	return hashedURL
}

// Wait blocks until background compression is done (tests and benchmarks).
func (a *Assets) Wait() { a.wg.Wait() }

// URL returns the hashed URL of a file, e.g. "engine.wasm".
func (a *Assets) URL(rel string) (string, bool) {
	f, ok := a.files["/"+strings.TrimPrefix(rel, "/")]
	if !ok {
		return "", false
	}
	ext := path.Ext(rel)
	return "/assets/" + strings.TrimSuffix(strings.TrimPrefix(rel, "/"), ext) + "." + f.hash + ext, true
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") ||
		strings.Contains(ctype, "json") || strings.Contains(ctype, "wasm") || strings.Contains(ctype, "svg")
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func brotliBytes(b []byte) []byte {
	var buf bytes.Buffer
	w := brotli.NewWriterLevel(&buf, brotli.BestCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// accepts reports whether the Accept-Encoding header allows enc (a q=0 entry
// refuses it).
func accepts(header, enc string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), enc) {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// handler serves the assets; unknown paths fall through to a JSON 404.
func (a *Assets) handler(c echo.Context) error {
	p := c.Request().URL.Path
	if p == "/" {
		p = "/index.html"
	}
	f, ok := a.files[p]
	if !ok {
		return newAPIError(http.StatusNotFound, "not_found", "no such page")
	}
	h := c.Response().Header()
	body, enc := f.body, ""
	ae := c.Request().Header.Get("Accept-Encoding")
	f.mu.RLock()
	br := f.br
	f.mu.RUnlock()
	switch {
	case br != nil && accepts(ae, "br"):
		body, enc = br, "br"
	case f.gz != nil && accepts(ae, "gzip"):
		body, enc = f.gz, "gzip"
	}
	if f.gz != nil {
		h.Set("Vary", "Accept-Encoding")
	}
	etag := `"` + f.hash + enc + `"`
	h.Set("ETag", etag)
	h.Set("Content-Type", f.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(f.ctype, "text/html") || strings.Contains(f.ctype, "javascript") {
		h.Set("Content-Security-Policy", a.csp(f))
	}
	if strings.Contains(f.ctype, "javascript") || f.ctype == "application/wasm" {
		// A page on another origin may load the uploader from here: module
		// scripts and the engine's fetch are CORS requests. They are public
		// files, so any origin, never with credentials.
		h.Set("Access-Control-Allow-Origin", "*")
	}
	if f.immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if inm := c.Request().Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, etag) {
		return c.NoContent(http.StatusNotModified)
	}
	if enc != "" {
		h.Set("Content-Encoding", enc)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.Response().WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	_, err := c.Response().Write(body)
	return err
}
