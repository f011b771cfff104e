package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/partplan"
)

// Result describes the uploaded object, as the backend verified it.
type Result struct {
	Bucket, Key string
	Size        int64
	CRC64       uint64
	ETag        string
}

// Upload is one file being uploaded. Its methods are safe for concurrent
// use.
type Upload struct {
	e   *Engine
	src Source
	id  string
	ctx context.Context
	log *slog.Logger
	ev  *eventQueue

	mu        sync.Mutex
	state     State
	paused    bool
	canceled  bool
	wake      chan struct{}
	runCancel context.CancelFunc
	done      chan struct{}
	result    *Result
	err       error

	// Owned by the run goroutine.
	ident        checkpoint.FileIdentity
	checked      bool
	prepared     bool // a session or a reconciled checkpoint is in place
	ticket       string
	tgt          *target
	creds        *credSource
	plan         partplan.Plan
	conc         int
	rec          *checkpoint.Record // multipart only; parts under recMu
	recMu        sync.Mutex
	noCheckpoint bool   // a newer build's record is under id: leave it alone
	wholeCRC     uint64 // single put: CRC of the file, once crcKnown
	crcKnown     bool
	stored       bool // the object is complete in OSS
	completeSent bool

	// hdrs are the headers the backend decided for the object, from the
	// session or (resuming) the latest credentials refresh.
	hdrs atomic.Pointer[ObjectHeaders]
	// authWaits counts the requests waiting for new page headers;
	// authPrev is the state to return to when the last one ends. Under mu.
	authWaits int
	authPrev  State

	confirmed atomic.Int64
	sendMu    sync.Mutex
	sending   map[int]int64
	rate      rateWindow
	bps       atomic.Uint64 // float64 bits
}

func newUpload(ctx context.Context, e *Engine, src Source, id string) *Upload {
	return &Upload{
		e: e, src: src, id: id, ctx: ctx,
		log:     e.o.Logger.With("upload", id[len(checkpoint.IDPrefix):][:12], "name", src.Identity().Name),
		ev:      newEventQueue(),
		state:   StateQueued,
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		ident:   src.Identity(),
		sending: map[int]int64{},
		rate:    rateWindow{span: 5 * time.Second},
	}
}

// ID is the upload's checkpoint id, derived from the file's name, size,
// modification time and type: the same file gets the same id across page
// reloads.
func (u *Upload) ID() string { return u.id }

// Events returns the upload's events, ending with its final state; the
// channel is then closed. Events are queued without bound from the first
// call on (progress events coalesced), so a caller that calls Events must
// drain the channel.
func (u *Upload) Events() <-chan Event { return u.ev.channel() }

// Pause stops the upload: requests in flight are aborted (their parts are
// sent again on Resume) and the checkpoint is kept. The state becomes
// paused once the requests have stopped.
func (u *Upload) Pause() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.state.Final() || u.paused {
		return
	}
	u.paused = true
	if u.runCancel != nil {
		u.runCancel()
	}
	u.signal()
}

// Resume continues a paused upload.
func (u *Upload) Resume() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.paused {
		return
	}
	u.paused = false
	u.signal()
}

func (u *Upload) signal() {
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// Cancel stops the upload for good: requests in flight are aborted, the
// backend aborts the multipart upload (so no parts are left behind) and the
// checkpoint is deleted. It returns once that is done or ctx ends. Cancel
// after success does nothing; after a failure it discards the upload.
func (u *Upload) Cancel(ctx context.Context) error {
	u.mu.Lock()
	if u.state == StateDone {
		u.mu.Unlock()
		return nil
	}
	u.canceled = true
	if u.runCancel != nil {
		u.runCancel()
	}
	u.signal()
	u.mu.Unlock()
	select {
	case <-u.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if u.Progress().State == StateDone {
		return nil // finished before the cancel took effect
	}
	rec := u.rec
	if rec == nil && u.e.o.Store != nil {
		// Canceled before the checkpoint was looked up: discard the one
		// this file may have.
		r, err := u.e.o.Store.Load(ctx, u.id)
		switch de := checkpoint.AsDamaged(err); {
		case err == nil:
			rec = r
		case de != nil && de.Newer:
			return nil // a newer build's upload: not this one's to discard
		case de != nil:
			rec = de.Salvage
		}
	}
	if rec == nil || rec.UploadID == "" {
		if u.e.o.Store == nil {
			return nil
		}
		return u.e.o.Store.Delete(ctx, u.id)
	}
	u.recMu.Lock()
	snapshot := *rec
	u.recMu.Unlock()
	if err := u.e.discard(ctx, u.id, &snapshot); err != nil {
		return fmt.Errorf("engine: cancel: %w", err)
	}
	return nil
}

// Wait blocks until the upload ends or ctx does. It returns the result,
// ErrCanceled after Cancel, or the terminal error (an *UploadError, or the
// Start context's error).
func (u *Upload) Wait(ctx context.Context) (*Result, error) {
	select {
	case <-u.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.result, u.err
}

// Done is closed when the upload has ended.
func (u *Upload) Done() <-chan struct{} { return u.done }

// Progress returns a snapshot of the upload's progress.
func (u *Upload) Progress() Progress {
	u.mu.Lock()
	st := u.state
	u.mu.Unlock()
	u.sendMu.Lock()
	var sending int64
	for _, n := range u.sending {
		sending += n
	}
	u.sendMu.Unlock()
	p := Progress{BytesConfirmed: u.confirmed.Load(), BytesSending: sending, Total: u.ident.Size, State: st}
	if st == StateUploading {
		p.BytesPerSec = math.Float64frombits(u.bps.Load())
		if left := p.Total - p.BytesConfirmed - p.BytesSending; p.BytesPerSec > 0 && left > 0 {
			p.ETA = time.Duration(float64(left) / p.BytesPerSec * float64(time.Second))
		}
	}
	return p
}

func (u *Upload) setSending(part int, n int64) {
	u.sendMu.Lock()
	if n == 0 {
		delete(u.sending, part)
	} else {
		u.sending[part] = n
	}
	u.sendMu.Unlock()
}

func (u *Upload) setState(s State) {
	u.mu.Lock()
	if u.state == s {
		u.mu.Unlock()
		return
	}
	u.state = s
	u.mu.Unlock()
	u.log.Debug("state", "state", s)
	u.ev.push(Event{Kind: EventState, Progress: u.Progress()})
}

// end records the final state and closes the event stream.
func (u *Upload) end(s State, res *Result, err error) {
	u.mu.Lock()
	u.state, u.result, u.err = s, res, err
	u.mu.Unlock()
	u.sendMu.Lock()
	clear(u.sending)
	u.sendMu.Unlock()
	switch s {
	case StateDone:
		u.log.Info("upload done", "key", res.Key, "size", res.Size)
	case StateFailed:
		u.log.Warn("upload failed", "err", err)
	default:
		u.log.Info("upload " + string(s))
	}
	u.ev.push(Event{Kind: EventState, Progress: u.Progress(), Err: err, Result: res})
	u.ev.close()
}

func (u *Upload) retrier() retrier {
	return retrier{e: u.e, log: u.log, onRetry: func(op string, attempt int, delay time.Duration, err error) {
		u.ev.push(Event{Kind: EventRetry, Progress: u.Progress(), Err: err, Op: op, Attempt: attempt, Delay: delay})
	}, onAuth: u.waitAuth}
}

// waitAuth holds a backend call the backend refused with 401 until the
// page sets new headers: the upload shows StateUnauthenticated meanwhile
// and returns to its previous state afterwards, nothing lost.
func (u *Upload) waitAuth(ctx context.Context, ae *APIError) error {
	u.mu.Lock()
	if u.authWaits == 0 {
		u.authPrev = u.state
	}
	u.authWaits++
	u.mu.Unlock()
	u.setState(StateUnauthenticated)
	err := u.e.b.waitHeader(ctx, ae.headerVersion)
	u.mu.Lock()
	u.authWaits--
	last, prev := u.authWaits == 0, u.authPrev
	u.mu.Unlock()
	if last && err == nil {
		u.setState(prev)
	}
	return err
}

// setObjectHeaders keeps the backend's decision of the object's headers;
// an answer without one (an older backend) keeps what is known.
func (u *Upload) setObjectHeaders(h ObjectHeaders) {
	if h.PutObject == nil && h.InitiateMultipartUpload == nil && h.CompleteMultipartUpload == nil {
		return
	}
	u.hdrs.Store(&h)
}

// main drives the upload through pauses until it ends.
func (u *Upload) main() {
	defer close(u.done)
	defer u.e.forget(u)
	u.ev.push(Event{Kind: EventState, Progress: u.Progress()})
	for {
		if !u.waitRunnable() {
			return
		}
		if !u.acquireSlot() {
			continue
		}
		runCtx, cancel := context.WithCancel(u.ctx)
		u.mu.Lock()
		u.runCancel = cancel
		if u.paused || u.canceled {
			cancel()
		}
		u.mu.Unlock()
		res, err := u.run(runCtx)
		cancel()
		<-u.e.slots
		u.mu.Lock()
		u.runCancel = nil
		paused, canceled := u.paused, u.canceled
		u.mu.Unlock()
		switch {
		case err == nil:
			u.end(StateDone, res, nil)
			return
		case canceled:
			u.end(StateCanceled, nil, ErrCanceled)
			return
		case u.ctx.Err() != nil:
			u.end(StateFailed, nil, fmt.Errorf("engine: upload stopped: %w", u.ctx.Err()))
			return
		case paused && runCtx.Err() != nil:
			continue
		default:
			u.fail(err)
			return
		}
	}
}

// fail ends the upload with a terminal error. The checkpoint is kept so
// the upload can be resumed later, unless the multipart upload is gone:
// OSS no longer knows it, or it was completed (only the backend's check
// failed).
func (u *Upload) fail(err error) {
	var oe *OSSError
	gone := u.stored || (errors.As(err, &oe) && oe.Code == "NoSuchUpload")
	if gone && u.e.o.Store != nil && !u.noCheckpoint {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = u.e.o.Store.Delete(ctx, u.id)
		cancel()
	}
	u.end(StateFailed, nil, err)
}

// waitRunnable waits while paused; false means the upload ended.
func (u *Upload) waitRunnable() bool {
	for {
		u.mu.Lock()
		paused, canceled := u.paused, u.canceled
		u.mu.Unlock()
		switch {
		case canceled:
			u.end(StateCanceled, nil, ErrCanceled)
			return false
		case u.ctx.Err() != nil:
			u.end(StateFailed, nil, fmt.Errorf("engine: upload stopped: %w", u.ctx.Err()))
			return false
		case !paused:
			return true
		}
		u.setState(StatePaused)
		select {
		case <-u.wake:
		case <-u.ctx.Done():
		}
	}
}

// acquireSlot waits for one of the Engine's upload slots; false means a
// pause, cancel or the context interrupted the wait.
func (u *Upload) acquireSlot() bool {
	select {
	case u.e.slots <- struct{}{}:
		return true
	default:
	}
	u.setState(StateQueued)
	select {
	case u.e.slots <- struct{}{}:
		return true
	case <-u.wake:
		return false
	case <-u.ctx.Done():
		return false
	}
}
