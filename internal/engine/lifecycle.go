package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
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

// intent is what the person asked of an upload; the lifecycle follows it.
type intent int

const (
	intentRun intent = iota
	intentPause
	intentCancel
)

// Upload is one file being uploaded. Its methods are safe for concurrent
// use.
//
// Its lifecycle is one state machine. The person's requests (Pause, Resume,
// Cancel) only record an intent and interrupt the run in progress; what
// becomes of the upload and of its checkpoint is decided in one place,
// settle, when a run ends. A run is numbered (epoch), so nothing a finished
// run does late can change the state. A queued upload is a light
// descriptor: it gets a goroutine, its lock and its requests only when the
// Engine gives it a slot.
type Upload struct {
	e   *Engine
	src Source // nil for a verify-only upload resumed without its file
	id  string
	ctx context.Context
	// log is made on first use (logger): a queued upload that never logs
	// costs no logger.
	log atomic.Pointer[withArgs]
	ev  eventQueue
	k   keeper

	mu        sync.Mutex
	state     State
	intent    intent
	epoch     int
	runCancel context.CancelFunc
	// done is closed when the upload has ended (ended); tooLate when a
	// Cancel came too late (tooLateSeen). Both are made on first use
	// (doneChanLocked, tooLateChanLocked): most uploads are never waited
	// for.
	done    chan struct{}
	tooLate chan struct{}
	result  *Result
	err     error
	// authWaits counts the requests waiting for new page headers;
	// authPrev is the state to return to when the last one ends.
	authWaits int
	authPrev  State
	running   bool
	// stored: the object is complete on OSS. From then on the upload can
	// only be verified: Cancel answers ErrTooLate.
	stored      bool
	ended       bool
	tooLateSeen bool
	inQueue     bool // in e.queue; under e.mu, not mu

	ident  checkpoint.FileIdentity
	ticket string
	rec    *checkpoint.Record // the checkpoint; parts under recMu
	recMu  sync.Mutex
	// confirmed are the bytes OSS confirmed (a resumed upload starts
	// from its checkpoint's).
	confirmed atomic.Int64

	// runState is made when the upload first gets a slot (under mu) and
	// kept across its later runs: a queued upload carries none of it, so
	// 10,000 queued files cost a few hundred bytes each.
	*runState
}

// runState is what only a run of the upload needs. Its fields are the run
// goroutine's (one at a time) unless their comment says otherwise.
type runState struct {
	checked      bool
	prepared     bool // a session or a reconciled checkpoint is in place
	crcKnown     bool
	completeSent bool
	tgt          *target
	creds        *credSource
	plan         partplan.Plan
	conc         int
	wholeCRC     uint64 // single put: CRC of the file, once crcKnown

	// hdrs are the headers the backend decided for the object, from the
	// session or (resuming) the latest credentials refresh.
	hdrs atomic.Pointer[ObjectHeaders]

	stg atomic.Pointer[stagger] // of the parts being sent, if any
	// sending (under sendMu), rate and bps are read by Progress too.
	sendMu  sync.Mutex
	sending map[int]int64
	rate    rateWindow
	bps     atomic.Uint64 // float64 bits
}

func newUpload(ctx context.Context, e *Engine, src Source, id string, ident checkpoint.FileIdentity) *Upload {
	u := &Upload{e: e, src: src, id: id, ctx: ctx, state: StateQueued, ident: ident}
	u.ev.init(e.sink, id)
	u.k.u = u
	return u
}

// logger is the upload's logger, naming it in every line.
func (u *Upload) logger() Logger {
	if l := u.log.Load(); l != nil {
		return l
	}
	u.log.CompareAndSwap(nil, &withArgs{l: u.e.o.Logger, args: []any{"upload", shortID(u.id), "name", u.ident.Name}})
	return u.log.Load()
}

func shortID(id string) string {
	s := id[min(len(id), len(checkpoint.IDPrefix)):]
	return s[:min(len(s), 12)]
}

// ID is the upload's checkpoint id, derived from the file's name, size,
// modification time and type: the same file gets the same id across page
// reloads.
func (u *Upload) ID() string { return u.id }

// Events returns the upload's events, ending with its final state; the
// channel is then closed. Events are queued without bound from the first
// call on (progress events coalesced), so a caller that calls Events must
// drain the channel. With Options.OnEvent set, events go there instead.
func (u *Upload) Events() <-chan Event { return u.ev.channel() }

// Pause stops the upload: requests in flight are aborted (their parts are
// sent again on Resume) and the checkpoint is kept. The state becomes
// paused once the requests have stopped. A paused upload gives up its slot.
func (u *Upload) Pause() {
	u.mu.Lock()
	if u.state.Final() || u.intent != intentRun {
		u.mu.Unlock()
		return
	}
	u.intent = intentPause
	running := u.running
	if running {
		u.runCancel()
	}
	u.mu.Unlock()
	if !running {
		// Queued: nothing to stop, so the state changes now.
		u.e.dequeue(u)
		u.setState(StatePaused)
	}
}

// Resume continues a paused upload: it queues for a slot again.
func (u *Upload) Resume() {
	u.mu.Lock()
	if u.state.Final() || u.intent != intentPause {
		u.mu.Unlock()
		return
	}
	u.intent = intentRun
	running := u.running
	u.mu.Unlock()
	if !running {
		// A run being stopped re-queues itself when it settles.
		u.setState(StateQueued)
		u.e.enqueue(u)
	}
}

// Cancel stops the upload for good: requests in flight are aborted, the
// backend aborts the multipart upload (so no parts are left behind) and the
// checkpoint is deleted. It returns once that is done or ctx ends.
//
// Cancel after done does nothing; after a failure it discards what the
// upload left (checkpoint and multipart upload). Once the object is stored
// (state completing) it is too late: Cancel returns ErrTooLate and the
// upload goes on to be verified, so nobody is told "canceled" while the
// object stays.
func (u *Upload) Cancel(ctx context.Context) error {
	u.mu.Lock()
	switch {
	case u.state == StateDone || u.state == StateCanceled:
		u.mu.Unlock()
		return nil
	case u.state == StateFailed:
		u.mu.Unlock()
		if err := u.k.discard(ctx); err != nil {
			return fmt.Errorf("engine: cancel: %w", err)
		}
		return nil
	case u.stored:
		u.mu.Unlock()
		return ErrTooLate
	}
	u.intent = intentCancel
	running := u.running
	if running {
		u.runCancel()
	}
	done, tooLate := u.doneChanLocked(), u.tooLateChanLocked()
	u.mu.Unlock()
	if !running {
		u.e.dequeue(u)
		u.cancelNow(ctx)
	}
	select {
	case <-done:
	case <-tooLate:
		return ErrTooLate
	case <-ctx.Done():
		return ctx.Err()
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.state == StateCanceled && u.err != nil && u.err != ErrCanceled {
		return u.err // canceled, but something could not be discarded
	}
	return nil
}

// Wait blocks until the upload ends or ctx does. It returns the result,
// ErrCanceled after Cancel, or the terminal error (an *UploadError, or the
// Start context's error).
func (u *Upload) Wait(ctx context.Context) (*Result, error) {
	select {
	case <-u.Done():
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.result, u.err
}

// Done is closed when the upload has ended.
func (u *Upload) Done() <-chan struct{} {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.doneChanLocked()
}

// doneChanLocked is u.done, made (closed if the upload ended) on first
// use; u.mu is held.
func (u *Upload) doneChanLocked() chan struct{} {
	if u.done == nil {
		u.done = make(chan struct{})
		if u.ended {
			close(u.done)
		}
	}
	return u.done
}

// tooLateChanLocked is u.tooLate, made like u.done; u.mu is held.
func (u *Upload) tooLateChanLocked() chan struct{} {
	if u.tooLate == nil {
		u.tooLate = make(chan struct{})
		if u.tooLateSeen {
			close(u.tooLate)
		}
	}
	return u.tooLate
}

// Progress returns a snapshot of the upload's progress.
func (u *Upload) Progress() Progress {
	u.mu.Lock()
	st, r := u.state, u.runState
	u.mu.Unlock()
	var sending int64
	if r != nil {
		r.sendMu.Lock()
		for _, n := range r.sending {
			sending += n
		}
		r.sendMu.Unlock()
	}
	p := Progress{BytesConfirmed: u.confirmed.Load(), BytesSending: sending, Total: u.ident.Size, State: st}
	if st == StateUploading && r != nil {
		p.BytesPerSec = math.Float64frombits(r.bps.Load())
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
		if u.sending == nil {
			u.sending = map[int]int64{}
		}
		u.sending[part] = n
	}
	u.sendMu.Unlock()
}

// setState reports a state of the run in progress (or of a queued or
// paused upload); final states go through finish.
func (u *Upload) setState(s State) {
	u.mu.Lock()
	if u.state == s || u.state.Final() {
		u.mu.Unlock()
		return
	}
	u.state = s
	u.mu.Unlock()
	u.logger().Debug("state", "state", s)
	u.ev.push(Event{Kind: EventState, Progress: u.Progress()})
}

// warn reports a problem the upload survives (no resume after a reload,
// no cross-tab guard).
func (u *Upload) warn(code, msg string) {
	u.logger().Warn(msg, "code", code)
	u.ev.push(Event{Kind: EventWarning, Progress: u.Progress(), Code: code, Message: msg})
}

// finish records the final state and closes the event stream.
func (u *Upload) finish(s State, res *Result, err error) {
	u.mu.Lock()
	if u.state.Final() {
		u.mu.Unlock()
		return
	}
	u.state, u.result, u.err = s, res, err
	r := u.runState
	u.mu.Unlock()
	if r != nil {
		r.sendMu.Lock()
		clear(r.sending)
		r.sendMu.Unlock()
	}
	switch s {
	case StateDone:
		u.logger().Info("upload done", "key", res.Key, "size", res.Size)
	case StateFailed:
		u.logger().Warn("upload failed", "err", err)
	default:
		u.logger().Info("upload " + string(s))
	}
	u.ev.push(Event{Kind: EventState, Progress: u.Progress(), Err: err, Result: res})
	u.ev.close()
	u.e.forget(u)
	u.mu.Lock()
	u.ended = true
	if u.done != nil {
		close(u.done)
	}
	u.mu.Unlock()
}

func (u *Upload) retrier() retrier {
	return retrier{e: u.e, log: u.logger(), onRetry: func(op string, attempt int, delay time.Duration, err error) {
		u.ev.push(Event{Kind: EventRetry, Progress: u.Progress(), Err: err, Op: op, Attempt: attempt, Delay: delay})
	}, onAuth: u.waitAuth}
}

// waitAuth holds a backend call the backend refused with 401 until the
// page sets new headers: the upload shows StateUnauthenticated meanwhile
// and returns to its previous state afterwards, nothing lost. Like paused,
// it is a state a person acts on, so it has no deadline of its own.
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

// enterNoReturn marks the object stored on OSS: from now on the upload can
// only be verified.
func (u *Upload) enterNoReturn() {
	u.mu.Lock()
	u.stored = true
	u.mu.Unlock()
}

func (u *Upload) isStored() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.stored
}

// main is one run of the upload, in a slot the Engine gave it.
func (u *Upload) main() {
	defer u.e.slotFreed()
	u.mu.Lock()
	if u.state.Final() || u.intent != intentRun {
		u.mu.Unlock()
		return
	}
	u.epoch++
	epoch := u.epoch
	runCtx, cancel := context.WithCancel(u.ctx)
	u.running, u.runCancel = true, cancel
	if u.runState == nil {
		u.runState = &runState{rate: rateWindow{span: 5 * time.Second}}
	}
	u.mu.Unlock()
	res, err := u.safeRun(runCtx)
	interrupted := runCtx.Err() != nil && u.ctx.Err() == nil
	cancel()
	u.settle(epoch, res, err, interrupted)
}

// safeRun runs the upload under its lock, turning a panic (an engine bug,
// or a JS exception surfacing through a Source or Transport) into a
// failure of this upload alone.
func (u *Upload) safeRun(ctx context.Context) (res *Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			u.logger().Error("upload crashed", "panic", p, "stack", string(debug.Stack()))
			res, err = nil, &UploadError{Op: "engine", Code: "engine_error", Message: fmt.Sprint(p), Err: fmt.Errorf("engine: panic: %v", p)}
		}
	}()
	release, err := u.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return u.run(ctx)
}

// lock takes the upload's cross-tab lock (Options.Lock).
func (u *Upload) lock(ctx context.Context) (func(), error) {
	if u.e.o.Lock == nil {
		return func() {}, nil
	}
	release, err := u.e.o.Lock(ctx, u.id)
	switch {
	case err == nil:
		return release, nil
	case errors.Is(err, ErrNoLocks):
		u.warn("no_web_locks", "this browser has no Web Locks (an http page that is not a secure context, or an old browser): "+
			"nothing stops another tab from driving the same upload")
		return func() {}, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, ErrLocked):
		return nil, &UploadError{Op: "lock", Code: "locked", Message: "this upload is being driven by another tab or window", Err: err}
	}
	return nil, &UploadError{Op: "lock", Code: "lock_failed", Message: err.Error(), Err: err}
}

// settle is the one place where a run's end decides the upload's fate and
// its checkpoint's: done, canceled, paused, queued again, or failed.
func (u *Upload) settle(epoch int, res *Result, err error, interrupted bool) {
	u.mu.Lock()
	if epoch != u.epoch {
		u.mu.Unlock()
		return
	}
	u.running, u.runCancel = false, nil
	in, stored := u.intent, u.stored
	if in == intentCancel && stored && err != nil {
		// The object got stored while the cancel was on its way: it is
		// too late, the upload goes on to be verified.
		u.intent, in = intentRun, intentRun
		if !u.tooLateSeen {
			u.tooLateSeen = true
			if u.tooLate != nil {
				close(u.tooLate)
			}
		}
	}
	u.mu.Unlock()
	switch {
	case err == nil:
		u.finish(StateDone, res, nil)
	case in == intentCancel:
		u.cancelNow(context.Background())
	case u.ctx.Err() != nil:
		// The Engine's context ended: as a crash would, keep everything.
		u.finish(StateFailed, nil, fmt.Errorf("engine: upload stopped: %w", u.ctx.Err()))
	case interrupted && in == intentPause:
		u.setState(StatePaused)
	case interrupted:
		// Paused and resumed before the run stopped, or a cancel turned
		// too late: run again.
		u.setState(StateQueued)
		u.e.enqueue(u)
	default:
		u.k.failed(err, stored)
		u.finish(StateFailed, nil, err)
	}
}

// cancelDeadline (plus Patience) bounds a cancel's cleanup.
const cancelDeadline = 2 * time.Minute

// cancelNow discards what the upload left and ends it canceled.
func (u *Upload) cancelNow(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelDeadline+max(u.e.o.Patience, 0))
	defer cancel()
	err := u.k.discard(ctx)
	if err != nil {
		u.logger().Warn("cancel could not discard everything", "err", err)
		err = fmt.Errorf("%w (%w)", ErrCanceled, err)
	} else {
		err = ErrCanceled
	}
	u.finish(StateCanceled, nil, err)
}
