package engine

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/partplan"
)

// resume looks for a checkpoint of this file and, if it is usable, takes
// the upload over from it: ok reports that it did. A damaged record or a
// changed file abandons the old multipart upload (aborted through the
// backend) and starts afresh.
func (u *Upload) resume(ctx context.Context) (ok bool, err error) {
	store := u.e.o.Store
	rec, err := store.Load(ctx, u.id)
	if errors.Is(err, checkpoint.ErrNotFound) {
		return false, nil
	}
	if de := checkpoint.AsDamaged(err); de != nil {
		if de.Newer {
			// A newer build's record: neither resumed nor touched (a
			// rollback must not destroy it); this upload goes on without
			// a checkpoint.
			u.log.Warn("checkpoint of a newer format; uploading without resuming", "err", err)
			u.noCheckpoint = true
			return false, nil
		}
		u.log.Warn("checkpoint damaged; starting over", "err", err)
		return false, u.abandon(ctx, de.Salvage)
	}
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		// Storage failing (quota, private mode) must not stop the upload.
		u.log.Warn("could not read the checkpoint; uploading without resuming", "err", err)
		return false, nil
	}
	if rec.Single() {
		// Only multipart uploads are resumed for now.
		u.log.Info("single-PUT checkpoint; starting over")
		return false, u.forget(ctx)
	}
	if err := rec.Validate(); err != nil {
		u.log.Warn("checkpoint invalid; starting over", "err", err)
		return false, u.abandon(ctx, rec)
	}
	if err := rec.Matches(u.ident); err != nil {
		u.log.Warn("file changed since the checkpoint; starting over", "err", err)
		return false, u.abandon(ctx, rec)
	}
	if rec.Endpoint == "" || rec.Region == "" {
		u.log.Warn("checkpoint lacks the endpoint; starting over")
		return false, u.abandon(ctx, rec)
	}
	tgt, err := newTarget(rec.Endpoint, rec.Bucket, rec.Key, rec.Region, rec.PathStyle)
	if err != nil {
		return false, u.abandon(ctx, rec)
	}

	// Fresh credentials for the old ticket; a ticket the backend no longer
	// accepts cannot abort either, so the old upload is left to the
	// backend's janitor.
	u.ticket, u.tgt, u.rec = rec.Ticket, tgt, rec
	u.creds = u.newCreds(nil)
	err = u.retrier().do(ctx, "backend.refresh", func(ctx context.Context) error {
		_, err := u.creds.get(ctx)
		return err
	})
	if err != nil {
		u.ticket, u.tgt, u.rec, u.creds = "", nil, nil, nil
		var ae *APIError
		if ctx.Err() != nil || !errors.As(err, &ae) || classify(ae) != terminal {
			return false, ctxOr(ctx, err)
		}
		u.log.Warn("checkpoint's ticket refused; starting over", "err", err)
		return false, u.forget(ctx)
	}
	u.plan = partplan.Plan{Size: rec.File.Size, PartSize: rec.PartSize, Parts: int(ceilDiv(rec.File.Size, rec.PartSize))}
	u.conc = u.concurrency(0)

	server, err := u.listParts(ctx)
	var oe *OSSError
	if errors.As(err, &oe) && oe.Code == "NoSuchUpload" {
		if rec.Done() == rec.File.Size {
			// Every part was acknowledged: the crash came after Complete,
			// so only the backend's verification is left.
			u.log.Info("multipart upload already completed; verifying")
			u.stored = true
			u.confirmed.Store(rec.File.Size)
			return true, nil
		}
		u.log.Warn("multipart upload gone (aborted or expired); starting over")
		u.ticket, u.tgt, u.rec, u.creds = "", nil, nil, nil
		return false, u.forget(ctx)
	}
	if err != nil {
		return false, err
	}
	if err := u.reconcile(ctx, server); err != nil {
		return false, err
	}
	u.log.Info("resuming upload", "key", rec.Key, "uploadId", rec.UploadID, "done", rec.Done(), "size", rec.File.Size)
	return true, nil
}

// abandon aborts rec's upload (best effort) and deletes the checkpoint.
func (u *Upload) abandon(ctx context.Context, rec *checkpoint.Record) error {
	if err := u.e.discard(ctx, u.id, rec); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		u.log.Warn("could not abandon the old upload", "err", err)
	}
	return nil
}

// forget deletes the checkpoint without aborting.
func (u *Upload) forget(ctx context.Context) error {
	return u.abandon(ctx, nil)
}

// reconcile takes OSS's list of parts as the truth. A part in the
// checkpoint counts as done only if OSS has it with the same ETag, CRC and
// size. A part OSS has but the checkpoint lacks (acknowledged just before a
// crash, before the save) counts if its size matches the plan and its CRC
// matches the local file's bytes, which costs a local read but no upload.
// Every other part is sent (again): re-sending a part number replaces it,
// so that is always safe.
func (u *Upload) reconcile(ctx context.Context, server map[int]serverPart) error {
	have := map[int]checkpoint.Part{}
	for _, p := range u.rec.Parts {
		have[p.Number] = p
	}
	var parts []checkpoint.Part
	var buf []byte
	for n := 1; n <= u.plan.Parts; n++ {
		sp, onServer := server[n]
		if !onServer {
			continue
		}
		off, length := u.plan.Part(n)
		if sp.Size != length {
			continue
		}
		if cp, ok := have[n]; ok {
			if sameETag(cp.ETag, sp.ETag) && cp.CRC64 == sp.CRC && cp.Size == sp.Size {
				parts = append(parts, cp)
			}
			// Otherwise something else wrote that part number: send it
			// again rather than guess which is right.
			continue
		}
		if buf == nil {
			buf = make([]byte, crcChunk)
		}
		crc, err := crcOfRange(ctx, u.src, off, length, buf)
		if err != nil {
			return ctxOr(ctx, uploadError("read", err, 1))
		}
		if crc == sp.CRC {
			p := checkpoint.Part{Number: n, ETag: sp.ETag, CRC64: sp.CRC, Size: length}
			parts = append(parts, p)
			u.savePart(ctx, p)
		}
	}
	u.recMu.Lock()
	u.rec.Parts = parts
	var done int64
	for _, p := range parts {
		done += p.Size
	}
	u.recMu.Unlock()
	u.confirmed.Store(done)
	u.save(ctx)
	return nil
}

func sameETag(a, b string) bool {
	return strings.EqualFold(strings.Trim(a, `"`), strings.Trim(b, `"`))
}

// sendParts uploads every part not yet done with u.conc workers. The first
// terminal failure stops the others.
func (u *Upload) sendParts(ctx context.Context) error {
	u.recMu.Lock()
	done := map[int]bool{}
	for _, p := range u.rec.Parts {
		done[p.Number] = true
	}
	u.recMu.Unlock()
	var todo []int
	for n := 1; n <= u.plan.Parts; n++ {
		if !done[n] {
			todo = append(todo, n)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for w := 0; w < min(u.conc, len(todo)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, min(crcChunk, u.plan.PartSize))
			for n := range jobs {
				if err := u.sendPart(ctx, n, buf); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
feed:
	for _, n := range todo {
		select {
		case jobs <- n:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// sendPart hashes part n from the file, uploads it, and records it.
func (u *Upload) sendPart(ctx context.Context, n int, buf []byte) error {
	off, length := u.plan.Part(n)
	crc, err := crcOfRange(ctx, u.src, off, length, buf)
	if err != nil {
		return ctxOr(ctx, uploadError("read", err, 1))
	}
	etag, err := u.uploadPart(ctx, n, off, length, crc)
	if err != nil {
		return err
	}
	u.recMu.Lock()
	p := checkpoint.Part{Number: n, ETag: etag, CRC64: crc, Size: length}
	u.rec.AddPart(p)
	u.recMu.Unlock()
	u.confirmed.Add(length)
	u.savePart(ctx, p)
	return nil
}
