package e2e

import (
	"crypto/sha256"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/server"
)

// webhookReceiver is the application's webhook endpoint, down (503) while
// down is set: the backend's complete then answers 502 webhook_failed, "the
// object is stored, retry complete".
type webhookReceiver struct {
	url   string
	down  atomic.Bool
	calls atomic.Int64
}

func newWebhookReceiver(t testing.TB) *webhookReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &webhookReceiver{url: "http://" + ln.Addr().String() + "/hook"}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		r.calls.Add(1)
		if r.down.Load() {
			http.Error(w, "deploying", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { hs.Close() })
	return r
}

func verifyBackend(t *testing.T, hook *webhookReceiver) (*server.Server, string) {
	return backend(t, map[string]string{
		"OSSUP_PART_SIZE": strconv.Itoa(rpPart), "OSSUP_CONCURRENCY": "4",
		"OSSUP_WEBHOOK_URL": hook.url, "OSSUP_WEBHOOK_SECRET": "0123456789abcdef0123456789abcdef",
	})
}

// dataBytes is what OSS received in data requests.
func dataBytes(srv *server.Server) int64 {
	s := srv.Cloud().OSS.Stats().Snapshot()
	return s["UploadPart"].BytesIn + s["PutObject"].BytesIn
}

// completingDuringOutage opens the demo on a backend whose webhook
// receiver is down and picks a file of seed's bytes, returning once the
// upload is completing (its object stored, complete answered 502).
func completingDuringOutage(t *testing.T, e browser.Engine, seed uint64, name string) (*webhookReceiver, *server.Server, *tab, []byte) {
	t.Helper()
	hook := newWebhookReceiver(t)
	srv, base := verifyBackend(t, hook)
	pg := openDemo(t, e, base)
	data := noise(seed, rpSize)
	path := filepath.Join(t.TempDir(), name)
	writeWithTime(t, path, data, time.Now().Add(-time.Hour))
	hook.down.Store(true)
	pickFiles(pg, t, path)
	if _, err := pollAs[bool](pg, `(h => h && h.state === 'completing')((window.ossupDemo||{handles:[]}).handles[0])`, time.Minute); err != nil {
		t.Fatalf("never completing: %v", err)
	}
	return hook, srv, pg, data
}

// TestBackendOutageDuringComplete: the backend answers 5xx for 60 s while
// complete runs (the application's webhook receiver is down for a
// deploy). The upload waits it out and ends done once it recovers, nothing
// sent again (before, six quick attempts failed it and its checkpoint was
// thrown away although the object was stored). And a page reloaded during
// such an outage lists the upload as verify-only and finishes it — without
// the file — with no byte sent.
func TestBackendOutageDuringComplete(t *testing.T) {
	t.Parallel()
	inEngines(t, chromiumOnly, testBackendOutageDuringComplete)
}

func testBackendOutageDuringComplete(t *testing.T, e browser.Engine) {
	t.Run("waited out", func(t *testing.T) {
		t.Parallel()
		hook, srv, pg, data := completingDuringOutage(t, e, 21, "outage.bin")
		sent := dataBytes(srv)
		time.Sleep(60 * time.Second)
		if s, _ := evalAs[string](pg, `window.ossupDemo.handles[0].state`); s != "completing" {
			t.Fatalf("after 60 s of outage the upload is %s, want still completing", s)
		}
		hook.down.Store(false)
		res := waitResults(pg, t, 1, 2*time.Minute)
		if got := readBack(t, srv, res[0].Key); sha256.Sum256(got) != sha256.Sum256(data) {
			t.Fatal("object differs")
		}
		if d := dataBytes(srv) - sent; d != 0 {
			t.Fatalf("%d bytes sent again after the outage", d)
		}
		t.Logf("webhook tried %d times during the outage", hook.calls.Load())
	})
	t.Run("reloaded during it", func(t *testing.T) {
		t.Parallel()
		hook, srv, pg, data := completingDuringOutage(t, e, 22, "reloaded.bin")
		for deadline := time.Now().Add(time.Minute); hook.calls.Load() < 2; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the backend never called the webhook twice")
			}
		}
		sent := dataBytes(srv)
		if err := pg.reload(); err != nil {
			t.Fatal(err)
		}
		waitEngine(pg, t)
		raw, err := evalAs[string](pg, `JSON.stringify(window.ossupDemo.pending.map(p => [p.name, p.verifyOnly === true, p.bytesDone === p.size]))`)
		if err != nil || raw != `[["reloaded.bin",true,true]]` {
			t.Fatalf("pending after the reload: %s (%v), want reloaded.bin verify-only with every byte done", raw, err)
		}
		hook.down.Store(false)
		// The row offers Finish (no file needed) before Discard.
		if _, err := evalAs[bool](pg, `(b => (b.click(), b.textContent === 'Finish'))(document.querySelector('#pending li button'))`); err != nil {
			t.Fatal(err)
		}
		res := waitResults(pg, t, 1, 2*time.Minute)
		if got := readBack(t, srv, res[0].Key); sha256.Sum256(got) != sha256.Sum256(data) {
			t.Fatal("object differs")
		}
		if d := dataBytes(srv) - sent; d != 0 {
			t.Fatalf("%d bytes sent to finish a verify-only upload", d)
		}
		if p := pendingNow(pg, t); len(p) != 0 {
			t.Fatalf("checkpoints left: %+v", p)
		}
	})
}
