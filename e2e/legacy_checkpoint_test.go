package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/checkpoint"
)

// dumpCheckpoints reads every key and value of the checkpoints store in
// IndexedDB into a memory store, as the engine wrote them.
func dumpCheckpoints(pg *tab, t testing.TB) *checkpoint.MemoryStore {
	t.Helper()
	dump, err := evalAs[map[string][]int](pg, `new Promise((resolve, reject) => {
  const open = indexedDB.open('ossup');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const tx = db.transaction('checkpoints', 'readonly');
    const out = {};
    tx.objectStore('checkpoints').openCursor().onsuccess = (e) => {
      const c = e.target.result;
      if (!c) return;
      out[String(c.key)] = Array.from(new Uint8Array(c.value));
      c.continue();
    };
    tx.oncomplete = () => { db.close(); resolve(out); };
    tx.onerror = () => reject(tx.error);
  };
})`)
	if err != nil {
		t.Fatalf("read IndexedDB: %v", err)
	}
	s := checkpoint.NewMemoryStore().(*checkpoint.MemoryStore)
	for k, v := range dump {
		b := make([]byte, len(v))
		for i, x := range v {
			b[i] = byte(x)
		}
		s.KV().Put(context.Background(), k, b)
	}
	return s
}

// replaceCheckpoints empties the checkpoints store in IndexedDB and puts
// values under their keys, as a build of another checkpoint format would
// have left them.
func replaceCheckpoints(pg *tab, t testing.TB, values map[string][]byte) {
	t.Helper()
	arrays := map[string][]int{}
	for k, b := range values {
		a := make([]int, len(b))
		for i, x := range b {
			a[i] = int(x)
		}
		arrays[k] = a
	}
	js, err := json.Marshal(arrays)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := evalAs[bool](pg, `new Promise((resolve, reject) => {
  const values = `+string(js)+`;
  const open = indexedDB.open('ossup');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const tx = db.transaction('checkpoints', 'readwrite');
    const s = tx.objectStore('checkpoints');
    s.clear();
    for (const [k, v] of Object.entries(values)) s.put(new Uint8Array(v), k);
    tx.oncomplete = () => { db.close(); resolve(true); };
    tx.onerror = () => reject(tx.error);
  };
})`); err != nil {
		t.Fatalf("write IndexedDB: %v", err)
	}
}

// TestLegacyCheckpointInIndexedDB: the page finds, in IndexedDB, the
// checkpoint of an interrupted upload in the first checkpoint format (the
// record with its parts and the anchor copy, written by the test with
// checkpoint.EncodeLegacy from the upload's own state), as a deploy of
// the previous build left it. In every case no multipart upload is left
// open afterwards, and no checkpoint:
//
//   - intact: the upload resumes from it (migrated), one upload initiated;
//   - record damaged, anchor intact: the anchor names the old upload, which
//     is aborted, and the file is uploaded afresh;
//   - record damaged, no anchor, upload id and ticket still readable: the
//     same, through what is salvaged of the record.
func TestLegacyCheckpointInIndexedDB(t *testing.T) {
	t.Parallel()
	inEngines(t, chromiumOnly, testLegacyCheckpointInIndexedDB)
}

func testLegacyCheckpointInIndexedDB(t *testing.T, e browser.Engine) {
	for _, tc := range []struct {
		name               string
		damage             func([]byte) []byte
		anchor, wantResume bool
	}{
		{name: "intact", anchor: true, wantResume: true},
		{name: "record damaged, anchor intact", anchor: true,
			damage: func([]byte) []byte { return []byte("\x00 not a record") }},
		{name: "record damaged, salvaged", damage: func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"partSize":`, `"partSize":-`, 1))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, base := rpBackend(t)
			data := noise(21, rpSize)
			pg, path, old := interruptedUpload(t, e, srv, base, "legacy.bin", data, time.Now().Add(-time.Hour))

			// The upload's own state, in the first format.
			cur := dumpCheckpoints(pg, t)
			entries, err := cur.List(context.Background())
			if err != nil || len(entries) != 1 || entries[0].Record == nil || len(entries[0].Record.Parts) == 0 {
				t.Fatalf("checkpoint after the reload: %+v %v", entries, err)
			}
			id, rec := entries[0].ID, entries[0].Record
			b, err := checkpoint.EncodeLegacy(rec)
			if err != nil {
				t.Fatal(err)
			}
			if tc.damage != nil {
				b = tc.damage(b)
			}
			values := map[string][]byte{checkpoint.LegacyKey(id): b}
			if tc.anchor {
				a := *rec
				a.Parts = nil
				ab, err := checkpoint.EncodeLegacy(&a)
				if err != nil {
					t.Fatal(err)
				}
				values[checkpoint.LegacyAnchorKey(id)] = ab
			}
			replaceCheckpoints(pg, t, values)
			if p := pendingNow(pg, t); len(p) != 1 {
				t.Fatalf("resumable with the first-format checkpoint: %+v, want the upload", p)
			}

			pickFiles(pg, t, path)
			res := waitResults(pg, t, 1, time.Minute)
			if got := readBack(t, srv, res[0].Key); sha256.Sum256(got) != sha256.Sum256(data) {
				t.Fatalf("object differs (%d bytes stored)", len(got))
			}
			initiated, aborts := opRequests(srv, "InitiateMultipartUpload"), opRequests(srv, "AbortMultipartUpload")
			if tc.wantResume && (initiated != 1 || aborts != 0) {
				t.Fatalf("%d uploads initiated, %d aborted: want the old one resumed", initiated, aborts)
			}
			if !tc.wantResume && (initiated != 2 || aborts != 1) {
				t.Fatalf("%d uploads initiated, %d aborted: want the old one (%s) aborted and a fresh start", initiated, aborts, old)
			}
			if ids := uploadIDs(t, srv); len(ids) != 0 {
				t.Fatalf("multipart uploads left: %v (the old one was %s)", ids, old)
			}
			if p := pendingNow(pg, t); len(p) != 0 {
				t.Fatalf("checkpoints left: %+v", p)
			}
			// Everything of the checkpoints is gone; the proven routes
			// (route/..., kept across reloads by design) are not upload data.
			left := dumpCheckpoints(pg, t)
			keys, _ := left.KV().Scan(context.Background(), "")
			var names []string
			for _, it := range keys {
				if !strings.HasPrefix(it.Key, "route/") {
					names = append(names, it.Key)
				}
			}
			if len(names) != 0 {
				slices.Sort(names)
				t.Fatalf("keys left in IndexedDB: %v", names)
			}
		})
	}
}
