package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"

	"github.com/andybalholm/brotli"
)

// fileSize is one asset's size in bytes: raw, compressed locally (gzip -9,
// brotli at quality 11, the backend's settings) and as the backend served
// it with Accept-Encoding: br.
type fileSize struct {
	name                string
	raw, gzip, brotli   int
	served              int64
	servedEncoding, url string
}

func measureFiles(web string) ([]fileSize, error) {
	var out []fileSize
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(web, name))
		if err != nil {
			return nil, err
		}
		gz, err := gzipBest(b)
		if err != nil {
			return nil, fmt.Errorf("gzip %s: %w", name, err)
		}
		br, err := brotliBest(b)
		if err != nil {
			return nil, fmt.Errorf("brotli %s: %w", name, err)
		}
		out = append(out, fileSize{name: name, raw: len(b), gzip: gz, brotli: br})
	}
	return out, nil
}

func gzipBest(b []byte) (int, error) {
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return 0, err
	}
	if _, err := w.Write(b); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return buf.Len(), nil
}

func brotliBest(b []byte) (int, error) {
	var buf bytes.Buffer
	w := brotli.NewWriterLevel(&buf, brotli.BestCompression)
	if _, err := w.Write(b); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return buf.Len(), nil
}
