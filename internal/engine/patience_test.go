//go:build !js

package engine

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/checkpoint"
)

// dropParts is a transport whose UploadPart requests fail without an
// answer, as on flaky Wi-Fi (navigator.onLine stays true), once after
// parts have been sent, for as long as drop says.
type dropParts struct {
	inner   Transport
	okParts atomic.Int64
	dropped atomic.Int64
	// drop decides, for an UploadPart after `after` good ones, whether it
	// fails.
	after int64
	drop  func() bool
}

func (d *dropParts) Do(ctx context.Context, r *Request) (*Response, error) {
	if r.Method == http.MethodPut && strings.Contains(r.URL, "partNumber=") {
		if d.okParts.Load() >= d.after && d.drop() {
			d.dropped.Add(1)
			return nil, errors.New("net::ERR_NETWORK_CHANGED")
		}
		resp, err := d.inner.Do(ctx, r)
		if err == nil {
			d.okParts.Add(1)
		}
		return resp, err
	}
	return d.inner.Do(ctx, r)
}

// TestFlakyNetworkIsRiddenOut: once UploadPart has answered, a run of
// dropped requests far longer than MaxAttempts is retried within
// Patience and the upload completes identical.
func TestFlakyNetworkIsRiddenOut(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	var left atomic.Int64
	left.Store(12)
	tr := &dropParts{inner: env.trans, after: 1, drop: func() bool { return left.Add(-1) >= 0 }}
	o := fastOptions(checkpoint.NewMemoryStore())
	o.MaxAttempts, o.Concurrency = 3, 1
	path, data := writeFile(t, "flaky.bin", 3<<20+7, 21)
	res, err := wait(t, New(tr, env.backend(), o).start(context.Background(), openSource(t, path)))
	if err != nil {
		t.Fatalf("a flaky network failed the upload after %d drops: %v", tr.dropped.Load(), err)
	}
	if n := tr.dropped.Load(); n != 12 {
		t.Fatalf("%d requests dropped, want 12", n)
	}
	env.checkObject(res, data)
}

// TestUnprovenRouteFailsAfterAttempts: when UploadPart has never answered
// (a CORS preflight refusal looks the same), the upload fails after
// MaxAttempts without waiting out Patience.
func TestUnprovenRouteFailsAfterAttempts(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	tr := &dropParts{inner: env.trans, drop: func() bool { return true }}
	o := fastOptions(checkpoint.NewMemoryStore())
	o.MaxAttempts, o.Concurrency = 3, 1
	path, _ := writeFile(t, "refused.bin", 3<<20, 22)
	start := time.Now()
	_, err := wait(t, New(tr, env.backend(), o).start(context.Background(), openSource(t, path)))
	var ue *UploadError
	if !errors.As(err, &ue) || ue.Code != "NetworkError" || ue.Attempts != 3 || ue.Op != "UploadPart" {
		t.Fatalf("error %#v", err)
	}
	if !strings.Contains(ue.Hint, "<AllowedOrigin>") || !strings.Contains(err.Error(), ue.Hint) {
		t.Fatalf("the error does not name the CORS rule a refusal would need: hint %q, error %v", ue.Hint, err)
	}
	if d := time.Since(start); d > DefaultPatience/2 {
		t.Fatalf("reported after %s: Patience applied to a route that never answered", d)
	}
}

// TestPatienceRunsOut: a proven route that stays down fails the
// upload once Patience has passed, with more attempts than
// MaxAttempts spent.
func TestPatienceRunsOut(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	tr := &dropParts{inner: env.trans, after: 1, drop: func() bool { return true }}
	o := fastOptions(checkpoint.NewMemoryStore())
	o.MaxAttempts, o.Concurrency, o.Patience = 3, 1, 300*time.Millisecond
	path, _ := writeFile(t, "down.bin", 3<<20, 23)
	start := time.Now()
	_, err := wait(t, New(tr, env.backend(), o).start(context.Background(), openSource(t, path)))
	var ue *UploadError
	if !errors.As(err, &ue) || ue.Code != "NetworkError" || ue.Attempts <= 3 {
		t.Fatalf("error %#v", err)
	}
	if ue.Hint != "" || strings.Contains(err.Error(), "CORS") {
		t.Fatalf("a route that answered before is blamed on CORS: %v", err)
	}
	if d := time.Since(start); d < o.Patience {
		t.Fatalf("gave up after %s, before Patience %s", d, o.Patience)
	}
}

// TestOfflineTimeKeepsPatience: the browser goes offline for longer than
// Patience after UploadPart answered; once back online, requests
// still fail for a moment. Time spent offline did not use up the patience,
// so the upload completes.
func TestOfflineTimeKeepsPatience(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	var offline atomic.Bool
	var afterOnline atomic.Int64 // drops left once back online
	tr := &dropParts{inner: env.trans, after: 1, drop: func() bool {
		if offline.Load() {
			return true
		}
		return afterOnline.Add(-1) >= 0
	}}
	o := fastOptions(checkpoint.NewMemoryStore())
	o.MaxAttempts, o.Concurrency, o.Patience = 2, 1, 300*time.Millisecond
	var waits atomic.Int64
	o.WaitOnline = waitOnlineWhen(func() bool { return !offline.Load() }, &waits)
	path, data := writeFile(t, "asleep.bin", 3<<20+1, 24)
	u := New(tr, env.backend(), o).start(context.Background(), openSource(t, path))
	waitFor(t, "the first part", func() bool { return tr.okParts.Load() >= 1 })
	afterOnline.Store(3)
	offline.Store(true)
	waitFor(t, "WaitOnline", func() bool { return waits.Load() > 0 })
	time.Sleep(3 * o.Patience)
	offline.Store(false)
	res, err := wait(t, u)
	if err != nil {
		t.Fatalf("after %s offline and %d drops online, the upload failed: %v", 3*o.Patience, tr.dropped.Load(), err)
	}
	env.checkObject(res, data)
}

// outage answers 503 to requests whose URL contains path while down is
// set, counting them, and leaves the rest to inner.
type outage struct {
	inner   Transport
	path    string
	down    atomic.Bool
	refused atomic.Int64
	hang    bool // hang until the request's context ends instead of answering
}

func (o *outage) Do(ctx context.Context, r *Request) (*Response, error) {
	if o.down.Load() && strings.Contains(r.URL, o.path) {
		o.refused.Add(1)
		if o.hang {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return &Response{Status: http.StatusServiceUnavailable, Header: Header{"Content-Type": {"application/json"}},
			Body: []byte(`{"error":{"code":"sts_unavailable","message":"STS is throttled"}}`)}, nil
	}
	return o.inner.Do(ctx, r)
}

// TestBackendOutageDuringComplete: the backend answers 503 for far longer
// than MaxAttempts quick attempts while complete runs (a webhook receiver
// down, a deploy): the upload waits it out within Patience and ends done,
// the object verified, nothing sent twice. Before, the sixth 503 failed
// the upload and threw its checkpoint away although the object was stored.
func TestBackendOutageDuringComplete(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	tr := &outage{inner: env.trans, path: "/api/v1/uploads/complete"}
	tr.down.Store(true)
	o := fastOptions(checkpoint.NewMemoryStore())
	o.MaxAttempts = 3
	path, data := writeFile(t, "outage.bin", 3<<20+5, 22)
	u := New(tr, env.backend(), o).start(context.Background(), openSource(t, path))
	waitFor(t, "complete refused", func() bool { return tr.refused.Load() > int64(3*o.MaxAttempts) })
	before := env.uploadPartBytes()
	tr.down.Store(false)
	res, err := wait(t, u)
	if err != nil {
		t.Fatalf("a backend outage during complete failed the upload after %d refusals: %v", tr.refused.Load(), err)
	}
	if after := env.uploadPartBytes(); after != before {
		t.Fatalf("%d bytes sent again after the outage", after-before)
	}
	env.checkObject(res, data)
}

// TestHungBackendTimesOut: a backend that accepts the call and never
// answers is cut off after Options.BackendTimeout and tried again, so the
// upload does not stick in checking.
func TestHungBackendTimesOut(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	tr := &outage{inner: env.trans, path: "/api/v1/uploads", hang: true}
	tr.down.Store(true)
	o := fastOptions(nil)
	o.BackendTimeout = 100 * time.Millisecond
	path, data := writeFile(t, "hung.bin", 1000, 23)
	u := New(tr, env.backend(), o).start(context.Background(), openSource(t, path))
	waitFor(t, "two hung calls", func() bool { return tr.refused.Load() >= 2 })
	tr.down.Store(false)
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
}

// TestProvenRoutesSurviveARestart: the routes proven in one Engine (one
// page load) are proven for the next one over the same Options.Routes, so
// a resume whose first UploadParts drop gets the full patience; without
// the store they would count as a possible CORS refusal and fail after
// MaxAttempts (before, every reload forgot them).
func TestProvenRoutesSurviveARestart(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	routes := KVRoutes(checkpoint.NewMemoryKV())
	o := fastOptions(nil)
	o.Routes = routes
	p1, d1 := writeFile(t, "first.bin", 2<<20, 51)
	res, err := wait(t, env.engine(o).start(context.Background(), openSource(t, p1)))
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, d1)

	run := func(o Options) error {
		var left atomic.Int64
		left.Store(8)
		tr := &dropParts{inner: env.trans, drop: func() bool { return left.Add(-1) >= 0 }}
		o.MaxAttempts, o.Concurrency = 2, 1
		p, _ := writeFile(t, "second.bin", 2<<20, 52)
		_, err := wait(t, New(tr, env.backend(), o).start(context.Background(), openSource(t, p)))
		return err
	}
	if err := run(fastOptions(nil)); err == nil {
		t.Fatal("without the stored routes, drops on a fresh engine were ridden out: the control case proves nothing")
	}
	o = fastOptions(nil)
	o.Routes = routes
	if err := run(o); err != nil {
		t.Fatalf("with the routes proven by the earlier engine: %v", err)
	}
}
