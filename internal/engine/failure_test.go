//go:build !js

package engine

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/localcloud/faults"
)

// counting wraps the test transport and counts credential refreshes and
// OSS answers refusing credentials.
type counting struct {
	env       *testEnv
	refreshes atomic.Int64
	refused   atomic.Int64
}

func (c *counting) Do(ctx context.Context, r *Request) (*Response, error) {
	resp, err := c.env.trans.Do(ctx, r)
	if strings.HasSuffix(r.URL, "/api/v1/uploads/credentials") {
		c.refreshes.Add(1)
	}
	if err == nil && resp.Status == http.StatusForbidden && authCodes[ossError(resp).Code] {
		c.refused.Add(1)
	}
	return resp, err
}

// shortCreds makes the local STS mint credentials that live 3 s, and slows
// OSS so the upload takes several lifetimes.
var shortCreds = map[string]string{"OSSUP_STS_MIN_DURATION": "3s", "OSSUP_STS_DURATION": "3s"}

func TestCredentialsRefreshedBeforeExpiry(t *testing.T) {
	t.Parallel()
	env := startEnv(t, shortCreds)
	env.setFaults(faults.Config{BandwidthBytesPerSec: 768 << 10})
	path, data := writeFile(t, "long.bin", 7<<20, 6)
	tr := &counting{env: env}
	o := fastOptions(checkpoint.NewMemoryStore())
	o.Concurrency = 2
	// Half the lifetime leaves 1.5 s of margin for a slow machine.
	o.RefreshAt = 0.5
	u := New(tr, env.backend(), o).start(context.Background(), openSource(t, path))
	rec := record(u)
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.setFaults(faults.Config{})
	env.checkObject(res, data)
	if tr.refreshes.Load() < 1 || tr.refused.Load() != 0 {
		t.Fatalf("%d refreshes, %d refusals over a ~5 s upload with 3 s credentials", tr.refreshes.Load(), tr.refused.Load())
	}
	rated := false
	for _, ev := range rec.all() {
		if ev.Kind == EventRetry || ev.Err != nil {
			t.Fatalf("unexpected event %+v", ev)
		}
		rated = rated || (ev.Kind == EventProgress && ev.Progress.BytesPerSec > 0 && ev.Progress.ETA > 0)
	}
	if !rated {
		t.Fatal("no progress event with a rate and an ETA")
	}
}

// slowClock runs at a thousandth of real time, so the engine never thinks
// credentials are due: every refresh is a reaction to OSS refusing them.
type slowClock struct{ start time.Time }

func (c slowClock) Now() time.Time                         { return c.start.Add(time.Since(c.start) / 1000) }
func (c slowClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func TestCredentialsRefreshedWhenRefused(t *testing.T) {
	t.Parallel()
	env := startEnv(t, shortCreds)
	env.setFaults(faults.Config{BandwidthBytesPerSec: 768 << 10})
	path, data := writeFile(t, "refused.bin", 7<<20, 7)
	tr := &counting{env: env}
	o := fastOptions(checkpoint.NewMemoryStore())
	o.Concurrency = 2
	o.Clock = slowClock{time.Now()}
	u := New(tr, env.backend(), o).start(context.Background(), openSource(t, path))
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.setFaults(faults.Config{})
	env.checkObject(res, data)
	if tr.refused.Load() == 0 || tr.refreshes.Load() == 0 {
		t.Fatalf("%d refusals, %d refreshes: expiry was not exercised", tr.refused.Load(), tr.refreshes.Load())
	}
}

func TestFaultsGiveIdenticalUpload(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	env.setFaults(faults.Config{Seed: 42, Rules: []faults.Rule{
		// Each kind of fault surely, then at random.
		{Op: "UploadPart", ErrorRate: 1, Count: 2},
		{Op: "UploadPart", ResetRate: 1, Count: 2},
		{Op: "UploadPart", CorruptCRCRate: 1, Count: 2},
		{Op: "UploadPart", StallRate: 1, Stall: faults.Duration(2 * time.Second), Count: 1},
		{Op: "UploadPart", ErrorRate: 0.1, ResetRate: 0.1, CorruptCRCRate: 0.1},
		{Op: "InitiateMultipartUpload", ErrorRate: 0.5, Count: 1},
		{Op: "CompleteMultipartUpload", ErrorRate: 0.5, ResetRate: 0.3, Count: 2},
		{Op: "PutObject", ErrorRate: 1, Count: 1},
		{Op: "PutObject", CorruptCRCRate: 1, Count: 1},
	}})
	o := fastOptions(checkpoint.NewMemoryStore())
	o.MaxAttempts = 12
	o.StallTimeout = 500 * time.Millisecond
	eng := env.engine(o)
	for _, size := range []int{10 << 20, 200 << 10} {
		path, data := writeFile(t, "faulty.bin", size, uint64(size))
		u := eng.start(context.Background(), openSource(t, path))
		rec := record(u)
		res, err := wait(t, u)
		if err != nil {
			t.Fatal(err)
		}
		env.checkObject(res, data)
		retries := 0
		for _, ev := range rec.all() {
			if ev.Kind == EventRetry {
				retries++
			}
		}
		if retries == 0 {
			t.Fatalf("size %d: no retries under fault injection", size)
		}
	}
	st := env.cl.Faults.Stats()["UploadPart"]
	if st.Errors < 2 || st.Resets < 2 || st.CorruptCRC < 2 || st.Stalls < 1 {
		t.Fatalf("faults not all exercised: %+v", st)
	}
}

func TestStalledRequestIsRetried(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	env.setFaults(faults.Config{Rules: []faults.Rule{{Op: "PutObject", StallRate: 1, Stall: faults.Duration(3 * time.Second), Count: 1}}})
	path, data := writeFile(t, "stall.bin", 50<<10, 8)
	o := fastOptions(nil)
	o.StallTimeout = 300 * time.Millisecond
	u := env.engine(o).start(context.Background(), openSource(t, path))
	rec := record(u)
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
	stalled := false
	for _, ev := range rec.all() {
		stalled = stalled || (ev.Kind == EventRetry && errors.Is(ev.Err, errStalled))
	}
	if !stalled {
		t.Fatal("no retry for the stalled request")
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	env.setFaults(slow)
	store := checkpoint.NewMemoryStore()
	path, _ := writeFile(t, "cancel.bin", 8<<20, 9)
	u := env.engine(fastOptions(store)).start(context.Background(), openSource(t, path))
	waitFor(t, "progress", func() bool { return u.Progress().BytesConfirmed >= 2<<20 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := u.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := wait(t, u); !errors.Is(err, ErrCanceled) {
		t.Fatalf("Wait after Cancel: %v", err)
	}
	if s := u.Progress().State; s != StateCanceled {
		t.Fatalf("state %s", s)
	}
	if ids := env.multipartUploads(); len(ids) != 0 {
		t.Fatalf("uploads left after Cancel: %v", ids)
	}
	if recs, _ := store.List(ctx); len(recs) != 0 {
		t.Fatalf("checkpoints left after Cancel: %d", len(recs))
	}
}

func TestPauseResume(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	env.setFaults(slow)
	var active, sent atomic.Int64
	tr := transportFunc(func(ctx context.Context, r *Request) (*Response, error) {
		active.Add(1)
		sent.Add(1)
		defer active.Add(-1)
		return env.trans.Do(ctx, r)
	})
	path, data := writeFile(t, "pause.bin", 10<<20, 10)
	u := New(tr, env.backend(), fastOptions(checkpoint.NewMemoryStore())).start(context.Background(), openSource(t, path))
	waitFor(t, "progress", func() bool { return u.Progress().BytesConfirmed >= 2<<20 })
	u.Pause()
	waitFor(t, "paused", func() bool { return u.Progress().State == StatePaused })
	if p := u.Progress(); p.BytesSending != 0 || p.BytesConfirmed >= p.Total || active.Load() != 0 {
		t.Fatalf("paused with %+v, %d requests in flight", p, active.Load())
	}
	// The server may still drain what the aborted requests left in socket
	// buffers; after that, nothing arrives.
	settled := func() bool {
		b := env.uploadPartBytes()
		time.Sleep(300 * time.Millisecond)
		return env.uploadPartBytes() == b
	}
	waitFor(t, "server traffic to settle", settled)
	requests, before := sent.Load(), env.uploadPartBytes()
	time.Sleep(500 * time.Millisecond)
	if after := env.uploadPartBytes(); after != before || sent.Load() != requests {
		t.Fatalf("traffic while paused: %d -> %d bytes, %d -> %d requests", before, after, requests, sent.Load())
	}
	u.Resume()
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.setFaults(faults.Config{})
	env.checkObject(res, data)
}

// TestTerminalErrorAfterPatience: an OSS that answers 5xx for good fails
// the upload once Patience has passed, after more attempts than
// MaxAttempts (failure by time, not by count).
func TestTerminalErrorAfterPatience(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	env.setFaults(faults.Config{Rules: []faults.Rule{{Op: "UploadPart", ErrorRate: 1}}})
	path, _ := writeFile(t, "doomed.bin", 2<<20, 11)
	o := fastOptions(checkpoint.NewMemoryStore())
	o.MaxAttempts, o.Patience = 2, 400*time.Millisecond
	start := time.Now()
	u := env.engine(o).start(context.Background(), openSource(t, path))
	_, err := wait(t, u)
	var ue *UploadError
	if !errors.As(err, &ue) {
		t.Fatalf("error %v, want *UploadError", err)
	}
	if d := time.Since(start); d < o.Patience {
		t.Fatalf("gave up after %s, before the patience of %s", d, o.Patience)
	}
	if ue.Op != "UploadPart" || (ue.Code != "InternalError" && ue.Code != "ServiceUnavailable") || ue.RequestID == "" || ue.Attempts <= o.MaxAttempts {
		t.Fatalf("UploadError %+v", ue)
	}
	var oe *OSSError
	if !errors.As(err, &oe) || oe.Status < 500 {
		t.Fatalf("no OSS error inside: %v", err)
	}
	if s := u.Progress().State; s != StateFailed {
		t.Fatalf("state %s", s)
	}
	t.Log(err)
}

func TestTerminalClientErrorIsNotRetried(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	tamper := transportFunc(func(ctx context.Context, r *Request) (*Response, error) {
		if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "OSS4-HMAC-SHA256") {
			r.Header.Set("Authorization", a[:len(a)-4]+"0000")
		}
		return env.trans.Do(ctx, r)
	})
	path, _ := writeFile(t, "tampered.bin", 1000, 12)
	u := New(tamper, env.backend(), fastOptions(nil)).start(context.Background(), openSource(t, path))
	_, err := wait(t, u)
	var ue *UploadError
	if !errors.As(err, &ue) || ue.Code != "SignatureDoesNotMatch" || ue.Attempts != 1 || ue.RequestID == "" || ue.Op != "PutObject" {
		t.Fatalf("error %#v", err)
	}
	if n := env.opRequests("PutObject"); n != 1 {
		t.Fatalf("%d PutObject requests, want 1", n)
	}
}

func TestCORSDiagnosis(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	var mu sync.Mutex
	hide := transportFunc(func(ctx context.Context, r *Request) (*Response, error) {
		resp, err := env.trans.Do(ctx, r)
		if err == nil && !strings.Contains(r.URL, "/api/v1/") {
			mu.Lock()
			resp.Header.Del("ETag")
			mu.Unlock()
		}
		return resp, err
	})
	for _, size := range []int{1000, 2 << 20} {
		path, _ := writeFile(t, "cors.bin", size, 13)
		u := New(hide, env.backend(), fastOptions(checkpoint.NewMemoryStore())).start(context.Background(), openSource(t, path))
		_, err := wait(t, u)
		var ue *UploadError
		if !errors.Is(err, ErrCORS) || !errors.As(err, &ue) || ue.Code != "CORSExposeHeaders" || ue.Attempts != 1 {
			t.Fatalf("size %d: error %v", size, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "<ExposeHeader>ETag</ExposeHeader>") || !strings.Contains(msg, "x-oss-hash-crc64ecma") {
			t.Fatalf("message does not name the rule: %s", msg)
		}
	}
}

// TestOfflineWaitsForNetwork fails OSS requests as a dropped network
// would, and checks that the engine waits for WaitOnline before retrying.
func TestOfflineWaitsForNetwork(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	var online atomic.Bool
	var waits atomic.Int64
	back := make(chan struct{})
	tr := transportFunc(func(ctx context.Context, r *Request) (*Response, error) {
		if !online.Load() && !strings.Contains(r.URL, "/api/v1/") {
			return nil, errors.New("net::ERR_INTERNET_DISCONNECTED")
		}
		return env.trans.Do(ctx, r)
	})
	o := fastOptions(nil)
	o.MaxAttempts = 3
	o.WaitOnline = func(ctx context.Context) error {
		waits.Add(1)
		select {
		case <-back:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	path, data := writeFile(t, "offline.bin", 4000, 14)
	u := New(tr, env.backend(), o).start(context.Background(), openSource(t, path))
	waitFor(t, "WaitOnline", func() bool { return waits.Load() > 0 })
	// Offline for a while: attempts are not spent meanwhile.
	time.Sleep(200 * time.Millisecond)
	if waits.Load() != 1 || u.Progress().State != StateUploading {
		t.Fatalf("%d waits, state %s", waits.Load(), u.Progress().State)
	}
	online.Store(true)
	close(back)
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
}

// TestBackendRefusal: a backend 401 (the page's token expired) holds the
// upload in StateUnauthenticated instead of failing it; new headers from
// the page resume it and it completes.
func TestBackendRefusal(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	b := env.backend()
	good := b.Header.Clone()
	b.Header = Header{"Authorization": {"Bearer wrong-token-0123456789"}}
	path, data := writeFile(t, "refused.bin", 10, 15)
	eng := New(env.trans, b, fastOptions(nil))
	u := eng.start(context.Background(), openSource(t, path))
	waitFor(t, "state unauthenticated", func() bool { return u.Progress().State == StateUnauthenticated })
	time.Sleep(100 * time.Millisecond)
	if s := u.Progress().State; s != StateUnauthenticated {
		t.Fatalf("state %s while the backend refuses the page's token", s)
	}
	eng.SetHeaders(good)
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
}

// TestStartSameFileTwice: a second Start of a file already uploading in
// the Engine is refused with ErrAlreadyUploading (code already_uploading,
// not the cross-tab "locked"); once the upload ended, it starts anew.
func TestStartSameFileTwice(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	env.setFaults(slow)
	path, _ := writeFile(t, "twice.bin", 3<<20, 16)
	eng := env.engine(fastOptions(checkpoint.NewMemoryStore()))
	u1 := eng.start(context.Background(), openSource(t, path))
	u2, err := eng.Start(context.Background(), openSource(t, path))
	if !errors.Is(err, ErrAlreadyUploading) || u2 != nil || CodeOf(err) != "already_uploading" {
		t.Fatalf("second Start: %v, %v; want ErrAlreadyUploading", u2, err)
	}
	if _, err := wait(t, u1); err != nil {
		t.Fatal(err)
	}
	if err := u1.Cancel(context.Background()); err != nil {
		t.Fatalf("Cancel after success: %v", err)
	}
	u3 := eng.start(context.Background(), openSource(t, path))
	if u3 == u1 {
		t.Fatal("a finished upload was returned again")
	}
	if err := u3.Cancel(context.Background()); err != nil && !errors.Is(err, ErrTooLate) {
		t.Fatal(err)
	}
}
