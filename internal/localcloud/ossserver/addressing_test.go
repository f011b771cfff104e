package ossserver

import (
	"crypto/tls"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

func TestResolve(t *testing.T) {
	h := &Handler{cfg: Config{Domains: []string{"localhost", "oss.test"}}}
	for _, tc := range []struct {
		host, path string
		want       address
		code, ec   string
	}{
		{"127.0.0.1:9000", "/", address{level: levelService}, "", ""},
		{"127.0.0.1:9000", "/dev-bucket", address{bucket: "dev-bucket", level: levelBucket}, "", ""},
		{"127.0.0.1:9000", "/dev-bucket/", address{bucket: "dev-bucket", level: levelBucket}, "", ""},
		{"127.0.0.1:9000", "/dev-bucket/a/b c", address{bucket: "dev-bucket", key: "a/b c", level: levelObject}, "", ""},
		{"localhost:9000", "/dev-bucket/k", address{bucket: "dev-bucket", key: "k", level: levelObject}, "", ""},
		{"dev-bucket.localhost:9000", "/a/../b", address{bucket: "dev-bucket", key: "a/../b", level: levelObject, virtual: true}, "", ""},
		{"Dev-Bucket.LOCALHOST", "/", address{bucket: "dev-bucket", level: levelBucket, virtual: true}, "", ""},
		{"b12.oss.test", "/-/stats", address{bucket: "b12", key: "-/stats", level: levelObject, virtual: true}, "", ""},
		{"bad_bucket.localhost:9000", "/k", address{}, "InvalidBucketName", ""},
		{"127.0.0.1", "/ab/k", address{}, "InvalidBucketName", ""},
		{"127.0.0.1", "/dev-bucket//k", address{}, "InvalidObjectName", ecObjectNameLeading},
		{"dev-bucket.localhost", "//k", address{}, "InvalidObjectName", ecObjectNameLeading},
		{"127.0.0.1", "/dev-bucket/\\k", address{}, "InvalidObjectName", ecObjectNameLeading},
		{"127.0.0.1", "/dev-bucket/" + strings.Repeat("k", 1024), address{}, "InvalidObjectName", ecObjectNameTooLong},
		{"127.0.0.1", "/dev-bucket/%FF", address{}, "InvalidObjectName", ecObjectNameTooLong},
	} {
		r := httptest.NewRequest("GET", "http://x/", nil)
		r.Host = tc.host
		r.URL = &url.URL{Path: mustUnescape(t, tc.path)}
		got, err := h.resolve(r)
		if tc.code != "" {
			var e *osserr.Error
			if !errors.As(err, &e) || e.Code != tc.code || e.EC != tc.ec || e.Status != 400 {
				t.Errorf("%s %s: got %v, want %s (EC %q)", tc.host, tc.path, err, tc.code, tc.ec)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s %s: got %+v, %v; want %+v", tc.host, tc.path, got, err, tc.want)
		}
	}
	// A key of exactly 1023 bytes is fine.
	r := httptest.NewRequest("GET", "http://127.0.0.1/dev-bucket/"+strings.Repeat("k", 1023), nil)
	if _, err := h.resolve(r); err != nil {
		t.Errorf("1023-byte key: %v", err)
	}
}

func mustUnescape(t *testing.T, p string) string {
	t.Helper()
	s, err := url.PathUnescape(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestObjectURL(t *testing.T) {
	r := httptest.NewRequest("POST", "http://127.0.0.1:9000/b/x", nil)
	if got := objectURL(r, address{bucket: "dev-bucket", key: "a b/ü+?#"}); got != "http://127.0.0.1:9000/dev-bucket/a%20b/%C3%BC%2B%3F%23" {
		t.Errorf("path style: %s", got)
	}
	r.Host = "dev-bucket.localhost:9000"
	r.TLS = &tls.ConnectionState{}
	if got := objectURL(r, address{bucket: "dev-bucket", key: "k/v", virtual: true}); got != "https://dev-bucket.localhost:9000/k/v" {
		t.Errorf("virtual-hosted: %s", got)
	}
}

func TestURLEncoding(t *testing.T) {
	// The SDK's own fixture: OSS writes "hello%20world%21".
	if got := encoder(true).s("hello world!"); got != "hello%20world%21" {
		t.Errorf("encoded %q", got)
	}
	for _, s := range []string{"a/b c+d%e?f#g&h=i~j_k.l-m", "ünï 文件", "\x01\n\x7f"} {
		enc := encoder(true).s(s)
		if strings.ContainsAny(enc, "+ /") {
			t.Errorf("%q encoded as %q", s, enc)
		}
		// Strict (path) and lenient (query) decoders agree.
		for _, dec := range []func(string) (string, error){url.PathUnescape, url.QueryUnescape} {
			if got, err := dec(enc); err != nil || got != s {
				t.Errorf("%q -> %q -> %q, %v", s, enc, got, err)
			}
		}
	}
	if got := encoder(false).s("a b"); got != "a b" {
		t.Errorf("unencoded %q", got)
	}
}
