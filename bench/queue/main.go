// Command queue measures what queued uploads cost the engine: heap,
// goroutine stacks and goroutines for N files waiting for a slot, against
// the idle engine, natively (the wasm engine's Go heap behaves alike; the
// page's and the worker's JS objects per file come on top). Issue 10's
// target: 10,000 queued files within 20 MiB above idle.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"runtime"
	"time"

	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/engine"
)

// memSource is a small in-memory file.
type memSource struct {
	id   checkpoint.FileIdentity
	data []byte
}

func (s *memSource) Identity() checkpoint.FileIdentity { return s.id }
func (s *memSource) ReadAt(_ context.Context, p []byte, off int64) (int, error) {
	return bytes.NewReader(s.data).ReadAt(p, off)
}
func (s *memSource) Slice(off, n int64) engine.Body { return sized(n) }

type sized int64

func (n sized) Len() int64 { return int64(n) }

// stuck never answers, so the running uploads hold their slots and every
// other one stays queued.
type stuck struct{}

func (stuck) Do(ctx context.Context, _ *engine.Request) (*engine.Response, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

type usage struct {
	heap, stacks uint64
	goroutines   int
}

func measure() usage {
	for range 3 {
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return usage{m.HeapInuse, m.StackInuse, runtime.NumGoroutine()}
}

func main() {
	n := flag.Int("files", 10000, "queued files")
	flag.Parse()
	var events int
	eng := engine.New(stuck{}, &engine.Backend{BaseURL: "http://127.0.0.1:1"}, engine.Options{
		Store:   checkpoint.NewMemoryStore(),
		OnEvent: func(string, engine.Event) { events++ },
	})
	data := make([]byte, 1000)
	idle := measure()
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	for i := range *n {
		src := &memSource{id: checkpoint.FileIdentity{Name: fmt.Sprintf("photo-%05d.jpg", i), Size: int64(len(data)),
			LastModified: 1700000000000 + int64(i), Type: "image/jpeg"}, data: data}
		if _, err := eng.Start(ctx, src); err != nil {
			log.Fatal(err)
		}
	}
	took := time.Since(start)
	time.Sleep(200 * time.Millisecond)
	q := measure()
	mib := func(b uint64) float64 { return float64(b) / (1 << 20) }
	fmt.Printf("queue: %d files queued in %s\n", *n, took.Round(time.Millisecond))
	fmt.Printf("queue: heap %.1f MiB + stacks %.1f MiB above idle (%.0f B per file), %d goroutines above idle (target: <= 20 MiB)\n",
		mib(q.heap-idle.heap), mib(q.stacks-idle.stacks), float64(q.heap+q.stacks-idle.heap-idle.stacks)/float64(*n), q.goroutines-idle.goroutines)
	cancel()
}
