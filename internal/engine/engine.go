package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
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
	// InUse reports whether the upload with checkpoint id is driven
	// elsewhere (another tab: a Web Lock is held), so that starting an
	// edited version of a file never aborts it. Nil means nothing runs
	// outside this Engine.
	InUse func(ctx context.Context, id string) bool
	// Logger receives the engine's logs (default: discarded).
	Logger *slog.Logger
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
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = DefaultProgress
	}
}

// Engine runs uploads: they share the budget of bytes in flight, the slots
// for running uploads and the clock-skew correction.
type Engine struct {
	t      Transport
	b      *Backend
	o      Options
	budget *budget
	slots  chan struct{}
	// skew is OSS's clock minus ours, in nanoseconds, learnt from
	// RequestTimeTooSkewed answers.
	skew atomic.Int64

	// learned is the concurrency partplan.Suggest chose from the last
	// finished transfer's throughput; 0 until one is measured. It applies to
	// later uploads only: a running upload keeps its settings.
	learned atomic.Int64

	mu     sync.Mutex
	active map[string]*Upload
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
	rs := &routes{}
	bc := &Backend{BaseURL: b.BaseURL, Header: b.Header, T: b.T, Credentials: b.Credentials, Timeout: b.Timeout}
	if bc.T == nil {
		bc.T = t
	}
	bc.T = routeTransport{t: bc.T, rs: rs}
	if bc.Timeout == 0 {
		bc.Timeout = o.BackendTimeout
	}
	return &Engine{
		t: routeTransport{t: t, rs: rs}, b: bc, o: o,
		budget: newBudget(o.MaxBytesInFlight),
		slots:  make(chan struct{}, o.MaxUploads),
		active: map[string]*Upload{},
	}
}

// SetHeaders replaces the headers of every later backend call (the page's
// authentication, e.g. a renewed Authorization: Bearer token). Uploads
// waiting in StateUnauthenticated after a 401 try again with them.
func (e *Engine) SetHeaders(h http.Header) { e.b.SetHeader(h) }

// ossNow is the time to sign with: ours, corrected by the skew OSS
// reported.
func (e *Engine) ossNow() time.Time {
	return e.o.Clock.Now().Add(time.Duration(e.skew.Load()))
}

// Start uploads src, resuming from its checkpoint if there is a valid one
// for the same file. Starting a file that is already uploading in this
// Engine returns that upload. Ending ctx stops the upload as a crash would:
// the checkpoint stays, nothing is aborted.
func (e *Engine) Start(ctx context.Context, src Source) *Upload {
	id := checkpoint.ID(src.Identity())
	e.mu.Lock()
	defer e.mu.Unlock()
	if u := e.active[id]; u != nil {
		return u
	}
	u := newUpload(ctx, e, src, id)
	e.active[id] = u
	go u.main()
	return u
}

func (e *Engine) forget(u *Upload) {
	e.mu.Lock()
	if e.active[u.id] == u {
		delete(e.active, u.id)
	}
	e.mu.Unlock()
}

// Pending lists the resumable uploads in store, most recently updated
// first, for a "resumable uploads" list: picking the same file again resumes
// it. An upload whose record is damaged appears through what could be
// salvaged of it, when that names the file; picking the file again then
// aborts the old upload and starts afresh. Records of a newer format are
// left out: this build can neither resume nor discard them.
func Pending(ctx context.Context, store checkpoint.Store) ([]*checkpoint.Record, error) {
	entries, err := store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine: pending uploads: %w", err)
	}
	var out []*checkpoint.Record
	for _, e := range entries {
		switch {
		case e.Record != nil:
			out = append(out, e.Record)
		case !e.Damaged.Newer && e.Damaged.Salvage != nil && e.Damaged.Salvage.File.Name != "" &&
			checkpoint.ID(e.Damaged.Salvage.File) == e.ID:
			out = append(out, e.Damaged.Salvage)
		}
	}
	return out, nil
}

// Discard abandons a pending upload without its file: the backend aborts
// the multipart upload and the checkpoint is deleted.
func (e *Engine) Discard(ctx context.Context, rec *checkpoint.Record) error {
	return e.discard(ctx, checkpoint.ID(rec.File), rec)
}

// discard aborts rec's multipart upload through the backend (an upload
// already gone is fine) and deletes the checkpoint under id.
func (e *Engine) discard(ctx context.Context, id string, rec *checkpoint.Record) error {
	var errs []error
	if rec != nil && rec.Ticket != "" && rec.UploadID != "" {
		errs = append(errs, e.abort(ctx, rec.Ticket, rec.UploadID))
	}
	if e.o.Store != nil {
		errs = append(errs, e.o.Store.Delete(ctx, id))
	}
	return errors.Join(errs...)
}

// abort asks the backend to abort an upload, retrying transient failures.
func (e *Engine) abort(ctx context.Context, ticket, uploadID string) error {
	r := retrier{e: e, log: e.o.Logger}
	err := r.do(ctx, "backend.abort", func(ctx context.Context) error {
		err := e.b.Abort(ctx, ticket, uploadID)
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == "upload_not_found" {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("engine: abort upload %s: %w", uploadID, err)
	}
	return nil
}
