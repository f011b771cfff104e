//go:build !js

package engine

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestBackendUnreachableWaitsForNetwork drops backend calls as a dropped
// network would: when the file is started (backend.create) and again when
// the object is to be verified (backend.complete). The upload waits for
// the network each time instead of failing at the first backend call.
func TestBackendUnreachableWaitsForNetwork(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	var online atomic.Bool
	var dropped, waits atomic.Int64
	var completeSeen atomic.Bool
	tr := transportFunc(func(ctx context.Context, r *Request) (*Response, error) {
		if strings.HasSuffix(r.URL, "/api/v1/uploads/complete") && !completeSeen.Swap(true) {
			// The network drops just as the verification is asked for,
			// and comes back a little later.
			online.Store(false)
			time.AfterFunc(200*time.Millisecond, func() { online.Store(true) })
		}
		if !online.Load() {
			dropped.Add(1)
			return nil, errors.New("net::ERR_INTERNET_DISCONNECTED")
		}
		return env.trans.Do(ctx, r)
	})
	o := fastOptions(nil)
	o.MaxAttempts = 3
	o.WaitOnline = waitOnlineWhen(online.Load, &waits)
	path, data := writeFile(t, "backend-offline.bin", 3<<20+5, 17)
	u := New(tr, env.backend(), o).start(context.Background(), openSource(t, path))
	waitFor(t, "WaitOnline or the end", func() bool { return waits.Load() > 0 || u.Progress().State.Final() })
	// Offline for a while: more than the attempts' backoff would last.
	time.Sleep(200 * time.Millisecond)
	if st := u.Progress().State; st.Final() {
		_, err := u.Wait(context.Background())
		t.Fatalf("started offline: the upload ended (%s) instead of waiting: %v", st, err)
	}
	online.Store(true)
	res, err := wait(t, u)
	if err != nil {
		t.Fatalf("after %d dropped requests: %v", dropped.Load(), err)
	}
	if !completeSeen.Load() || waits.Load() < 2 {
		t.Fatalf("the outage at completion did not happen (%d waits)", waits.Load())
	}
	env.checkObject(res, data)
}
