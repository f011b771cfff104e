//go:build !js

package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ossup/ossup/internal/uploadapi"
)

// TestFolderPathsInKeys: a file's relativePath (from a folder pick or drop)
// puts its folders in the key through {path} of the default template,
// sanitised like names; a path that is absolute, climbs with "..", or does
// not end with the file's name is refused with 400 invalid_path. The object
// uploads and completes under that key.
func TestFolderPathsInKeys(t *testing.T) {
	b := startBackend(t, merge(tokenAuth, map[string]string{"OSSUP_RATE_LIMIT_USER": "1000"}))
	alice := b.client(t, aliceToken)
	for _, tc := range []struct{ path, suffix string }{
		{"", "/a.txt"},
		{"a.txt", "/a.txt"},
		{"photos/2024/a.txt", "/photos/2024/a.txt"},
		{"相册/夏 天/a.txt", "/相册/夏 天/a.txt"},
		{"evil\u202etxt.exe/a.txt", "/evil_txt.exe/a.txt"},
		{"tab\there/a.txt", "/tab_here/a.txt"},
	} {
		r := alice.post("/api/v1/uploads", map[string]any{"name": "a.txt", "size": 1, "relativePath": tc.path})
		var s uploadapi.Session
		if r.Status != 201 || json.Unmarshal(r.Body, &s) != nil {
			t.Fatalf("create with relativePath %q: %d %s", tc.path, r.Status, r.Body)
		}
		if !strings.HasPrefix(s.Key, "uploads/alice/") || !strings.HasSuffix(s.Key, tc.suffix) || strings.Count(s.Key, "/") != 6+strings.Count(tc.suffix, "/")-1 {
			t.Errorf("relativePath %q gave key %q, want it to end %q", tc.path, s.Key, tc.suffix)
		}
		if tc.path == "photos/2024/a.txt" {
			data := []byte("x")
			upload(t, s, data)
			if r := alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": 1, "crc64": crcString(data)}); r.Status != 200 {
				t.Fatalf("complete %s: %d %s", s.Key, r.Status, r.Body)
			}
		}
	}
	for _, tc := range []struct{ path, want string }{
		{"/etc/a.txt", "absolute"},
		{"C:/Users/a.txt", "absolute"},
		{"../a.txt", `\"..\" segment`},
		{"photos/../../a.txt", `\"..\" segment`},
		{"photos//a.txt", "empty segment"},
		{`photos\a.txt`, "'/'"},
		{"photos/b.txt", "file's name"},
		{strings.Repeat("d/", 40) + "a.txt", "segments"},
		{strings.Repeat("x", 300) + "/a.txt", "255"},
	} {
		r := alice.post("/api/v1/uploads", map[string]any{"name": "a.txt", "size": 1, "relativePath": tc.path})
		if r.Status != 400 || r.code() != "invalid_path" || !strings.Contains(string(r.Body), tc.want) {
			t.Errorf("relativePath %q: %d %s, want 400 invalid_path naming %s", tc.path, r.Status, r.Body, tc.want)
		}
	}
	if r := alice.post("/api/v1/uploads", []byte(`{"name":"a.txt","size":1,"relativePath":7}`)); r.Status != 400 || r.code() != "invalid_json" {
		t.Errorf("a numeric relativePath: %d %s", r.Status, r.Body)
	}
}
