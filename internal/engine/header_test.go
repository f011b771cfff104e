package engine

import (
	"math/rand/v2"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The engine's Header stands in for net/http's in the browser build; these
// checks keep the two interchangeable.

func TestCanonicalHeaderKeyMatchesNetHTTP(t *testing.T) {
	names := []string{"", "a", "x-oss-meta-title", "X-OSS-DATE", "content-type", "Content-MD5", "x_oss", "x oss",
		"-x-", "x--y", "ü-x", "x-oss-meta-\u00e9", "etag", "WWW-Authenticate", "x:y", "1-a"}
	const alphabet = "aZz-_ .:0é"
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		names = append(names, string(b))
	}
	for _, n := range names {
		if got, want := CanonicalHeaderKey(n), http.CanonicalHeaderKey(n); got != want {
			t.Fatalf("CanonicalHeaderKey(%q) = %q, net/http gives %q", n, got, want)
		}
	}
}

func TestHeaderBehavesAsNetHTTP(t *testing.T) {
	ours, theirs := Header{}, http.Header{}
	for _, op := range []struct{ kind, k, v string }{
		{"add", "x-oss-meta-a", "1"}, {"add", "X-Oss-Meta-A", "2"}, {"set", "content-type", "text/plain"},
		{"add", "authorization", "Bearer t"}, {"del", "AUTHORIZATION", ""}, {"set", "x-oss-meta-a", "3"},
	} {
		switch op.kind {
		case "add":
			ours.Add(op.k, op.v)
			theirs.Add(op.k, op.v)
		case "set":
			ours.Set(op.k, op.v)
			theirs.Set(op.k, op.v)
		case "del":
			ours.Del(op.k)
			theirs.Del(op.k)
		}
	}
	for _, k := range []string{"x-oss-meta-a", "Content-Type", "authorization", "missing"} {
		if ours.Get(k) != theirs.Get(k) || strings.Join(ours.Values(k), ",") != strings.Join(theirs.Values(k), ",") {
			t.Errorf("%s: ours %q, net/http %q", k, ours.Values(k), theirs.Values(k))
		}
	}
	c := ours.Clone()
	c.Add("x-oss-meta-a", "4")
	if len(ours.Values("x-oss-meta-a")) != 1 {
		t.Error("Clone shares its slices with the original")
	}
	if Header(nil).Clone() != nil {
		t.Error("Clone of nil is not nil")
	}
}

func TestStatusTextAndTimeFormatMatchNetHTTP(t *testing.T) {
	for code := 400; code < 600; code++ {
		if got, want := statusText(code), http.StatusText(code); got != want {
			t.Errorf("statusText(%d) = %q, net/http gives %q", code, got, want)
		}
	}
	if timeFormat != http.TimeFormat {
		t.Errorf("timeFormat %q, net/http %q", timeFormat, http.TimeFormat)
	}
	for c, want := range map[int]int{statusUnauthorized: http.StatusUnauthorized, statusForbidden: http.StatusForbidden,
		statusRequestTimeout: http.StatusRequestTimeout, statusTooManyRequests: http.StatusTooManyRequests} {
		if c != want {
			t.Errorf("status constant %d, net/http %d", c, want)
		}
	}
	for m, want := range map[string]string{methodGet: http.MethodGet, methodPut: http.MethodPut, methodPost: http.MethodPost} {
		if m != want {
			t.Errorf("method %q, net/http %q", m, want)
		}
	}
}

// TestBrowserBuildLinksNoNetHTTP guards the browser engine's size against
// packages it was cut free of, measured in engine.wasm (brotli): net/http
// and crypto/tls about 310 KB of 1.52 MB (Header is here for that; net,
// which net/textproto brings, costs about 5 KB); regexp about 86 KB (the
// checkpoint's salvage scans instead); log/slog and log about 48 KB
// (engine.Logger); mime about 11 KB (FileSource is native only).
func TestBrowserBuildLinksNoNetHTTP(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "github.com/ossup/ossup/wasm")
	cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm")
	cmd.WaitDelay = time.Minute
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := map[string]bool{"net/http": true, "crypto/tls": true, "regexp": true, "log/slog": true, "log": true, "mime": true}
	for _, p := range strings.Fields(string(out)) {
		if forbidden[p] {
			t.Errorf("the wasm engine links %s", p)
		}
	}
}
