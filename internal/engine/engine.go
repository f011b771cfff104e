package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/partplan"
)

// Options tune an Engine. Zero fields take the defaults.
type Options struct {
	// Concurrency is the number of parts in flight per upload; 0 takes the
	// backend session's (or 4 for a resumed upload).
	Concurrency int
	// MaxBytesInFlight bounds the request bodies in flight across all the
	// uploads of the Engine (default 64 MiB). A part waits for its size.
	MaxBytesInFlight int64
	// MaxUploads is how many uploads run at once; the others wait in state
	// queued (default 3).
	MaxUploads int
	// MaxAttempts is how often a request is tried at least (default 6),
	// and at most when it fails with no answer on an OSS route that never
	// answered (possibly a CORS refusal).
	MaxAttempts int
	// BaseBackoff and MaxBackoff bound the exponential backoff with full
	// jitter between attempts (defaults 200 ms and 20 s).
	BaseBackoff, MaxBackoff time.Duration
	// Patience is how long a request's transient failures (5xx, 429,
	// timeouts, network failures on a route proven to pass CORS) are
	// retried past MaxAttempts, counted from its first failure, not
	// counting time spent in WaitOnline: a deploy, a throttled STS or flaky
	// Wi-Fi (which often drops requests while navigator.onLine stays true)
	// must not fail a multi-GB upload. Default 2 min; negative means
	// MaxAttempts only.
	Patience time.Duration
	// BackendTimeout bounds each call to the backend (default
	// DefaultBackendTimeout; negative: none). It sets Backend.Timeout
	// where that is zero.
	BackendTimeout time.Duration
	// RefreshAt is the fraction of the credentials' lifetime after which
	// they are refreshed (default 0.8).
	RefreshAt float64
	// StallTimeout aborts and retries a request that made no progress for
	// this long (default 2 min): fetch itself never times out. Progress is
	// what the Transport reports through Request.OnProgress, so a
	// Transport that cannot report upload progress needs a timeout longer
	// than its slowest part, or a negative one (no watchdog).
	StallTimeout time.Duration
	// Clock is the time source (default: the system clock).
	Clock Clock
	// WaitOnline blocks until the network is back (navigator.onLine in the
	// browser); it is called before retrying after a network error. Nil
	// means always online.
	WaitOnline func(ctx context.Context) error
	// Store keeps checkpoints for resuming; nil disables resuming.
	Store checkpoint.Store
	// StoreTimeout bounds every Store call (default 10 s): a storage that
	// hangs degrades to "no resume" with a warning event.
	StoreTimeout time.Duration
	// Lock takes the cross-tab lock of the upload with checkpoint id (a
	// Web Lock), when the upload gets a slot: queued uploads hold none. It
	// returns ErrLocked when another tab holds it (the upload fails with
	// code locked, its checkpoint untouched) and ErrNoLocks when the
	// browser has no locks (the upload goes on, with a warning). Nil means
	// no locking.
	Lock func(ctx context.Context, id string) (release func(), err error)
	// InUse reports whether the upload with checkpoint id is driven
	// elsewhere (another tab: a Web Lock is held), so that starting an
	// edited version of a file never aborts it. Nil means nothing runs
	// outside this Engine.
	InUse func(ctx context.Context, id string) bool
	// EarlierVersions returns the checkpoint ids proven to be earlier
	// versions of the file with checkpoint id (for example a kept file
	// handle that is the same entry): starting the file afresh discards
	// their interrupted uploads, unless InUse. A matching name is no proof
	// (two DSC_0001.JPG from two cards), so nil means none is discarded:
	// both stay pending until discarded or reaped.
	EarlierVersions func(ctx context.Context, id string) []string
	// Routes, when set, keeps the routes proven to pass CORS across page
	// loads (KVRoutes beside the checkpoints), so a resume right after a
	// reload on a flaky network gets the full Patience.
	Routes RouteStore
	// OnEvent, when set, receives every upload's events, in order, from
	// one goroutine of the Engine (Upload.Events is then unused): a queue
	// of thousands of files costs no goroutine per file.
	OnEvent func(id string, ev Event)
	// Logger receives the engine's logs (default: discarded); a
	// *slog.Logger is one.
	Logger Logger
	// ProgressInterval is the period of progress events (default 250 ms).
	ProgressInterval time.Duration
}

// Defaults.
const (
	DefaultMaxBytesInFlight = 64 << 20
	DefaultMaxUploads       = 3
	DefaultMaxAttempts      = 6
	DefaultBaseBackoff      = 200 * time.Millisecond
	DefaultMaxBackoff       = 20 * time.Second
	DefaultPatience         = 2 * time.Minute
	DefaultRefreshAt        = 0.8
	DefaultStallTimeout     = 2 * time.Minute
	DefaultProgress         = 250 * time.Millisecond
	DefaultStoreTimeout     = 10 * time.Second
	defaultConcurrency      = 4
)

func (o *Options) defaults() {
	if o.MaxBytesInFlight <= 0 {
		o.MaxBytesInFlight = DefaultMaxBytesInFlight
	}
	if o.MaxUploads <= 0 {
		o.MaxUploads = DefaultMaxUploads
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = DefaultBaseBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.Patience == 0 {
		o.Patience = DefaultPatience
	}
	if o.RefreshAt <= 0 || o.RefreshAt > 1 {
		o.RefreshAt = DefaultRefreshAt
	}
	if o.StallTimeout == 0 {
		o.StallTimeout = DefaultStallTimeout
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Logger == nil {
		o.Logger = discard{}
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = DefaultProgress
	}
	if o.StoreTimeout <= 0 {
		o.StoreTimeout = DefaultStoreTimeout
	}
}

// Engine runs uploads: they share the budget of bytes in flight, the slots
// for running uploads and the clock-skew correction.
type Engine struct {
	t      Transport
	b      *Backend
	o      Options
	budget *budget
	// skew is OSS's clock minus ours, in nanoseconds, learnt from
	// RequestTimeTooSkewed answers.
	skew atomic.Int64

	// learned is the concurrency partplan.Suggest chose from the last
	// finished transfer's throughput; 0 until one is measured. It applies to
	// later uploads only: a running upload keeps its settings.
	learned atomic.Int64

	mu sync.Mutex
	// active holds every upload not ended, by checkpoint id; queue the
	// ones waiting for a slot, in order; runningN the slots taken.
	active   map[string]*Upload
	queue    []*Upload
	runningN int

	sink *dispatcher // nil without Options.OnEvent
}

// learnMin is the smallest transfer worth learning from: below it the
// throughput says more about request latency than about the link.
const learnMin = 4 << 20

// learn updates the concurrency for later uploads from a finished transfer
// of n bytes in d with conc parts in flight.
func (e *Engine) learn(n int64, d time.Duration, conc int) {
	if n < learnMin || d <= 0 || conc < 1 {
		return
	}
	cur := int(e.learned.Load())
	if cur == 0 {
		cur = conc
	}
	p := partplan.Suggest(partplan.Measure{BytesPerSec: float64(n) / d.Seconds(), Concurrency: conc}, partplan.Prefs{Concurrency: cur})
	e.learned.Store(int64(p.Concurrency))
}

// New returns an Engine sending OSS requests through t and backend calls
// through b's Transport (t if b.T is nil).
func New(t Transport, b *Backend, o Options) *Engine {
	o.defaults()
	rs := newRoutes(o.Routes, o.StoreTimeout)
	bc := &Backend{BaseURL: b.BaseURL, Header: b.Header, T: b.T, Credentials: b.Credentials, Timeout: b.Timeout}
	if bc.T == nil {
		bc.T = t
	}
	bc.T = routeTransport{t: bc.T, rs: rs}
	if bc.Timeout == 0 {
		bc.Timeout = o.BackendTimeout
	}
	e := &Engine{
		t: routeTransport{t: t, rs: rs}, b: bc, o: o,
		budget: newBudget(o.MaxBytesInFlight),
		active: map[string]*Upload{},
	}
	if o.OnEvent != nil {
		e.sink = newDispatcher(o.OnEvent)
	}
	return e
}

// SetHeaders replaces the headers of every later backend call (the page's
// authentication, e.g. a renewed Authorization: Bearer token). Uploads
// waiting in StateUnauthenticated after a 401 try again with them.
func (e *Engine) SetHeaders(h Header) { e.b.SetHeader(h) }

// ossNow is the time to sign with: ours, corrected by the skew OSS
// reported.
func (e *Engine) ossNow() time.Time {
	return e.o.Clock.Now().Add(time.Duration(e.skew.Load()))
}

// Start uploads src, resuming from its checkpoint if there is a valid one
// for the same file. It queues the upload and returns at once; the upload
// runs when a slot is free. Starting a file that is already queued or
// running in this Engine returns ErrAlreadyUploading. Ending ctx stops the
// upload as a crash would: the checkpoint stays, nothing is aborted.
func (e *Engine) Start(ctx context.Context, src Source) (*Upload, error) {
	ident := src.Identity()
	return e.admitNew(ctx, src, checkpoint.ID(ident), ident, nil)
}

// ResumeStored resumes the pending upload id without its file: possible
// only for a verify-only upload (its object stored on OSS, the backend's
// verification left), which sends no data. Otherwise it returns
// ErrFileNeeded: pick the file again and Start it.
func (e *Engine) ResumeStored(ctx context.Context, id string) (*Upload, error) {
	if e.o.Store == nil {
		return nil, ErrFileNeeded
	}
	rec, err := e.load(ctx, id)
	if err != nil {
		if errors.Is(err, checkpoint.ErrNotFound) || checkpoint.AsDamaged(err) != nil {
			return nil, ErrFileNeeded
		}
		return nil, fmt.Errorf("engine: resume %s: %w", id, err)
	}
	if rec.Phase != checkpoint.PhaseStored || checkpoint.ID(rec.File) != id {
		return nil, ErrFileNeeded
	}
	return e.admitNew(ctx, nil, id, rec.File, rec)
}

func (e *Engine) admitNew(ctx context.Context, src Source, id string, ident checkpoint.FileIdentity, rec *checkpoint.Record) (*Upload, error) {
	e.mu.Lock()
	if e.active[id] != nil {
		e.mu.Unlock()
		return nil, ErrAlreadyUploading
	}
	u := newUpload(ctx, e, src, id, ident)
	if rec != nil {
		u.rec, u.stored, u.ticket = rec, true, rec.Ticket
		u.confirmed.Store(rec.File.Size)
	}
	e.active[id] = u
	e.mu.Unlock()
	u.ev.push(Event{Kind: EventState, Progress: u.Progress()})
	if ctx.Done() == nil {
		// A context that can never end (the worker's) needs no watcher:
		// skipping it saves each queued upload about 250 bytes.
		e.enqueue(u)
		return u, nil
	}
	context.AfterFunc(ctx, func() {
		// A queued or paused upload has no run to notice the end.
		e.dequeue(u)
		u.mu.Lock()
		running := u.running
		u.mu.Unlock()
		if !running {
			u.finish(StateFailed, nil, fmt.Errorf("engine: upload stopped: %w", ctx.Err()))
		}
	})
	e.enqueue(u)
	return u, nil
}

// enqueue puts u at the end of the queue and starts what the free slots
// allow.
func (e *Engine) enqueue(u *Upload) {
	e.mu.Lock()
	if e.active[u.id] == u && !u.inQueue {
		u.inQueue = true
		e.queue = append(e.queue, u)
	}
	e.mu.Unlock()
	e.schedule()
}

// dequeue takes u out of the queue (paused, canceled while waiting).
func (e *Engine) dequeue(u *Upload) {
	e.mu.Lock()
	if u.inQueue {
		u.inQueue = false
		if i := slices.Index(e.queue, u); i >= 0 {
			e.queue = slices.Delete(e.queue, i, i+1)
		}
	}
	e.mu.Unlock()
}

// schedule gives free slots to queued uploads, in order.
func (e *Engine) schedule() {
	var start []*Upload
	e.mu.Lock()
	for e.runningN < e.o.MaxUploads && len(e.queue) > 0 {
		u := e.queue[0]
		e.queue[0] = nil // the backing array must not keep ended uploads
		e.queue = e.queue[1:]
		u.inQueue = false
		e.runningN++
		start = append(start, u)
	}
	e.mu.Unlock()
	for _, u := range start {
		go u.main()
	}
}

// slotFreed returns a run's slot.
func (e *Engine) slotFreed() {
	e.mu.Lock()
	e.runningN--
	e.mu.Unlock()
	e.schedule()
}

func (e *Engine) forget(u *Upload) {
	e.mu.Lock()
	if e.active[u.id] == u {
		delete(e.active, u.id)
	}
	if u.inQueue {
		u.inQueue = false
		if i := slices.Index(e.queue, u); i >= 0 {
			e.queue = slices.Delete(e.queue, i, i+1)
		}
	}
	e.mu.Unlock()
}

// running reports whether an upload with checkpoint id is queued or runs
// in e.
func (e *Engine) running(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.active[id] != nil
}

// PendingUpload is an interrupted upload in the Store.
type PendingUpload struct {
	// ID is the checkpoint id; pass it to Discard or ResumeStored.
	ID   string
	File checkpoint.FileIdentity
	Key  string
	// BytesDone are the bytes confirmed stored on OSS.
	BytesDone int64
	Updated   time.Time
	// VerifyOnly: the object is stored; resuming (ResumeStored, without
	// the file) only has the backend verify it.
	VerifyOnly bool
	// Damaged: the record cannot be resumed (Reason says why); Discard
	// aborts what can be salvaged of it.
	Damaged bool
	Reason  string
}

// Pending lists the interrupted uploads in the Store, most recently
// updated first, for a "resumable uploads" list: picking the same file
// again resumes it. Records of a newer format (a newer deploy's) are left
// out and alone.
func (e *Engine) Pending(ctx context.Context) ([]PendingUpload, error) {
	if e.o.Store == nil {
		return nil, nil
	}
	var entries []checkpoint.Entry
	err := callStore(ctx, e.o.StoreTimeout, e.o.Store, func(ctx context.Context, s checkpoint.Store) error {
		l, err := s.List(ctx)
		entries = l
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("engine: pending uploads: %w", err)
	}
	out := make([]PendingUpload, 0, len(entries))
	for _, en := range entries {
		if de := en.Damaged; de != nil {
			if de.Newer {
				continue
			}
			p := PendingUpload{ID: en.ID, Damaged: true, Reason: de.Reason}
			if de.Salvage != nil {
				p.File, p.Key, p.Updated = de.Salvage.File, de.Salvage.Key, de.Salvage.Updated
			}
			out = append(out, p)
			continue
		}
		r := en.Record
		out = append(out, PendingUpload{ID: en.ID, File: r.File, Key: r.Key, BytesDone: r.Done(), Updated: r.Updated,
			VerifyOnly: r.Phase == checkpoint.PhaseStored})
	}
	return out, nil
}

// Discard abandons the pending upload id: the backend aborts its
// multipart upload and the checkpoint is deleted. An upload of this Engine
// under that id is canceled (ErrTooLate once its object is stored).
func (e *Engine) Discard(ctx context.Context, id string) error {
	e.mu.Lock()
	u := e.active[id]
	e.mu.Unlock()
	if u != nil {
		return u.Cancel(ctx)
	}
	return e.discardStored(ctx, id)
}

// discardStored discards the checkpoint under id as the Store has it: the
// multipart upload it (or what can be salvaged of it) names is aborted, the
// checkpoint deleted. A newer deploy's record is refused (a *DamagedError
// with Newer), never touched.
func (e *Engine) discardStored(ctx context.Context, id string) error {
	if e.o.Store == nil {
		return nil
	}
	rec, err := e.load(ctx, id)
	switch de := checkpoint.AsDamaged(err); {
	case errors.Is(err, checkpoint.ErrNotFound):
		return nil
	case de != nil && de.Newer:
		return fmt.Errorf("engine: discard %s: %w", id, err)
	case de != nil:
		rec = de.Salvage
	case err != nil:
		return fmt.Errorf("engine: discard %s: %w", id, err)
	}
	return e.discardRecord(ctx, id, rec)
}

// load reads the record under id with the store's deadline.
func (e *Engine) load(ctx context.Context, id string) (*checkpoint.Record, error) {
	var rec *checkpoint.Record
	err := callStore(ctx, e.o.StoreTimeout, e.o.Store, func(ctx context.Context, s checkpoint.Store) error {
		r, err := s.Load(ctx, id)
		rec = r
		return err
	})
	return rec, err
}

// discardRecord aborts rec's multipart upload through the backend (an
// upload already gone is fine) and deletes the checkpoint under id. A
// stored object is not this: it is the backend's to verify or reap.
func (e *Engine) discardRecord(ctx context.Context, id string, rec *checkpoint.Record) error {
	var errs []error
	if rec != nil && rec.Ticket != "" && rec.UploadID != "" && rec.Phase != checkpoint.PhaseStored {
		errs = append(errs, e.abort(ctx, rec.Ticket, rec.UploadID))
	}
	if e.o.Store != nil {
		errs = append(errs, callStore(context.WithoutCancel(ctx), e.o.StoreTimeout, e.o.Store, func(ctx context.Context, s checkpoint.Store) error {
			return s.Delete(ctx, id)
		}))
	}
	return errors.Join(errs...)
}

// abort asks the backend to abort an upload, retrying transient failures.
// An upload the backend no longer knows, or a ticket already spent, has
// nothing left to abort.
func (e *Engine) abort(ctx context.Context, ticket, uploadID string) error {
	r := retrier{e: e, log: e.o.Logger}
	err := r.do(ctx, "backend.abort", func(ctx context.Context) error {
		err := e.b.Abort(ctx, ticket, uploadID)
		var ae *APIError
		if errors.As(err, &ae) && (ae.Code == "upload_not_found" || ae.Code == "ticket_spent") {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("engine: abort upload %s: %w", uploadID, err)
	}
	return nil
}
