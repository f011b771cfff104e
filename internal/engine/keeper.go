package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ossup/ossup/internal/checkpoint"
)

// keeper is the one owner of an upload's checkpoint: it alone saves, keeps
// for verification, deletes, or aborts and deletes. Every Store call has a
// deadline (Options.StoreTimeout) and runs apart from the upload, so a
// storage that fails or hangs (an IndexedDB blocked by an old tab, a full
// quota) costs resumability, reported once as a warning, never the upload.
type keeper struct {
	u      *Upload
	mu     sync.Mutex
	warned bool
	broken bool // the store failed: stop saving for this upload
	// newer: the record under this upload's id is a newer deploy's; it is
	// never written, deleted or aborted from here.
	newer bool
}

// ErrStoreTimeout is a Store call that did not return within
// Options.StoreTimeout.
var ErrStoreTimeout = errors.New("engine: checkpoint storage did not answer in time")

func (k *keeper) store() checkpoint.Store { return k.u.e.o.Store }

// call runs f on the store with the deadline; a failure is reported once
// and disables the store for this upload (except for deletes, which are
// always tried).
func (k *keeper) call(ctx context.Context, what string, f func(ctx context.Context, s checkpoint.Store) error) error {
	s := k.store()
	if s == nil {
		return nil
	}
	err := callStore(ctx, k.u.e.o.StoreTimeout, s, f)
	if err == nil || errors.Is(err, checkpoint.ErrNotFound) || checkpoint.AsDamaged(err) != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	k.mu.Lock()
	first := !k.warned
	k.warned, k.broken = true, true
	k.mu.Unlock()
	if first {
		k.u.warn("storage_unavailable", fmt.Sprintf("could not %s the checkpoint (%v): the upload goes on, but cannot resume after a reload", what, err))
	}
	return err
}

// callStore runs f with a deadline, apart from the caller: a store that
// ignores its context cannot hold the caller past the deadline.
func callStore(ctx context.Context, timeout time.Duration, s checkpoint.Store, f func(ctx context.Context, s checkpoint.Store) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f(ctx, s) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return ErrStoreTimeout
		}
		return ctx.Err()
	}
}

// disable stops this upload from touching the record under its id: a newer
// deploy's, which must not be overwritten, deleted or aborted.
func (k *keeper) disable() {
	k.mu.Lock()
	k.broken, k.newer = true, true
	k.mu.Unlock()
}

func (k *keeper) isNewer() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.newer
}

func (k *keeper) usable() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.store() != nil && !k.broken
}

// load returns the file's checkpoint: nil when there is none or the store
// fails; a *checkpoint.DamagedError when it cannot be used.
func (k *keeper) load(ctx context.Context) (*checkpoint.Record, error) {
	if !k.usable() {
		return nil, nil
	}
	var rec *checkpoint.Record
	err := k.call(ctx, "read", func(ctx context.Context, s checkpoint.Store) error {
		r, err := s.Load(ctx, k.u.id)
		rec = r
		return err
	})
	switch {
	case err == nil:
		return rec, nil
	case checkpoint.AsDamaged(err) != nil:
		return nil, err
	case ctx.Err() != nil:
		return nil, ctx.Err()
	}
	return nil, nil // not found, or the storage failed (reported)
}

// save writes the record (the session's decision, before any data is
// sent, so a crash from then on can resume or abort it).
func (k *keeper) save(ctx context.Context) {
	k.write(ctx, nil)
}

// part records a confirmed part.
func (k *keeper) part(ctx context.Context, p checkpoint.Part) {
	k.write(ctx, &p)
}

// stored keeps the record as verify-only: the object is on OSS, only the
// backend's verification is left, and that must survive outages and
// reloads.
func (k *keeper) stored(ctx context.Context) {
	u := k.u
	u.recMu.Lock()
	if u.rec != nil {
		u.rec.Phase = checkpoint.PhaseStored
		u.rec.CRC64, u.rec.CRCKnown = u.objectCRCLocked(), true
	}
	u.recMu.Unlock()
	k.write(ctx, nil)
}

// write saves the record, or one part of it. A pause does not interrupt
// it: what it records happened.
func (k *keeper) write(ctx context.Context, p *checkpoint.Part) {
	u := k.u
	if !k.usable() {
		return
	}
	ctx = context.WithoutCancel(ctx)
	u.recMu.Lock()
	if u.rec == nil {
		u.recMu.Unlock()
		return
	}
	u.rec.Updated = u.e.o.Clock.Now()
	snap := *u.rec
	legacy := u.rec.Legacy
	if p == nil || legacy {
		snap.Parts = append([]checkpoint.Part(nil), u.rec.Parts...)
	}
	u.recMu.Unlock()
	err := k.call(ctx, "save", func(ctx context.Context, s checkpoint.Store) error {
		if p != nil && !legacy {
			return s.SavePart(ctx, u.id, snap.UploadID, *p)
		}
		return s.Save(ctx, u.id, &snap)
	})
	if err == nil && legacy {
		// Saved in the current format: later writes are per part.
		u.recMu.Lock()
		if u.rec != nil {
			u.rec.Legacy = false
		}
		u.recMu.Unlock()
	}
}

// verified deletes the checkpoint: the backend verified the object.
func (k *keeper) verified(ctx context.Context) {
	// Deleted even after a storage failure: a stale record would offer a
	// resume of a finished upload.
	if k.isNewer() {
		return
	}
	if err := k.delete(ctx, k.u.id); err != nil {
		k.u.logger().Warn("could not delete the checkpoint of a verified upload", "err", err)
	}
}

// delete removes a checkpoint (record, parts and any legacy companion).
func (k *keeper) delete(ctx context.Context, id string) error {
	if k.store() == nil || id == k.u.id && k.isNewer() {
		return nil
	}
	return callStore(context.WithoutCancel(ctx), k.u.e.o.StoreTimeout, k.store(), func(ctx context.Context, s checkpoint.Store) error {
		return s.Delete(ctx, id)
	})
}

// failed decides the checkpoint's fate when the upload fails: it is kept
// for a later resume (or, stored, for a later verification), unless
// nothing can come of it — OSS no longer knows the multipart upload, or
// the backend's verdict on the stored object is final (it refused it, and
// removed it).
func (k *keeper) failed(err error, stored bool) {
	var oe *OSSError
	var ae *APIError
	gone := false
	switch {
	case stored:
		gone = errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 &&
			ae.Status != statusUnauthorized && ae.Status != statusTooManyRequests && ae.Status != statusRequestTimeout
	case errors.As(err, &oe) && oe.Code == "NoSuchUpload":
		gone = true
	}
	if !gone {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), k.u.e.o.StoreTimeout)
	defer cancel()
	if derr := k.delete(ctx, k.u.id); derr != nil {
		k.u.logger().Warn("could not delete a checkpoint nothing can resume", "err", derr)
	}
}

// discard aborts the multipart upload through the backend (an upload
// already gone is fine) and deletes the checkpoint. Without a record in
// memory, the stored one (or what can be salvaged of it) says what to
// abort.
func (k *keeper) discard(ctx context.Context) error {
	u := k.u
	u.recMu.Lock()
	var rec *checkpoint.Record
	if u.rec != nil {
		r := *u.rec
		rec = &r
	}
	u.recMu.Unlock()
	if rec == nil && !k.isNewer() {
		// Nothing in memory: the Store's record (or its salvage) says what
		// to abort; a newer deploy's is not ours to end.
		err := u.e.discardStored(ctx, u.id)
		if de := checkpoint.AsDamaged(err); de != nil && de.Newer {
			return nil
		}
		return err
	}
	if k.isNewer() {
		// Only this upload's own multipart upload is ours to end; the
		// record under the id is the newer deploy's.
		if rec == nil || rec.Ticket == "" || rec.UploadID == "" || rec.Phase == checkpoint.PhaseStored {
			return nil
		}
		return u.e.abort(ctx, rec.Ticket, rec.UploadID)
	}
	return u.e.discardRecord(ctx, u.id, rec)
}
