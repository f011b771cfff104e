//go:build !js

package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

func newRecorderFor(srv *Server, req *http.Request) int {
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	return rec.Code
}

// FuzzCreateSession feeds arbitrary bodies to the create endpoint: it must
// answer 201 or a precise 4xx, never a 5xx or a panic, and a 201 must carry
// a key under the user's prefix.
func FuzzCreateSession(f *testing.F) {
	b := startBackend(f, merge(tokenAuth, map[string]string{"OSSUP_RATE_LIMIT_USER": "1000000", "OSSUP_RATE_LIMIT_IP": "1000000"}))
	for _, s := range []string{
		`{"name":"a.txt","size":1}`, `{"name":"../x","size":0,"type":"text/plain","lastModified":1}`,
		`{"name":"a","size":-1}`, `{"name":"a","size":53687091200001}`, `{"name":"\u0000","size":1}`,
		`{"name":"a","size":1e30}`, `[]`, `null`, `{"name":"a","size":1,"x":1}`, `{"name":"é/ü\\..","size":5}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/uploads", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+aliceToken)
		req.RemoteAddr = "127.0.0.1:40000"
		rec := httptest.NewRecorder()
		b.srv.Handler().ServeHTTP(rec, req)
		switch rec.Code {
		case 201:
			if !bytes.Contains(rec.Body.Bytes(), []byte(`"key":"uploads/alice/`)) {
				t.Fatalf("201 with a key outside the prefix: %s", rec.Body)
			}
		case 400, 413, 415:
		default:
			t.Fatalf("body %q: status %d %s", body, rec.Code, rec.Body)
		}
	})
}
