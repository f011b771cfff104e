//go:build !js

package server

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/uploadapi"
)

// TestSessionListsObjectHeaders: the session answer tells the engine the
// exact headers of every request that creates the object (the type the
// backend accepted, attachment for a type a browser would execute, and
// x-oss-forbid-overwrite), the refresh answer repeats them, and both carry
// the server's time and are never cached.
func TestSessionListsObjectHeaders(t *testing.T) {
	b := startBackend(t, tokenAuth)
	alice := b.client(t, aliceToken)
	for _, tc := range []struct {
		declared, wantType, wantCD string
	}{
		{"image/png", "image/png", ""},
		{"", "application/octet-stream", "attachment"},
		{"text/html; charset=UTF-8", "text/html; charset=UTF-8", "attachment"},
		{"image/svg+xml", "image/svg+xml", "attachment"},
		{"TEXT/JavaScript", "text/javascript", "attachment"},
	} {
		before := time.Now().Add(-time.Second)
		r := alice.post("/api/v1/uploads", map[string]any{"name": "f.bin", "size": 10, "type": tc.declared})
		if r.Status != http.StatusCreated {
			t.Fatalf("create %q: %d %s", tc.declared, r.Status, r.Body)
		}
		var s uploadapi.Session
		if err := json.Unmarshal(r.Body, &s); err != nil {
			t.Fatal(err)
		}
		create := map[string]string{"Content-Type": tc.wantType, "x-oss-forbid-overwrite": "true"}
		if tc.wantCD != "" {
			create["Content-Disposition"] = tc.wantCD
		}
		want := uploadapi.ObjectHeaders{
			PutObject: create, InitiateMultipartUpload: create,
			CompleteMultipartUpload: map[string]string{"x-oss-forbid-overwrite": "true"},
		}
		if !reflect.DeepEqual(s.Headers, want) {
			t.Errorf("declared %q: session headers %+v, want %+v", tc.declared, s.Headers, want)
		}
		checkAnswerTime(t, "session", s.ServerTime, before)
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("session answer (with credentials) has Cache-Control %q, want no-store", cc)
		}

		r = alice.post("/api/v1/uploads/credentials", map[string]any{"ticket": s.Ticket})
		var fresh uploadapi.CredentialsRefresh
		if r.Status != http.StatusOK || json.Unmarshal(r.Body, &fresh) != nil {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
		if !reflect.DeepEqual(fresh.Headers, want) {
			t.Errorf("declared %q: refresh headers %+v, want %+v", tc.declared, fresh.Headers, want)
		}
		checkAnswerTime(t, "refresh", fresh.ServerTime, before)
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("refresh answer (with credentials) has Cache-Control %q, want no-store", cc)
		}
	}
}

func checkAnswerTime(t *testing.T, what string, got, before time.Time) {
	t.Helper()
	if got.Before(before) || got.After(time.Now().Add(time.Second)) || got.Location() != time.UTC || got.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("%s serverTime %v: not the server's clock in UTC at millisecond precision", what, got)
	}
}

// TestPublicOSSEndpoint: in dev mode the browser can be told another
// address for the local OSS (a tunnel, a container's port), path-style,
// while the backend keeps using the one it listens on.
func TestPublicOSSEndpoint(t *testing.T) {
	b := startBackend(t, merge(tokenAuth, map[string]string{"OSSUP_PUBLIC_OSS_ENDPOINT": "https://oss-tunnel.example"}))
	alice := b.client(t, aliceToken)
	s := alice.mustCreate("p.bin", 3)
	if s.Endpoint != "https://oss-tunnel.example" || !s.PathStyle {
		t.Fatalf("session endpoint %q path style %v, want the public endpoint, path style", s.Endpoint, s.PathStyle)
	}
	// The backend itself still reaches the local OSS: an object uploaded
	// there (as the tunnel would carry it) verifies.
	s.Endpoint = b.srv.Cloud().OSSEndpoint
	upload(t, s, []byte("abc"))
	if r := alice.post("/api/v1/uploads/complete", map[string]any{"ticket": s.Ticket, "size": 3, "crc64": crcString([]byte("abc"))}); r.Status != 200 {
		t.Fatalf("complete behind a public endpoint: %d %s", r.Status, r.Body)
	}
}

// TestWhoamiCarriesServerTime: the first call a page makes already gives
// the engine the server's clock.
func TestWhoamiCarriesServerTime(t *testing.T) {
	b := startBackend(t, tokenAuth)
	before := time.Now().Add(-time.Second)
	req, _ := http.NewRequest(http.MethodGet, b.base+"/api/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+aliceToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var who struct {
		User       string
		ServerTime time.Time `json:"serverTime"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&who); err != nil || resp.StatusCode != 200 || who.User != "alice" {
		t.Fatalf("whoami: %d %+v %v", resp.StatusCode, who, err)
	}
	checkAnswerTime(t, "whoami", who.ServerTime, before)
}
