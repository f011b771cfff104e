//go:build !js

package engine

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/localcloud/faults"
)

// TestPauseResumeAtOnce: Resume right after Pause, before the run has
// stopped, continues the upload (before, the run's end was taken for a
// failure: "context canceled", 5 of 5).
func TestPauseResumeAtOnce(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	env.setFaults(slow)
	path, data := writeFile(t, "flip.bin", 6<<20, 31)
	u := env.engine(fastOptions(checkpoint.NewMemoryStore())).start(context.Background(), openSource(t, path))
	waitFor(t, "uploading", func() bool { return u.Progress().State == StateUploading })
	for range 5 {
		u.Pause()
		u.Resume()
	}
	env.setFaults(faults.Config{})
	res, err := wait(t, u)
	if err != nil {
		t.Fatalf("pause then resume at once: %v", err)
	}
	env.checkObject(res, data)
}

// TestControlWhileQueued: pause and cancel of an upload still waiting for
// a slot take effect at once, and are never lost.
func TestControlWhileQueued(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	env.setFaults(slow)
	o := fastOptions(checkpoint.NewMemoryStore())
	o.MaxUploads = 1
	eng := env.engine(o)
	p1, _ := writeFile(t, "first.bin", 4<<20, 32)
	p2, data2 := writeFile(t, "second.bin", 1000, 33)
	p3, _ := writeFile(t, "third.bin", 1000, 34)
	u1 := eng.start(context.Background(), openSource(t, p1))
	u2 := eng.start(context.Background(), openSource(t, p2))
	u3 := eng.start(context.Background(), openSource(t, p3))
	if s := u2.Progress().State; s != StateQueued {
		t.Fatalf("second upload %s, want queued", s)
	}
	u2.Pause()
	if s := u2.Progress().State; s != StatePaused {
		t.Fatalf("paused while queued: %s", s)
	}
	if err := u3.Cancel(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := wait(t, u3); !errors.Is(err, ErrCanceled) {
		t.Fatalf("canceled while queued: %v", err)
	}
	if err := u1.Cancel(context.Background()); err != nil {
		t.Fatal(err)
	}
	env.setFaults(faults.Config{})
	time.Sleep(100 * time.Millisecond)
	if s := u2.Progress().State; s != StatePaused {
		t.Fatalf("a paused upload took the free slot: %s", s)
	}
	u2.Resume()
	res, err := wait(t, u2)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data2)
	if ids := env.multipartUploads(); len(ids) != 0 {
		t.Fatalf("canceled uploads left open: %v", ids)
	}
}

// TestCancelAfterFailureDiscards: Cancel on a failed upload aborts its
// multipart upload and deletes its checkpoint (before, it did nothing and
// both stayed for good).
func TestCancelAfterFailureDiscards(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	store := checkpoint.NewMemoryStore()
	env.setFaults(faults.Config{Rules: []faults.Rule{{Op: "UploadPart", ErrorRate: 1}}})
	o := fastOptions(store)
	o.Patience, o.MaxAttempts = -1, 2
	path, _ := writeFile(t, "fails.bin", 4<<20, 35)
	u := env.engine(o).start(context.Background(), openSource(t, path))
	if _, err := wait(t, u); err == nil {
		t.Fatal("upload did not fail")
	}
	if ids := env.multipartUploads(); len(ids) != 1 {
		t.Fatalf("open uploads after the failure: %v", ids)
	}
	if err := u.Cancel(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ids := env.multipartUploads(); len(ids) != 0 {
		t.Fatalf("Cancel after failure left %v", ids)
	}
	if p, _ := Pending(context.Background(), store); len(p) != 0 {
		t.Fatalf("Cancel after failure left checkpoints %+v", p)
	}
}

// TestCancelWhileCompletingIsTooLate: once the object is stored, Cancel
// answers ErrTooLate and the upload ends done, verified — never
// "canceled" with the object left behind.
func TestCancelWhileCompletingIsTooLate(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	tr := &outage{inner: env.trans, path: "/api/v1/uploads/complete"}
	tr.down.Store(true)
	path, data := writeFile(t, "late.bin", 3<<20, 36)
	u := New(tr, env.backend(), fastOptions(checkpoint.NewMemoryStore())).start(context.Background(), openSource(t, path))
	waitFor(t, "complete refused", func() bool { return tr.refused.Load() > 0 })
	if s := u.Progress().State; s != StateCompleting {
		t.Fatalf("state %s, want completing", s)
	}
	err := u.Cancel(context.Background())
	if !errors.Is(err, ErrTooLate) || CodeOf(err) != "too_late" {
		t.Fatalf("Cancel while completing: %v, want ErrTooLate", err)
	}
	tr.down.Store(false)
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
}

// TestVerifyOnlySurvivesAReload: the backend refuses complete (an outage)
// and the page goes away: the checkpoint is kept verify-only, Pending says
// so, and ResumeStored — without the file — finishes the upload with no
// byte sent again.
func TestVerifyOnlySurvivesAReload(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	store := checkpoint.NewMemoryStore()
	for _, size := range []int{3<<20 + 1, 1000} {
		tr := &outage{inner: env.trans, path: "/api/v1/uploads/complete"}
		tr.down.Store(true)
		path, data := writeFile(t, "verify.bin", size, uint64(37+size))
		ctx, crash := context.WithCancel(context.Background())
		u := New(tr, env.backend(), fastOptions(store)).start(ctx, openSource(t, path))
		waitFor(t, "complete refused", func() bool { return tr.refused.Load() > 0 })
		crash()
		if _, err := wait(t, u); !errors.Is(err, context.Canceled) {
			t.Fatalf("crashed upload: %v", err)
		}
		pending, err := Pending(context.Background(), store)
		if err != nil || len(pending) != 1 || !pending[0].VerifyOnly || pending[0].BytesDone != int64(size) {
			t.Fatalf("pending after the reload: %+v %v, want one verify-only upload", pending, err)
		}
		eng := env.engine(fastOptions(store))
		before, puts := env.uploadPartBytes(), env.opRequests("PutObject")
		u, err = eng.ResumeStored(context.Background(), pending[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		res, err := wait(t, u)
		if err != nil {
			t.Fatal(err)
		}
		env.checkObject(res, data)
		if env.uploadPartBytes() != before || env.opRequests("PutObject") != puts {
			t.Fatal("data sent again to verify a stored object")
		}
		if p, _ := Pending(context.Background(), store); len(p) != 0 {
			t.Fatalf("checkpoint left after verification: %+v", p)
		}
	}
}

// TestResumeStoredNeedsFile: ResumeStored of an upload with data left to
// send answers ErrFileNeeded.
func TestResumeStoredNeedsFile(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	store := checkpoint.NewMemoryStore()
	path, _ := writeFile(t, "needs.bin", 8<<20, 38)
	old := crashMidway(t, env, store, path, 1<<20)
	_, err := env.engine(fastOptions(store)).ResumeStored(context.Background(), checkpoint.ID(old.File))
	if !errors.Is(err, ErrFileNeeded) || CodeOf(err) != "file_needed" {
		t.Fatalf("ResumeStored: %v, want ErrFileNeeded", err)
	}
}

// panicky is a Source whose reads panic, as syscall/js does when a JS call
// throws.
type panicky struct{ *FileSource }

func (p panicky) ReadAt(context.Context, []byte, int64) (int, error) {
	panic("JavaScript error: NotReadableError: the file could not be read")
}

// TestPanicFailsOneUpload: a panic inside an upload (a JS exception in the
// browser) fails that upload with a code; the Engine and its other
// uploads go on (before, it killed the engine for every upload).
func TestPanicFailsOneUpload(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	o := fastOptions(nil)
	o.MaxUploads = 1
	eng := env.engine(o)
	p1, _ := writeFile(t, "bad.bin", 1000, 39)
	p2, data := writeFile(t, "good.bin", 1000, 40)
	bad := eng.start(context.Background(), panicky{openSource(t, p1)})
	good := eng.start(context.Background(), openSource(t, p2))
	if _, err := wait(t, bad); CodeOf(err) != "engine_error" || !strings.Contains(err.Error(), "NotReadableError") {
		t.Fatalf("panicking upload: %v", err)
	}
	res, err := wait(t, good)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
}

// hangingStore never answers, as an IndexedDB blocked by an old tab.
type hangingStore struct{ checkpoint.Store }

func (hangingStore) Load(ctx context.Context, _ string) (*checkpoint.Record, error) {
	<-ctx.Done()
	select {} // ignores its context too
}

func (hangingStore) Save(ctx context.Context, _ string, _ *checkpoint.Record) error {
	select {}
}

// TestHangingStoreDegrades: a checkpoint store that never answers costs
// resumability, reported once as a warning, not the upload.
func TestHangingStoreDegrades(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	o := fastOptions(hangingStore{checkpoint.NewMemoryStore()})
	o.StoreTimeout = 100 * time.Millisecond
	path, data := writeFile(t, "hang.bin", 3<<20, 41)
	u := env.engine(o).start(context.Background(), openSource(t, path))
	rec := record(u)
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
	warnings := 0
	for _, ev := range rec.all() {
		if ev.Kind == EventWarning && ev.Code == "storage_unavailable" {
			warnings++
		}
	}
	if warnings != 1 {
		t.Fatalf("%d storage warnings, want 1", warnings)
	}
}

// TestLocks: no locks in the browser → the upload completes with a
// warning; the lock held elsewhere → it fails with code locked and its
// checkpoint stays.
func TestLocks(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	o := fastOptions(checkpoint.NewMemoryStore())
	o.Lock = func(context.Context, string) (func(), error) { return nil, ErrNoLocks }
	path, data := writeFile(t, "nolocks.bin", 1000, 42)
	u := env.engine(o).start(context.Background(), openSource(t, path))
	rec := record(u)
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
	warned := false
	for _, ev := range rec.all() {
		warned = warned || ev.Kind == EventWarning && ev.Code == "no_web_locks"
	}
	if !warned {
		t.Fatal("no warning without locks")
	}
	o.Lock = func(context.Context, string) (func(), error) { return nil, ErrLocked }
	u = env.engine(o).start(context.Background(), openSource(t, path))
	if _, err := wait(t, u); CodeOf(err) != "locked" {
		t.Fatalf("locked elsewhere: %v", err)
	}
}

// TestResumedProgressStartsFromCheckpoint: while a resumed upload is
// still checking (ListParts held back here), its progress already shows
// what the checkpoint confirmed, not 0 (before, the figure was set only
// once reconciliation ended).
func TestResumedProgressStartsFromCheckpoint(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	store := checkpoint.NewMemoryStore()
	path, _ := writeFile(t, "figures.bin", 8<<20, 43)
	old := crashMidway(t, env, store, path, 2<<20)
	listing := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	tr := transportFunc(func(ctx context.Context, r *Request) (*Response, error) {
		if r.Method == http.MethodGet && strings.Contains(r.URL, "uploadId=") {
			once.Do(func() { close(listing) })
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return env.trans.Do(ctx, r)
	})
	u := New(tr, env.backend(), fastOptions(store)).start(context.Background(), openSource(t, path))
	select {
	case <-listing:
	case <-time.After(30 * time.Second):
		t.Fatal("the resumed upload never listed its parts")
	}
	p := u.Progress()
	close(release)
	if p.State != StateChecking || p.BytesConfirmed != old.Done() {
		t.Fatalf("while checking: %+v, want the checkpoint's %d bytes confirmed", p, old.Done())
	}
	if _, err := wait(t, u); err != nil {
		t.Fatal(err)
	}
}

// TestQueuedUploadsAreLight: thousands of queued uploads cost no
// goroutine each.
func TestQueuedUploadsAreLight(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	env.setFaults(slow)
	o := fastOptions(nil)
	o.MaxUploads = 1
	var delivered atomic.Int64
	o.OnEvent = func(string, Event) { delivered.Add(1) }
	eng := env.engine(o)
	path, _ := writeFile(t, "queued.bin", 1000, 44)
	before := runtime.NumGoroutine()
	var ups []*Upload
	for i := range 2000 {
		src := openSource(t, path)
		src.id.Name = "queued-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "-" + time.Duration(i).String()
		ups = append(ups, eng.start(context.Background(), src))
	}
	if n := runtime.NumGoroutine() - before; n > 100 {
		t.Fatalf("%d goroutines for 2000 queued uploads", n)
	}
	for _, u := range ups {
		_ = u.Cancel(context.Background())
	}
}

// startLog records, for each UploadPart request as it starts, how many part
// bytes the requests before it had reported sent.
type startLog struct {
	inner Transport
	mu    sync.Mutex
	sent  int64
	at    []int64
}

func (s *startLog) Do(ctx context.Context, r *Request) (*Response, error) {
	if r.Method == http.MethodPut && strings.Contains(r.URL, "partNumber=") {
		s.mu.Lock()
		s.at = append(s.at, s.sent)
		s.mu.Unlock()
		var last int64
		inner := r.OnProgress
		r.OnProgress = func(n int64) {
			s.mu.Lock()
			s.sent += n - last
			last = n
			s.mu.Unlock()
			if inner != nil {
				inner(n)
			}
		}
	}
	return s.inner.Do(ctx, r)
}

// TestPartsAreStaggered: the parts in flight start a fraction of a part
// apart, so on a slow or shared link they finish one after another and
// confirmed progress moves every part/workers bytes instead of in steps of
// workers parts (before, all four started together and finished together).
func TestPartsAreStaggered(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	env.setFaults(slow)
	tr := &startLog{inner: env.trans}
	o := fastOptions(nil)
	o.Concurrency = 4
	path, data := writeFile(t, "stagger.bin", 8<<20, 45)
	res, err := wait(t, New(tr, env.backend(), o).start(context.Background(), openSource(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
	step := int64(1<<20) / 4
	for w := 1; w < 4; w++ {
		if tr.at[w] < int64(w)*step {
			t.Fatalf("part request %d started after %d bytes sent, want >= %d (starts: %v)", w+1, tr.at[w], int64(w)*step, tr.at[:4])
		}
	}
}
