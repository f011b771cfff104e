package e2e

import (
	"crypto/sha256"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/server"
)

// warned reports whether the events hold a warning with code, and fails
// the test if any warning event left the handle's progress without byte
// counts (the demo then showed "undefined B of undefined B").
func warned(t *testing.T, s labState, code string) bool {
	t.Helper()
	found := false
	for _, ev := range s.Events {
		if ev.Type != "warning" {
			continue
		}
		t.Logf("warning %s: %s", ev.Code, ev.Message)
		if ev.Confirmed == nil || ev.Total == nil {
			t.Errorf("after the %s warning the handle's progress has no byte counts: %+v", ev.Code, ev)
		}
		found = found || ev.Code == code
	}
	return found
}

// TestNoWebLocksStillUploads: on a page without Web Locks (a plain-http
// intranet host: not a secure context) uploads complete, each with a
// no_web_locks warning that leaves its progress figures alone; the same
// file started twice in one uploader is refused with already_uploading
// (not locked, which means another tab), with and without Web Locks; and
// the uploader keeps no handle of a finished upload. Before, every upload
// without Web Locks failed with locked.
func TestNoWebLocksStillUploads(t *testing.T) {
	inEngines(t, browser.Engines, testNoWebLocksStillUploads)
}

func testNoWebLocksStillUploads(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(256 << 10)})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	const alias = "ossup-intranet.test"
	insecure := "http://" + alias + ":" + u.Port()
	if err := srv.Cloud().SetCORSOrigins([]string{base, insecure}); err != nil {
		t.Fatal(err)
	}
	pg := openLab(t, e, insecure, browser.Options{HostAliases: []string{alias}})
	for _, origin := range []string{insecure, base} {
		if origin == base {
			if err := pg.navigate(base + labPage); err != nil {
				t.Fatal(err)
			}
			installLab(pg, t)
		}
		locks := labEval[bool](pg, t, `isSecureContext && !!navigator.locks`)
		if locks != (origin == base) {
			t.Fatalf("%s: secure context with Web Locks: %v", origin, locks)
		}
		labEval[int](pg, t, `lab.make()`)
		const n = 1<<20 + 777
		labEval[string](pg, t, `lab.upload(0, 'one', 'twice.bin', `+strconv.Itoa(n)+`)`)
		labEval[string](pg, t, `lab.upload(0, 'again', 'twice.bin', `+strconv.Itoa(n)+`)`)
		labEval[string](pg, t, `lab.upload(0, 'other', 'other.bin', 5000)`)
		again := labWait(pg, t, "again", time.Minute)
		if again.State != "failed" || again.Err == nil || again.Err.Code != "already_uploading" {
			t.Fatalf("%s: the same file twice: %+v, want failed with already_uploading", origin, again)
		}
		for _, k := range []string{"one", "other"} {
			s := labWait(pg, t, k, 2*time.Minute)
			if s.State != "done" {
				t.Fatalf("%s: %s: %+v", origin, k, s)
			}
			if w := warned(t, s, "no_web_locks"); w != (origin == insecure) {
				t.Errorf("%s: %s: no_web_locks warning %v, want it only without Web Locks", origin, k, w)
			}
		}
		checkStoredBytes(t, srv, labNow(pg, t, "one").Res.Key, labFile(n))
		if left := labEval[int](pg, t, `lab.ups[0]._handles.size`); left != 0 {
			t.Errorf("%s: the uploader still holds %d handles of finished uploads", origin, left)
		}
	}
}

// checkStoredBytes compares the object at key with want.
func checkStoredBytes(t *testing.T, srv *server.Server, key string, want []byte) {
	t.Helper()
	if got := readBack(t, srv, key); sha256.Sum256(got) != sha256.Sum256(want) {
		t.Errorf("%s: stored %d bytes differ from the file's %d", key, len(got), len(want))
	}
}

// TestOldTabDoesNotBlockStorage: a tab of an earlier deploy holding the
// checkpoint database open at an older version (without a versionchange
// handler) blocks the page's upgrade; the page's uploads still complete,
// without resume and with a storage_unavailable warning, and pending()
// answers; once the old tab is gone checkpoints work again. When a later
// deploy opens a newer version, this page gives the database up at once.
// Before, every upload hung in "checking" and pending() never answered.
func TestOldTabDoesNotBlockStorage(t *testing.T) {
	inEngines(t, browser.Engines, testOldTabDoesNotBlockStorage)
}

func testOldTabDoesNotBlockStorage(t *testing.T, e browser.Engine) {
	srv, base := backend(t, map[string]string{"OSSUP_PART_SIZE": strconv.Itoa(256 << 10), "OSSUP_CONCURRENCY": "2"})
	pg := launch(t, e, browser.Options{}, 4*time.Minute)
	old := pg.newTab()
	if err := old.navigate(base + "/ossup.d.ts"); err != nil {
		t.Fatal(err)
	}
	// What the previous deploy's worker did: version 1, no versionchange
	// handler.
	if _, err := evalAs[bool](old, `new Promise((resolve, reject) => {
  const req = indexedDB.open('ossup', 1);
  req.onupgradeneeded = () => req.result.createObjectStore('checkpoints');
  req.onsuccess = () => { window.oldDB = req.result; resolve(true); };
  req.onerror = () => reject(req.error);
})`); err != nil {
		t.Fatal(err)
	}
	if err := pg.navigate(base + labPage); err != nil {
		t.Fatal(err)
	}
	if _, err := pollAs[bool](pg, `document.getElementById('engine-status').textContent.startsWith('engine ready')`, 45*time.Second); err != nil {
		t.Fatal(err)
	}
	installLab(pg, t)
	labEval[int](pg, t, `lab.make()`)
	const n = 1<<20 + 99
	labEval[string](pg, t, `lab.upload(0, 'blocked', 'blocked.bin', `+strconv.Itoa(n)+`)`)
	s := labWait(pg, t, "blocked", 2*time.Minute)
	if s.State != "done" {
		t.Fatalf("upload while an old tab blocks the storage: %+v", s)
	}
	if !warned(t, s, "storage_unavailable") {
		t.Errorf("no storage_unavailable warning while the storage was blocked")
	}
	checkStoredBytes(t, srv, s.Res.Key, labFile(n))
	code := labEval[string](pg, t, `lab.ups[0].pending().then(() => 'answered', (e) => e.code)`)
	t.Logf("pending() while blocked: %s", code)

	// The old tab is closed: the upgrade goes through, checkpoints work.
	if err := old.p.Close(old.ctx); err != nil {
		t.Fatal(err)
	}
	throttle(t, srv, true)
	labEval[string](pg, t, `lab.upload(0, 'kept', 'kept.bin', `+strconv.Itoa(4<<20)+`)`)
	if _, err := pollAs[bool](pg, `lab.h.kept.progress.bytesConfirmed >= 262144`, time.Minute); err != nil {
		t.Fatal(err)
	}
	if p, err := pollAs[int](pg, `lab.ups[0].pending().then(p => p.length || null, () => null)`, 30*time.Second); err != nil || p != 1 {
		t.Fatalf("checkpoints after the old tab closed: %d pending (%v), want 1", p, err)
	}
	throttle(t, srv, false)
	if s := labWait(pg, t, "kept", 2*time.Minute); s.State != "done" {
		t.Fatalf("kept: %+v", s)
	}
	if w := warned(t, labNow(pg, t, "kept"), "storage_unavailable"); w {
		t.Errorf("storage_unavailable warning after the old tab closed")
	}

	// A later deploy (version 3) in another tab is not blocked by this one.
	old = pg.newTab()
	if err := old.navigate(base + "/ossup.d.ts"); err != nil {
		t.Fatal(err)
	}
	if _, err := evalAs[bool](old, `new Promise((resolve, reject) => {
  const req = indexedDB.open('ossup', 3);
  req.onblocked = () => reject(new Error('blocked by the page'));
  req.onsuccess = () => { req.result.close(); resolve(true); };
  req.onerror = () => reject(req.error);
})`); err != nil {
		t.Fatalf("a newer version of the database: %v", err)
	}
	labEval[string](pg, t, `lab.upload(0, 'after', 'after.bin', 5000)`)
	if s := labWait(pg, t, "after", time.Minute); s.State != "done" {
		t.Fatalf("upload after a newer deploy took the storage: %+v", s)
	}
}
