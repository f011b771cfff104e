package engine

import (
	"sync"
	"time"
)

// State is an upload's lifecycle state.
type State string

// States. done, failed and canceled are final.
const (
	StateQueued    State = "queued"    // waiting for a slot
	StateChecking  State = "checking"  // fingerprinting, looking for a checkpoint, reconciling with OSS
	StateUploading State = "uploading" // sending data
	StatePaused    State = "paused"    // stopped by Pause; the checkpoint is kept
	// StateUnauthenticated: the backend refused the page's authentication
	// (401, e.g. an expired token); the upload waits, nothing lost, until
	// Engine.SetHeaders installs new headers.
	StateUnauthenticated State = "unauthenticated"
	StateCompleting      State = "completing" // assembling the object and verifying it
	StateDone            State = "done"
	StateFailed          State = "failed"
	StateCanceled        State = "canceled"
)

// Final reports whether s is a final state.
func (s State) Final() bool { return s == StateDone || s == StateFailed || s == StateCanceled }

// Progress is a snapshot of an upload's progress.
type Progress struct {
	// BytesConfirmed are in parts OSS acknowledged with a matching CRC.
	BytesConfirmed int64
	// BytesSending are handed to the network in requests still in flight.
	BytesSending int64
	Total        int64
	State        State
	// BytesPerSec is the recent throughput; ETA the time left at that rate
	// (0 when unknown).
	BytesPerSec float64
	ETA         time.Duration
}

// EventKind tells what an Event reports.
type EventKind string

// Event kinds.
const (
	EventState    EventKind = "state"    // the state changed
	EventProgress EventKind = "progress" // periodic, while uploading
	EventRetry    EventKind = "retry"    // a transient failure, retried after Delay
	// EventWarning: a problem the upload survives (Code, Message), such
	// as a checkpoint storage that fails (no resume after a reload).
	EventWarning EventKind = "warning"
)

// Event is one notification about an upload.
type Event struct {
	Kind     EventKind
	Progress Progress
	// Err is the transient error (EventRetry) or the terminal one (final
	// state failed).
	Err error
	// Result is set with the final state done.
	Result *Result
	// Op, Attempt and Delay describe a retry.
	Op      string
	Attempt int
	Delay   time.Duration
	// Code and Message describe a warning.
	Code, Message string
}

// eventQueue delivers events in order without ever blocking the upload: a
// pump goroutine, started by the first Events call, feeds the channel, and
// consecutive progress events are coalesced while the reader is behind.
type eventQueue struct {
	sink   *dispatcher // set: events go to the Engine's dispatcher, as id's
	id     string
	mu     sync.Mutex
	closed bool
	p      *pumpState // without a sink, made by the first push
}

// pumpState is the queue of an eventQueue without a sink (under its mu).
type pumpState struct {
	items   []Event
	started bool
	signal  chan struct{}
	out     chan Event
}

// newEventQueue returns a queue; its channels are made by the first
// channel call, so thousands of queued uploads delivering to a sink carry
// none.
func newEventQueue(sink *dispatcher, id string) *eventQueue {
	q := &eventQueue{}
	q.init(sink, id)
	return q
}

// init readies a queue in place (an Upload holds its queue by value).
func (q *eventQueue) init(sink *dispatcher, id string) { q.sink, q.id = sink, id }

func (q *eventQueue) push(ev Event) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	if q.sink != nil {
		// Under q.mu, so events of one upload keep their order.
		q.sink.push(q.id, ev)
		q.mu.Unlock()
		return
	}
	p := q.pump()
	if n := len(p.items); ev.Kind == EventProgress && n > 0 && p.items[n-1].Kind == EventProgress {
		p.items[n-1] = ev
	} else {
		p.items = append(p.items, ev)
	}
	q.mu.Unlock()
	q.notify()
}

// pump is q.p, made on first use; q.mu is held.
func (q *eventQueue) pump() *pumpState {
	if q.p == nil {
		q.p = &pumpState{}
	}
	return q.p
}

func (q *eventQueue) notify() {
	q.mu.Lock()
	var signal chan struct{}
	if q.p != nil && q.p.started {
		signal = q.p.signal
	}
	q.mu.Unlock()
	if signal == nil {
		return
	}
	select {
	case signal <- struct{}{}:
	default:
	}
}

// close ends the stream after the events already queued.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.notify()
}

func (q *eventQueue) channel() <-chan Event {
	if q.sink != nil {
		// The events go to Options.OnEvent: nothing would ever come here,
		// so a reader gets a closed channel rather than one that never ends.
		ch := make(chan Event)
		close(ch)
		return ch
	}
	q.mu.Lock()
	p := q.pump()
	if !p.started {
		p.started = true
		p.signal, p.out = make(chan struct{}, 1), make(chan Event, 16)
		go q.run(p)
	}
	q.mu.Unlock()
	return p.out
}

// run feeds p.out from the queued events until the queue is closed and
// drained.
func (q *eventQueue) run(p *pumpState) {
	for {
		q.mu.Lock()
		items, closed := p.items, q.closed
		p.items = nil
		q.mu.Unlock()
		for _, ev := range items {
			p.out <- ev
		}
		if closed && len(items) == 0 {
			close(p.out)
			return
		}
		if len(items) == 0 {
			<-p.signal
		}
	}
}

// dispatcher delivers every upload's events to Options.OnEvent from one
// goroutine, started when there is something to deliver and ended when
// there is not, coalescing an upload's consecutive progress events while
// the receiver is behind.
type dispatcher struct {
	deliver func(id string, ev Event)
	mu      sync.Mutex
	items   []sinkItem
	active  bool
}

type sinkItem struct {
	id string
	ev Event
}

func newDispatcher(deliver func(id string, ev Event)) *dispatcher {
	return &dispatcher{deliver: deliver}
}

func (d *dispatcher) push(id string, ev Event) {
	d.mu.Lock()
	if n := len(d.items); ev.Kind == EventProgress && n > 0 && d.items[n-1].id == id && d.items[n-1].ev.Kind == EventProgress {
		d.items[n-1].ev = ev
	} else {
		d.items = append(d.items, sinkItem{id, ev})
	}
	start := !d.active
	d.active = true
	d.mu.Unlock()
	if start {
		go d.run()
	}
}

func (d *dispatcher) run() {
	for {
		d.mu.Lock()
		items := d.items
		d.items = nil
		if len(items) == 0 {
			d.active = false
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		for _, it := range items {
			d.deliver(it.id, it.ev)
		}
	}
}

// rateWindow estimates throughput over the last few seconds of samples.
type rateWindow struct {
	mu      sync.Mutex
	samples []rateSample
	span    time.Duration
}

type rateSample struct {
	t time.Time
	n int64
}

func (w *rateWindow) add(t time.Time, n int64) float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.samples = append(w.samples, rateSample{t, n})
	for len(w.samples) > 2 && t.Sub(w.samples[1].t) >= w.span {
		w.samples = w.samples[1:]
	}
	first := w.samples[0]
	dt := t.Sub(first.t).Seconds()
	if dt <= 0 || n <= first.n {
		return 0
	}
	return float64(n-first.n) / dt
}

func (w *rateWindow) reset() {
	w.mu.Lock()
	w.samples = nil
	w.mu.Unlock()
}
