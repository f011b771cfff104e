package engine

import (
	"context"
	"fmt"
	"math"

	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/partplan"
)

// run does whatever is left of the upload. Everything it learns is kept on
// u, so after a pause it starts again where it stopped.
func (u *Upload) run(ctx context.Context) (*Result, error) {
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
	if !u.stored {
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

// prepare resumes from a checkpoint or creates a backend session.
func (u *Upload) prepare(ctx context.Context) error {
	if u.e.o.Store != nil {
		u.noCheckpoint = false
		u.setState(StateChecking)
		ok, err := u.resume(ctx)
		if err != nil || ok {
			return err
		}
		if err := u.supersede(ctx); err != nil {
			return err
		}
	}
	var sess *Session
	err := u.retrier().do(ctx, "backend.create", func(ctx context.Context) error {
		s, err := u.e.b.Create(ctx, CreateRequest{Name: u.ident.Name, Size: u.ident.Size, Type: u.ident.Type, LastModified: u.ident.LastModified})
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
	if !plan.Single {
		now := u.e.o.Clock.Now()
		u.rec = &checkpoint.Record{
			File: u.ident, Bucket: sess.Bucket, Key: sess.Key, Ticket: sess.Ticket, TicketExpires: sess.TicketExpiration,
			Endpoint: sess.Endpoint, Region: sess.Region, PathStyle: sess.PathStyle,
			PartSize: plan.PartSize, Concurrency: sess.Concurrency, Phase: checkpoint.PhaseSending,
			Created: now, Updated: now,
		}
	}
	u.log.Info("upload session created", "key", sess.Key, "parts", plan.Parts, "partSize", plan.PartSize, "single", plan.Single)
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
		u.stored = true
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
		u.save(ctx)
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
	if want := u.combinedCRC(); ok && crc != want {
		// The upload id is gone, so nothing can be re-sent. The header may
		// have been damaged rather than the object: the backend's check,
		// with its own keys, decides.
		u.log.Warn("CompleteMultipartUpload reports another CRC-64 than the parts combine to; the backend will check the object",
			"oss", crc, "local", want)
	}
	u.stored = true
	return nil
}

// verify has the backend check the object's size and CRC-64, then forgets
// the checkpoint.
func (u *Upload) verify(ctx context.Context) (*Result, error) {
	crc := u.wholeCRC
	if !u.plan.Single {
		crc = u.combinedCRC()
	}
	var obj *Object
	err := u.retrier().do(ctx, "backend.complete", func(ctx context.Context) error {
		o, err := u.e.b.Complete(ctx, u.ticket, u.ident.Size, crc)
		obj = o
		return err
	})
	if err != nil {
		return nil, err
	}
	if u.rec != nil && u.e.o.Store != nil && !u.noCheckpoint {
		// The object is verified; a leftover checkpoint would only offer a
		// resume that cannot work.
		if err := u.e.o.Store.Delete(ctx, u.id); err != nil {
			u.log.Warn("could not delete the checkpoint", "err", err)
		}
	}
	return &Result{Bucket: obj.Bucket, Key: obj.Key, Size: obj.Size, CRC64: crc, ETag: obj.ETag}, nil
}

// combinedCRC folds the parts' CRCs in order into the object's.
func (u *Upload) combinedCRC() uint64 {
	u.recMu.Lock()
	defer u.recMu.Unlock()
	var crc uint64
	var c crcCombiner
	for _, p := range u.rec.Parts {
		crc = c.add(crc, p.CRC64, uint64(p.Size))
	}
	return crc
}

// save writes the checkpoint record; a failure only costs resumability,
// so it is logged, not fatal. A pause does not interrupt it: what it
// records happened already. Saving a record of the first format migrates
// it (its parts become part entries).
func (u *Upload) save(ctx context.Context) {
	if u.e.o.Store == nil || u.noCheckpoint {
		return
	}
	ctx = context.WithoutCancel(ctx)
	u.recMu.Lock()
	defer u.recMu.Unlock()
	u.rec.Updated = u.e.o.Clock.Now()
	if err := u.e.o.Store.Save(ctx, u.id, u.rec); err != nil {
		u.log.Warn("could not save the checkpoint", "err", err)
		return
	}
	u.rec.Legacy = false
}

// savePart writes one confirmed part's entry: one small write, without
// rewriting the record, so its cost does not grow with the part count.
func (u *Upload) savePart(ctx context.Context, p checkpoint.Part) {
	if u.e.o.Store == nil || u.noCheckpoint {
		return
	}
	if err := u.e.o.Store.SavePart(context.WithoutCancel(ctx), u.id, u.rec.UploadID, p); err != nil {
		u.log.Warn("could not save the checkpoint part", "part", p.Number, "err", err)
	}
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
