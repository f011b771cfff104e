package e2e

import (
	"context"
	"crypto/sha256"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/janitor"
	"github.com/ossup/ossup/server"
)

// interruptedUpload uploads a fresh file on the throttled link, reloads the
// page once a few parts are confirmed, and returns the page, the file and
// the id of the multipart upload left open.
func interruptedUpload(t *testing.T, e browser.Engine, srv *server.Server, base, name string, data []byte, mtime time.Time) (*tab, string, string) {
	t.Helper()
	pg := openDemo(t, e, base)
	path := filepath.Join(t.TempDir(), name)
	writeWithTime(t, path, data, mtime)
	pickFiles(pg, t, path)
	waitConfirmed(pg, t, 0, 2*rpPart)
	old := uploadIDs(t, srv)
	if len(old) != 1 {
		t.Fatalf("%d multipart uploads open mid-upload, want 1", len(old))
	}
	if pending := reloadMidUpload(pg, t, srv); len(pending) != 1 || pending[0].Name != name {
		t.Fatalf("after the reload the page lists %+v, want %s", pending, name)
	}
	return pg, path, old[0]
}

// TestModifiedFileRestarts: the file is edited in place (new content, new
// modification time) between the reload and the re-pick. Its identity no
// longer matches the checkpoint, so the upload starts over and the object is
// the edited file. A picked File carries no proof that it is the same file
// as the interrupted one (a name is none: two DSC_0001.JPG from two cards),
// so the old upload is not aborted: it stays pending, to be discarded by the
// person or reaped by the janitor.
func TestModifiedFileRestarts(t *testing.T) {
	t.Parallel()
	inEngines(t, chromiumOnly, testModifiedFileRestarts)
}

func testModifiedFileRestarts(t *testing.T, e browser.Engine) {
	srv, base := rpBackend(t)
	mtime := time.Now().Add(-time.Hour).Truncate(time.Second)
	pg, path, old := interruptedUpload(t, e, srv, base, "report.bin", noise(5, rpSize), mtime)

	edited := noise(6, rpSize)
	writeWithTime(t, path, edited, mtime.Add(90*time.Second))
	pickFiles(pg, t, path)
	res := waitResults(pg, t, 1, time.Minute)
	if got := readBack(t, srv, res[0].Key); sha256.Sum256(got) != sha256.Sum256(edited) {
		t.Fatalf("object is not the edited file (%d bytes stored)", len(got))
	}
	if n := opRequests(srv, "InitiateMultipartUpload"); n != 2 {
		t.Errorf("%d uploads initiated, want 2 (a fresh start)", n)
	}
	if ids, n := uploadIDs(t, srv), opRequests(srv, "AbortMultipartUpload"); !slices.Equal(ids, []string{old}) || n != 0 {
		t.Fatalf("multipart uploads %v after %d aborts: want the unproven earlier one %s left alone", ids, n, old)
	}
	if p := pendingNow(pg, t); len(p) != 1 || p[0].Name != "report.bin" {
		t.Fatalf("pending %+v, want the interrupted upload of the earlier version", p)
	}
}

// corruptCheckpoints damages the checkpoint records in IndexedDB from the
// page (as disk damage or a buggy extension would): one byte of the bucket
// name if salvageable is set (the checksum fails, the upload id and ticket
// can still be read), else the whole value (nothing can be read). It
// returns the keys it damaged.
func corruptCheckpoints(pg *tab, t testing.TB, salvageable bool) []string {
	t.Helper()
	js := `new Promise((resolve, reject) => {
  const salvageable = ` + map[bool]string{true: "true", false: "false"}[salvageable] + `;
  const open = indexedDB.open('ossup');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const tx = db.transaction('checkpoints', 'readwrite');
    const damaged = [];
    tx.objectStore('checkpoints').openCursor().onsuccess = (e) => {
      const c = e.target.result;
      if (!c) return;
      const key = String(c.key);
      if (key.startsWith('` + checkpoint.RecordKey("") + `')) {
        let v = new Uint8Array(c.value);
        if (salvageable) {
          const i = new TextDecoder().decode(v).indexOf('"bucket":"') + 10;
          v[i] ^= 1;
        } else {
          v = new Uint8Array(v.length).map((_, i) => (i * 61) & 0xff);
        }
        c.update(v);
        damaged.push(key);
      }
      c.continue();
    };
    tx.oncomplete = () => { db.close(); resolve(damaged); };
    tx.onerror = () => reject(tx.error);
  };
})`
	keys, err := evalAs[[]string](pg, js)
	if err != nil {
		t.Fatalf("corrupt the checkpoints: %v", err)
	}
	slices.Sort(keys)
	return keys
}

// TestDamagedCheckpointRestarts: the IndexedDB record of an interrupted
// upload is damaged before the re-pick. The engine refuses to resume from
// it and uploads the file afresh, identical.
//
//   - Record damaged: its upload id and ticket can still be read (salvaged),
//     so the engine aborts the old multipart upload; nothing is left behind.
//   - Record damaged beyond salvage: nothing in the browser names the old
//     upload any more, so the engine cannot abort it. It stays open at OSS
//     until the backend's janitor (OSSUP_JANITOR_MAX_AGE after its
//     initiation) aborts it, which the test shows by running the janitor as
//     it would run later.
func TestDamagedCheckpointRestarts(t *testing.T) {
	t.Parallel()
	inEngines(t, chromiumOnly, testDamagedCheckpointRestarts)
}

func testDamagedCheckpointRestarts(t *testing.T, e browser.Engine) {
	for _, tc := range []struct {
		name          string
		beyondSalvage bool
	}{{"record", false}, {"record beyond salvage", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, base := rpBackend(t)
			data := noise(7, rpSize)
			pg, path, old := interruptedUpload(t, e, srv, base, "damaged.bin", data, time.Now().Add(-time.Hour))
			keys := corruptCheckpoints(pg, t, !tc.beyondSalvage)
			wantPending := 1
			if tc.beyondSalvage {
				wantPending = 0
			}
			if len(keys) != 1 {
				t.Fatalf("damaged %v, want the one record", keys)
			}
			// A damaged record is listed through what was salvaged of it,
			// if anything.
			if p := pendingNow(pg, t); len(p) != wantPending {
				t.Fatalf("resumable after the damage: %+v, want %d", p, wantPending)
			}

			pickFiles(pg, t, path)
			res := waitResults(pg, t, 1, time.Minute)
			if got := readBack(t, srv, res[0].Key); sha256.Sum256(got) != sha256.Sum256(data) {
				t.Fatalf("object differs (%d bytes stored)", len(got))
			}
			if n := opRequests(srv, "InitiateMultipartUpload"); n != 2 {
				t.Errorf("%d uploads initiated, want 2 (a fresh start)", n)
			}
			if p := pendingNow(pg, t); len(p) != 0 {
				t.Fatalf("checkpoints left: %+v", p)
			}
			ids := uploadIDs(t, srv)
			aborts := opRequests(srv, "AbortMultipartUpload")
			if !tc.beyondSalvage {
				if len(ids) != 0 || aborts != 1 {
					t.Fatalf("multipart uploads left %v after %d aborts (the old one was %s)", ids, aborts, old)
				}
				return
			}
			if aborts != 0 {
				t.Fatalf("%d aborts with no intact record naming the old upload", aborts)
			}
			if !slices.Equal(ids, []string{old}) {
				t.Fatalf("open uploads %v, want only the orphan %s", ids, old)
			}
			if n := runJanitorLater(t, srv, res[0].Key); n != 1 {
				t.Fatalf("janitor aborted %d uploads, want the orphan", n)
			}
			if ids := uploadIDs(t, srv); len(ids) != 0 {
				t.Fatalf("uploads left after the janitor: %v", ids)
			}
			if got := readBack(t, srv, res[0].Key); sha256.Sum256(got) != sha256.Sum256(data) {
				t.Fatal("the janitor damaged the completed object")
			}
		})
	}
}

// runJanitorLater runs the backend's janitor once, configured as the
// backend configures it, with a clock past its minimum age.
func runJanitorLater(t testing.TB, srv *server.Server, key string) int {
	t.Helper()
	cl := srv.Cloud()
	c := oss.NewClient(oss.LoadDefaultConfig().WithEndpoint(cl.OSSEndpoint).WithRegion(cl.Config.Region).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cl.Config.AccessKeyID, cl.Config.AccessKeySecret)))
	prefix, _, _ := strings.Cut(key, "/")
	j, err := janitor.New(janitor.Config{
		Client: c, Bucket: cl.Config.Bucket, Prefix: prefix + "/", MaxAge: time.Hour,
		Now: func() time.Time { return time.Now().Add(2 * time.Hour) },
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := j.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}
