//go:build !js

package engine

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/ossup/ossup/internal/checkpoint"
)

// inFlight counts the UploadPart requests a transport has open at once.
type inFlight struct {
	t        Transport
	mu       sync.Mutex
	now, max int
}

func (f *inFlight) Do(ctx context.Context, r *Request) (*Response, error) {
	part := r.Method == "PUT" && strings.Contains(r.URL, "partNumber=")
	if part {
		f.mu.Lock()
		f.now++
		f.max = max(f.max, f.now)
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.now--
			f.mu.Unlock()
		}()
	}
	return f.t.Do(ctx, r)
}

func (f *inFlight) peak() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.max
}

// TestResumeKeepsRecordedConcurrency: the backend decided 2 parts at once
// (OSSUP_CONCURRENCY) where the engine's default is 4; an upload resumed
// from its checkpoint by a fresh engine (nothing learned, no
// Options.Concurrency) sends 2 at once too, not the default. Before the
// checkpoint kept the backend's figure, a resume ignored it.
func TestResumeKeepsRecordedConcurrency(t *testing.T) {
	t.Parallel()
	const backendConc = 2
	if backendConc >= defaultConcurrency {
		t.Fatal("the test needs the backend's figure below the engine's default")
	}
	env := startEnv(t, map[string]string{"OSSUP_CONCURRENCY": "2"})
	store := checkpoint.NewMemoryStore()
	path, data := writeFile(t, "conc.bin", 16<<20, 7)
	rec := crashMidway(t, env, store, path, 2<<20)
	if rec.Concurrency != backendConc {
		t.Fatalf("checkpoint records concurrency %d, want the backend's %d", rec.Concurrency, backendConc)
	}

	// Slow parts, so the engine has every chance to open more than two.
	env.setFaults(slow)
	counter := &inFlight{t: env.trans}
	u := New(counter, env.backend(), fastOptions(store)).start(context.Background(), openSource(t, path))
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
	if n := env.opRequests("InitiateMultipartUpload"); n != 1 {
		t.Fatalf("%d uploads initiated, want 1 (resumed)", n)
	}
	if got := counter.peak(); got != backendConc {
		t.Fatalf("resumed upload sent up to %d parts at once, want the recorded %d", got, backendConc)
	}
}
