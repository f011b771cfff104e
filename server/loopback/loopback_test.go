package loopback

import (
	"net/http"
	"testing"
)

// TestStart: the backend answers on its Base URL until Close.
func TestStart(t *testing.T) {
	s, err := Start(map[string]string{"OSSUP_DATA_DIR": t.TempDir(), "OSSUP_WEB_DIR": t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(s.Base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	if s.Cloud() == nil {
		t.Fatal("dev mode without its local cloud")
	}
	s.Close()
	if _, err := http.Get(s.Base + "/healthz"); err == nil {
		t.Fatal("still answering after Close")
	}
}
