//go:build !js

package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ossup/ossup/internal/checkpoint"
)

func TestUploadSizes(t *testing.T) {
	env := startEnv(t, nil)
	store := checkpoint.NewMemoryStore()
	eng := env.engine(fastOptions(store))
	for _, size := range []int{0, 1, 100<<10 - 1, 1 << 20, 5<<20 + 12345} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			path, data := writeFile(t, fmt.Sprintf("f%d.bin", size), size, uint64(size))
			initiated := env.opRequests("InitiateMultipartUpload")
			u := eng.start(context.Background(), openSource(t, path))
			rec := record(u)
			res, err := wait(t, u)
			if err != nil {
				t.Fatal(err)
			}
			env.checkObject(res, data)
			// Below the 1 MiB part size: one PutObject; from it on: multipart.
			if multipart := env.opRequests("InitiateMultipartUpload") > initiated; multipart != (size >= 1<<20) {
				t.Fatalf("multipart %v for %d bytes", multipart, size)
			}
			evs := rec.all()
			if last := evs[len(evs)-1]; last.Kind != EventState || last.Progress.State != StateDone || last.Result == nil {
				t.Fatalf("last event %+v", last)
			}
			if p := u.Progress(); p.BytesConfirmed != int64(size) || p.Total != int64(size) {
				t.Fatalf("progress %+v", p)
			}
			if _, err := store.Load(context.Background(), u.ID()); !errors.Is(err, checkpoint.ErrNotFound) {
				t.Fatalf("checkpoint left after success: %v", err)
			}
		})
	}
	if ids := env.multipartUploads(); len(ids) != 0 {
		t.Fatalf("multipart uploads left: %v", ids)
	}
}

func TestManyParts(t *testing.T) {
	t.Parallel()
	env := startEnv(t, map[string]string{"OSSUP_PART_SIZE": "5242880"})
	path, data := writeFile(t, "big.bin", 24<<20, 24)
	u := env.engine(fastOptions(checkpoint.NewMemoryStore())).start(context.Background(), openSource(t, path))
	rec := record(u)
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
	if n := env.opRequests("UploadPart"); n != 5 {
		t.Fatalf("%d UploadPart requests, want 5", n)
	}
	if n := env.uploadPartBytes(); n != int64(len(data)) {
		t.Fatalf("UploadPart received %d bytes, want %d", n, len(data))
	}
	var states []State
	var last int64
	for _, ev := range rec.all() {
		if ev.Kind == EventState {
			states = append(states, ev.Progress.State)
		}
		if ev.Progress.BytesConfirmed < last {
			t.Fatalf("confirmed bytes went back from %d to %d", last, ev.Progress.BytesConfirmed)
		}
		last = ev.Progress.BytesConfirmed
	}
	want := []State{StateQueued, StateChecking, StateUploading, StateCompleting, StateDone}
	if fmt.Sprint(states) != fmt.Sprint(want) {
		t.Fatalf("states %v, want %v", states, want)
	}
}

// TestQueue sends 20 small files (and two multipart ones) through one
// Engine with a small budget, checking that bodies in flight never exceed
// it.
func TestQueue(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	var mu sync.Mutex
	var inFlight, peak int64
	trans := transportFunc(func(ctx context.Context, r *Request) (*Response, error) {
		n := r.bodyLen()
		if r.Body != nil {
			mu.Lock()
			inFlight += n
			peak = max(peak, inFlight)
			mu.Unlock()
			defer func() { mu.Lock(); inFlight -= n; mu.Unlock() }()
		}
		return env.trans.Do(ctx, r)
	})
	o := fastOptions(checkpoint.NewMemoryStore())
	o.MaxBytesInFlight = 1 << 20
	eng := New(trans, env.backend(), o)
	type job struct {
		u    *Upload
		data []byte
	}
	var jobs []job
	for i := range 22 {
		size := (i * 15331) % (300 << 10)
		if i >= 20 {
			size = 3<<19 + i
		}
		path, data := writeFile(t, fmt.Sprintf("q%02d.txt", i), size, uint64(i))
		jobs = append(jobs, job{eng.start(context.Background(), openSource(t, path)), data})
	}
	for _, j := range jobs {
		res, err := wait(t, j.u)
		if err != nil {
			t.Fatalf("%s: %v", j.u.ID(), err)
		}
		env.checkObject(res, j.data)
	}
	if peak > o.MaxBytesInFlight {
		t.Fatalf("%d bytes in flight at once, budget %d", peak, o.MaxBytesInFlight)
	}
	if peak == 0 {
		t.Fatal("no bodies seen")
	}
}
