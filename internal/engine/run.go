package engine

import (
	"context"
	"fmt"
	"math"

	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/partplan"
)

// run does whatever is left of the upload: fingerprint, prepare (resume
// or a new session), send, complete, verify — a linear pipeline. Everything
// it learns is kept on u, so after a pause it starts again where it
// stopped.
func (u *Upload) run(ctx context.Context) (*Result, error) {
	if !u.isStored() {
		if !u.checked {
			u.setState(StateChecking)
			fp, err := checkpoint.Fingerprint(u.ident.Size, func(off int64, p []byte) error {
				return readFull(ctx, u.src, p, off)
			})
			if err != nil {
				return nil, ctxOr(ctx, uploadError("read", err, 1))
			}
			u.ident.Fingerprint = fp
			u.checked = true
		}
		if !u.prepared {
			// Interrupted preparations start over: a resume half done
			// (reconcile cut short) must not pass for a finished one.
			if err := u.prepare(ctx); err != nil {
				return nil, err
			}
			u.prepared = true
		}
	}
	if !u.isStored() {
		u.setState(StateUploading)
		stop := u.tickProgress()
		before, start := u.Progress().BytesConfirmed, u.e.o.Clock.Now()
		err := u.transfer(ctx)
		stop()
		if err != nil {
			return nil, err
		}
		u.e.learn(u.ident.Size-before, u.e.o.Clock.Now().Sub(start), u.conc)
	}
	u.setState(StateCompleting)
	return u.verify(ctx)
}

// ctxOr prefers the context's error: a read failing because of a pause is
// not a failure.
func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// prepare takes the upload over from its checkpoint or creates a backend
// session. A checkpoint that cannot be used is discarded (its multipart
// upload aborted, from what can be salvaged), except one of a newer
// format: a newer deploy's, left alone, this upload then runs without one.
func (u *Upload) prepare(ctx context.Context) error {
	u.setState(StateChecking)
	rec, err := u.k.load(ctx)
	if de := checkpoint.AsDamaged(err); de != nil {
		if de.Newer {
			u.k.disable()
			u.warn("checkpoint_newer", "this file's checkpoint was written by a newer version of the uploader; "+
				"uploading again without it, and without resume")
		} else {
			u.logger().Warn("checkpoint damaged; starting over", "err", err)
			u.abandon(ctx, de.Salvage)
		}
		rec = nil
	} else if err != nil {
		return err
	}
	if rec != nil {
		ok, err := u.adopt(ctx, rec)
		if err != nil || ok {
			return err
		}
	}
	if err := u.supersede(ctx); err != nil {
		return err
	}
	return u.createSession(ctx)
}

// adopt takes the upload over from its record: ok false means it could not
// (file changed, upload gone) and a new session is needed.
func (u *Upload) adopt(ctx context.Context, rec *checkpoint.Record) (ok bool, err error) {
	if rec.Phase == checkpoint.PhaseStored {
		if err := rec.Matches(u.ident); err != nil {
			// A stored object of another file of the same identity: the
			// backend verifies or reaps it; this file starts afresh.
			u.logger().Warn("verify-only checkpoint of another file; starting over", "err", err)
			u.abandon(ctx, rec)
			return false, nil
		}
		u.logger().Info("object already stored; verifying it")
		u.recMu.Lock()
		u.rec = rec
		u.recMu.Unlock()
		u.ticket = rec.Ticket
		u.confirmed.Store(rec.File.Size)
		u.enterNoReturn()
		return true, nil
	}
	if err := rec.Matches(u.ident); err != nil {
		u.logger().Warn("file changed since the checkpoint; starting over", "err", err)
		u.abandon(ctx, rec)
		return false, nil
	}
	return u.takeOver(ctx, rec)
}

// createSession asks the backend for a session: key, plan, credentials.
func (u *Upload) createSession(ctx context.Context) error {
	var sess *Session
	err := u.retrier().do(ctx, "backend.create", func(ctx context.Context) error {
		s, err := u.e.b.Create(ctx, CreateRequest{Name: u.ident.Name, Size: u.ident.Size, Type: u.ident.Type, LastModified: u.ident.LastModified, RelativePath: u.ident.Path, Meta: sourceMeta(u.src)})
		sess = s
		return err
	})
	if err != nil {
		return err
	}
	tgt, err := newTarget(sess.Endpoint, sess.Bucket, sess.Key, sess.Region, sess.PathStyle)
	if err != nil {
		return uploadError("backend.create", err, 1)
	}
	plan := partplan.Plan{Size: u.ident.Size, PartSize: sess.PartSize, Parts: sess.Parts, Single: sess.SinglePut, Concurrency: sess.Concurrency}
	if !plan.Single && (plan.PartSize < partplan.MinPartSize || plan.Parts != int(ceilDiv(plan.Size, plan.PartSize))) {
		return uploadError("backend.create", fmt.Errorf("inconsistent part plan: %d parts of %d bytes for %d bytes", plan.Parts, plan.PartSize, plan.Size), 1)
	}
	u.ticket, u.tgt, u.plan = sess.Ticket, tgt, plan
	u.conc = u.concurrency(sess.Concurrency)
	cr := sess.Credentials
	u.setObjectHeaders(sess.Headers)
	u.creds = u.newCreds(&cr)
	u.confirmed.Store(0)
	now := u.e.o.Clock.Now()
	rec := &checkpoint.Record{
		File: u.ident, Bucket: sess.Bucket, Key: sess.Key, Ticket: sess.Ticket,
		Endpoint: sess.Endpoint, Region: sess.Region, PathStyle: sess.PathStyle, Concurrency: u.conc,
		Phase: checkpoint.PhaseSending, Created: now, Updated: now,
	}
	if !plan.Single {
		rec.PartSize = plan.PartSize
	}
	u.recMu.Lock()
	u.rec = rec
	u.recMu.Unlock()
	u.logger().Info("upload session created", "key", sess.Key, "parts", plan.Parts, "partSize", plan.PartSize, "single", plan.Single)
	return nil
}

func (u *Upload) concurrency(session int) int {
	switch {
	case u.e.o.Concurrency > 0:
		return u.e.o.Concurrency
	case u.e.learned.Load() > 0:
		return int(u.e.learned.Load())
	case session > 0:
		return session
	}
	return defaultConcurrency
}

func (u *Upload) newCreds(initial *Credentials) *credSource {
	ticket := u.ticket
	return newCredSource(initial, func(ctx context.Context) (*Credentials, error) {
		rr, err := u.e.b.Refresh(ctx, ticket)
		if err != nil {
			return nil, err
		}
		u.setObjectHeaders(rr.Headers)
		return &rr.Credentials, nil
	}, u.e.ossNow, u.e.o.RefreshAt)
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// transfer sends the data: one PutObject, or the missing parts.
func (u *Upload) transfer(ctx context.Context) error {
	if u.plan.Single {
		if !u.crcKnown {
			crc, err := crcOfRange(ctx, u.src, 0, u.ident.Size, make([]byte, min(crcChunk, max(u.ident.Size, 1))))
			if err != nil {
				return ctxOr(ctx, uploadError("read", err, 1))
			}
			u.wholeCRC, u.crcKnown = crc, true
		}
		if err := u.putObject(ctx, u.wholeCRC); err != nil {
			return err
		}
		u.confirmed.Store(u.ident.Size)
		u.enterNoReturn()
		u.k.stored(ctx)
		return nil
	}
	if u.rec.UploadID == "" {
		id, err := u.initiate(ctx)
		if err != nil {
			return err
		}
		u.recMu.Lock()
		u.rec.UploadID = id
		u.recMu.Unlock()
		// Saved before any data is sent: from now on a crash, a reload or
		// a newer deploy can resume the upload or abort it.
		u.k.save(ctx)
	}
	if err := u.sendParts(ctx); err != nil {
		return err
	}
	u.recMu.Lock()
	done := u.rec.Done()
	u.recMu.Unlock()
	if done != u.ident.Size {
		return uploadError("CompleteMultipartUpload", fmt.Errorf("engine bug: completing with %d of %d bytes in parts", done, u.ident.Size), 1)
	}
	u.setState(StateCompleting)
	crc, ok, err := u.completeMultipart(ctx)
	if err != nil {
		return err
	}
	if want := u.objectCRC(); ok && crc != want {
		// The upload id is gone, so nothing can be re-sent. The header may
		// have been damaged rather than the object: the backend's check,
		// with its own keys, decides.
		u.logger().Warn("CompleteMultipartUpload reports another CRC-64 than the parts combine to; the backend will check the object",
			"oss", crc, "local", want)
	}
	u.enterNoReturn()
	u.k.stored(ctx)
	return nil
}

// verify has the backend check the object against what it decided and
// the size and CRC-64 computed here, then deletes the checkpoint.
func (u *Upload) verify(ctx context.Context) (*Result, error) {
	crc := u.objectCRC()
	var obj *Object
	err := u.retrier().do(ctx, "backend.complete", func(ctx context.Context) error {
		o, err := u.e.b.Complete(ctx, u.ticket, u.ident.Size, crc)
		obj = o
		return err
	})
	if err != nil {
		return nil, err
	}
	u.k.verified(ctx)
	return &Result{Bucket: obj.Bucket, Key: obj.Key, Size: obj.Size, CRC64: crc, ETag: obj.ETag}, nil
}

// objectCRC is the object's CRC-64: the file's for a single PUT, the parts'
// combined for a multipart upload, or the record's for a verify-only one.
func (u *Upload) objectCRC() uint64 {
	u.recMu.Lock()
	defer u.recMu.Unlock()
	return u.objectCRCLocked()
}

func (u *Upload) objectCRCLocked() uint64 {
	switch {
	case u.rec != nil && u.rec.CRCKnown:
		return u.rec.CRC64
	case u.rec == nil || u.rec.PartSize == 0:
		return u.wholeCRC
	}
	var crc uint64
	var c crcCombiner
	for _, p := range u.rec.Parts {
		crc = c.add(crc, p.CRC64, uint64(p.Size))
	}
	return crc
}

// tickProgress emits progress events until the returned stop is called.
func (u *Upload) tickProgress() (stop func()) {
	o := &u.e.o
	quit := make(chan struct{})
	finished := make(chan struct{})
	u.rate.reset()
	go func() {
		defer close(finished)
		for {
			select {
			case <-quit:
				return
			case <-o.Clock.After(o.ProgressInterval):
			}
			p := u.Progress()
			bps := u.rate.add(o.Clock.Now(), p.BytesConfirmed+p.BytesSending)
			u.bps.Store(math.Float64bits(bps))
			u.ev.push(Event{Kind: EventProgress, Progress: u.Progress()})
		}
	}()
	return func() {
		close(quit)
		<-finished
		u.bps.Store(0)
	}
}

// sourceMeta is the application metadata of src, if it carries any.
func sourceMeta(src Source) map[string]string {
	if m, ok := src.(MetaSource); ok {
		return m.Meta()
	}
	return nil
}
