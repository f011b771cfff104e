//go:build !js

package engine

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/localcloud/faults"
)

// crashMidway starts an upload of path and cancels its context (a crash:
// no Cancel, no abort) once at least after bytes are confirmed. It returns
// the checkpoint left behind.
func crashMidway(t *testing.T, env *testEnv, store checkpoint.Store, path string, after int64) *checkpoint.Record {
	t.Helper()
	// Slow enough to be caught midway; the faults are cleared again for what
	// the test does next.
	env.setFaults(slow)
	defer env.setFaults(faults.Config{})
	ctx, crash := context.WithCancel(context.Background())
	defer crash()
	u := env.engine(fastOptions(store)).start(ctx, openSource(t, path))
	waitFor(t, "partial progress", func() bool { return u.Progress().BytesConfirmed >= after })
	crash()
	if _, err := wait(t, u); !errors.Is(err, context.Canceled) {
		t.Fatalf("crashed upload: %v, want context.Canceled", err)
	}
	if p := u.Progress(); p.BytesConfirmed >= p.Total {
		t.Fatalf("upload finished before the crash (%+v): slow it down", p)
	}
	rec, err := store.Load(context.Background(), u.ID())
	if err != nil {
		t.Fatalf("no checkpoint after the crash: %v", err)
	}
	if len(rec.Parts) == 0 {
		t.Fatal("checkpoint has no parts")
	}
	return rec
}

// slow limits each OSS connection so an upload takes long enough to be
// interrupted.
var slow = faults.Config{BandwidthBytesPerSec: 4 << 20}

func TestResumeAfterCrash(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	store := checkpoint.NewMemoryStore()
	const size, partSize, conc = 12 << 20, 1 << 20, 4
	path, data := writeFile(t, "resume.bin", size, 1)
	rec := crashMidway(t, env, store, path, 4<<20)

	u := env.engine(fastOptions(store)).start(context.Background(), openSource(t, path))
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
	if n := env.opRequests("InitiateMultipartUpload"); n != 1 {
		t.Fatalf("%d uploads initiated, want 1 (resumed)", n)
	}
	if env.opRequests("ListParts") == 0 {
		t.Fatal("resume did not reconcile with ListParts")
	}
	resent := env.uploadPartBytes() - size
	if resent < 0 || resent > conc*partSize {
		t.Fatalf("%d bytes sent again, want at most %d (the parts in flight)", resent, conc*partSize)
	}
	t.Logf("checkpoint had %d parts; %d bytes sent again", len(rec.Parts), resent)
	if ids := env.multipartUploads(); len(ids) != 0 {
		t.Fatalf("multipart uploads left: %v", ids)
	}
	if _, err := store.Load(context.Background(), u.ID()); !errors.Is(err, checkpoint.ErrNotFound) {
		t.Fatalf("checkpoint left: %v", err)
	}
	if pending, err := Pending(context.Background(), store); err != nil || len(pending) != 0 {
		t.Fatalf("pending after success: %v %v", pending, err)
	}
}

func TestResumeChangedFile(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	store := checkpoint.NewMemoryStore()
	path, data := writeFile(t, "changed.bin", 8<<20, 2)
	old := crashMidway(t, env, store, path, 2<<20)

	// Same name, size and modification time; only sampled content differs.
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	mid := len(data) / 2
	data[mid] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	u := env.engine(fastOptions(store)).start(context.Background(), openSource(t, path))
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
	if res.Key == old.Key {
		t.Fatal("the changed file went to the old upload's key")
	}
	if ids := env.multipartUploads(); slices.Contains(ids, old.UploadID) || len(ids) != 0 {
		t.Fatalf("old upload %s not aborted: %v", old.UploadID, ids)
	}
}

func TestResumeDamagedCheckpoint(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	store := checkpoint.NewMemoryStore()
	path, data := writeFile(t, "damaged.bin", 8<<20, 3)
	old := crashMidway(t, env, store, path, 2<<20)

	id := checkpoint.ID(old.File)
	store.(*checkpoint.MemoryStore).Corrupt(id, func(b []byte) []byte {
		return []byte(strings.Replace(string(b), `"sum":"`, `"sum":"0`, 1))
	})
	if _, err := store.Load(context.Background(), id); !errors.Is(err, checkpoint.ErrDamaged) {
		t.Fatalf("corruption not detected: %v", err)
	}
	u := env.engine(fastOptions(store)).start(context.Background(), openSource(t, path))
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
	if ids := env.multipartUploads(); len(ids) != 0 {
		t.Fatalf("old upload %s not aborted: %v", old.UploadID, ids)
	}
	if n := env.opRequests("InitiateMultipartUpload"); n != 2 {
		t.Fatalf("%d uploads initiated, want 2 (a fresh start)", n)
	}
}

// TestResumeAfterComplete crashes right after OSS completed the object but
// before the backend verified it: the resume finds the upload gone with
// every part recorded, and only verifies.
func TestResumeAfterComplete(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	store := checkpoint.NewMemoryStore()
	path, data := writeFile(t, "late.bin", 3<<20, 4)
	ctx, crash := context.WithCancel(context.Background())
	defer crash()
	trans := transportFunc(func(c context.Context, r *Request) (*Response, error) {
		resp, err := env.trans.Do(c, r)
		if err == nil && r.Method == "POST" && strings.Contains(r.URL, "uploadId=") && resp.Status == 200 {
			crash()
		}
		return resp, err
	})
	u := New(trans, env.backend(), fastOptions(store)).start(ctx, openSource(t, path))
	if _, err := wait(t, u); !errors.Is(err, context.Canceled) {
		t.Fatalf("crashed upload: %v", err)
	}
	u = env.engine(fastOptions(store)).start(context.Background(), openSource(t, path))
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
	if n := env.opRequests("UploadPart"); n != 3 {
		t.Fatalf("%d UploadPart requests, want 3 (none after the crash)", n)
	}
}

func TestPendingAndDiscard(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	store := checkpoint.NewMemoryStore()
	path, _ := writeFile(t, "pending.bin", 8<<20, 5)
	old := crashMidway(t, env, store, path, 1<<20)
	pending, err := Pending(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].ID != checkpoint.ID(old.File) || pending[0].BytesDone == 0 || pending[0].VerifyOnly {
		t.Fatalf("pending %+v, want the one upload with its parts", pending)
	}
	eng := env.engine(fastOptions(store))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := eng.Discard(ctx, pending[0].ID); err != nil {
		t.Fatal(err)
	}
	if ids := env.multipartUploads(); len(ids) != 0 {
		t.Fatalf("uploads left after Discard: %v", ids)
	}
	if pending, _ := Pending(ctx, store); len(pending) != 0 {
		t.Fatalf("pending after Discard: %+v", pending)
	}
}

// toLegacy rewrites the checkpoint under id in the first format, record
// and anchor, as a build before the envelope left it, and removes the
// current format's keys.
func toLegacy(t *testing.T, store checkpoint.Store, id string, rec *checkpoint.Record) {
	t.Helper()
	ctx := context.Background()
	ms := store.(*checkpoint.MemoryStore)
	b, err := checkpoint.EncodeLegacy(rec)
	if err != nil {
		t.Fatal(err)
	}
	anchor := *rec
	anchor.Parts = nil
	ab, err := checkpoint.EncodeLegacy(&anchor)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	ms.KV().DeletePrefix(ctx, "name/")
	ms.KV().Put(ctx, checkpoint.LegacyKey(id), b)
	ms.KV().Put(ctx, checkpoint.LegacyAnchorKey(id), ab)
	if got, err := store.Load(ctx, id); err != nil || !got.Legacy || len(got.Parts) != len(rec.Parts) {
		t.Fatalf("first-format record does not load: %+v %v", got, err)
	}
}

// TestResumeLegacyCheckpoint: an upload interrupted under the first
// checkpoint format resumes (migrated), sending only what the record
// lacks, and leaves no key behind.
func TestResumeLegacyCheckpoint(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	store := checkpoint.NewMemoryStore()
	const size, partSize, conc = 12 << 20, 1 << 20, 4
	path, data := writeFile(t, "legacy.bin", size, 11)
	rec := crashMidway(t, env, store, path, 4<<20)
	id := checkpoint.ID(rec.File)
	toLegacy(t, store, id, rec)

	u := env.engine(fastOptions(store)).start(context.Background(), openSource(t, path))
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
	if n := env.opRequests("InitiateMultipartUpload"); n != 1 {
		t.Fatalf("%d uploads initiated, want 1 (resumed)", n)
	}
	if resent := env.uploadPartBytes() - size; resent < 0 || resent > conc*partSize {
		t.Fatalf("%d bytes sent again, want at most %d", resent, conc*partSize)
	}
	if ids := env.multipartUploads(); len(ids) != 0 {
		t.Fatalf("multipart uploads left: %v", ids)
	}
	if st := store.(*checkpoint.MemoryStore).Stats(); st.Keys != 0 {
		t.Fatalf("%d keys left", st.Keys)
	}
}

// TestResumeDamagedLegacyCheckpoint: a damaged first-format record whose
// anchor is intact: the old upload is aborted through the anchor.
func TestResumeDamagedLegacyCheckpoint(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	store := checkpoint.NewMemoryStore()
	path, data := writeFile(t, "legacy-damaged.bin", 8<<20, 12)
	rec := crashMidway(t, env, store, path, 2<<20)
	id := checkpoint.ID(rec.File)
	toLegacy(t, store, id, rec)
	// Garbage beyond any salvage: only the anchor names the upload.
	store.(*checkpoint.MemoryStore).Corrupt(id, func([]byte) []byte { return []byte("\x00garbage") })

	u := env.engine(fastOptions(store)).start(context.Background(), openSource(t, path))
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
	if ids := env.multipartUploads(); len(ids) != 0 {
		t.Fatalf("old upload %s not aborted: %v", rec.UploadID, ids)
	}
	if n := env.opRequests("InitiateMultipartUpload"); n != 2 {
		t.Fatalf("%d uploads initiated, want 2 (a fresh start)", n)
	}
	if st := store.(*checkpoint.MemoryStore).Stats(); st.Keys != 0 {
		t.Fatalf("%d keys left", st.Keys)
	}
}

// TestNewerCheckpointLeftAlone: the record under the file's id is of a
// newer format (a rollback): the upload goes on without resuming, and
// the newer record is neither overwritten nor deleted, its upload not
// aborted.
func TestNewerCheckpointLeftAlone(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	store := checkpoint.NewMemoryStore()
	path, data := writeFile(t, "newer.bin", 8<<20, 13)
	rec := crashMidway(t, env, store, path, 2<<20)
	id := checkpoint.ID(rec.File)
	newer := []byte(`{"format":"ossup-checkpoint","v":2,"sealed":"ed25519:..."}`)
	store.(*checkpoint.MemoryStore).Corrupt(id, func([]byte) []byte { return newer })

	u := env.engine(fastOptions(store)).start(context.Background(), openSource(t, path))
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
	b, ok, _ := store.(*checkpoint.MemoryStore).KV().Get(context.Background(), checkpoint.RecordKey(id))
	if !ok || string(b) != string(newer) {
		t.Fatalf("newer record replaced: %q", b)
	}
	if ids := env.multipartUploads(); !slices.Equal(ids, []string{rec.UploadID}) {
		t.Fatalf("open uploads %v, want the newer build's %s untouched", ids, rec.UploadID)
	}
}

// TestNewerCheckpointSurvivesCancel: canceling an upload that runs beside a
// newer deploy's record of the same file aborts only its own multipart
// upload; the newer record and its upload stay.
func TestNewerCheckpointSurvivesCancel(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	store := checkpoint.NewMemoryStore()
	path, _ := writeFile(t, "newer-cancel.bin", 8<<20, 14)
	rec := crashMidway(t, env, store, path, 2<<20)
	id := checkpoint.ID(rec.File)
	newer := []byte(`{"format":"ossup-checkpoint","v":2,"sealed":"ed25519:..."}`)
	store.(*checkpoint.MemoryStore).Corrupt(id, func([]byte) []byte { return newer })

	env.setFaults(slow)
	u := env.engine(fastOptions(store)).start(context.Background(), openSource(t, path))
	waitFor(t, "a second multipart upload", func() bool { return len(env.multipartUploads()) == 2 && u.Progress().BytesConfirmed > 0 })
	if err := u.Cancel(context.Background()); err != nil {
		t.Fatal(err)
	}
	env.setFaults(faults.Config{})
	b, ok, _ := store.(*checkpoint.MemoryStore).KV().Get(context.Background(), checkpoint.RecordKey(id))
	if !ok || string(b) != string(newer) {
		t.Fatalf("cancel removed the newer deploy's record: %q %v", b, ok)
	}
	if ids := env.multipartUploads(); !slices.Equal(ids, []string{rec.UploadID}) {
		t.Fatalf("open uploads %v, want only the newer build's %s", ids, rec.UploadID)
	}
}
