package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/partplan"
)

// takeOver resumes the multipart upload of rec, a record of this very
// file: fresh credentials for its ticket, OSS's list of parts as the truth.
// ok false means the upload cannot be resumed (the ticket refused, the
// multipart upload gone) and a new session is needed; the record is then
// discarded.
func (u *Upload) takeOver(ctx context.Context, rec *checkpoint.Record) (ok bool, err error) {
	if rec.PartSize == 0 || rec.UploadID == "" {
		// A single PUT's record is only ever saved once stored.
		u.abandon(ctx, rec)
		return false, nil
	}
	if rec.Endpoint == "" || rec.Region == "" {
		u.logger().Warn("checkpoint lacks the endpoint; starting over")
		u.abandon(ctx, rec)
		return false, nil
	}
	tgt, err := newTarget(rec.Endpoint, rec.Bucket, rec.Key, rec.Region, rec.PathStyle)
	if err != nil {
		u.abandon(ctx, rec)
		return false, nil
	}
	// The figures start from what the checkpoint confirmed, not from zero:
	// reconciliation only corrects them.
	u.confirmed.Store(rec.Done())
	u.recMu.Lock()
	u.rec = rec
	u.recMu.Unlock()
	u.ticket, u.tgt = rec.Ticket, tgt
	u.creds = u.newCreds(nil)
	err = u.retrier().do(ctx, "backend.refresh", func(ctx context.Context) error {
		_, err := u.creds.get(ctx)
		return err
	})
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == "ticket_spent" {
			// The backend verified this upload already (the answer was
			// lost): only its verification is left to hear again.
			u.logger().Info("upload already verified by the backend; confirming")
			return true, u.storedAfterAll(ctx)
		}
		u.recMu.Lock()
		u.rec = nil
		u.recMu.Unlock()
		u.ticket, u.tgt, u.creds = "", nil, nil
		u.confirmed.Store(0)
		if ctx.Err() != nil || !errors.As(err, &ae) || classify(ae) != terminal {
			return false, ctxOr(ctx, err)
		}
		// A ticket the backend no longer accepts cannot abort either: the
		// old upload is left to the backend's janitor.
		u.logger().Warn("checkpoint's ticket refused; starting over", "err", err)
		u.forget(ctx)
		return false, nil
	}
	u.plan = partplan.Plan{Size: rec.File.Size, PartSize: rec.PartSize, Parts: int(ceilDiv(rec.File.Size, rec.PartSize))}
	u.conc = u.concurrency(rec.Concurrency)
	if rec.Legacy {
		u.k.save(ctx) // migrate it now: later writes are per part
	}

	server, err := u.listParts(ctx)
	var oe *OSSError
	if errors.As(err, &oe) && oe.Code == "NoSuchUpload" {
		if rec.Done() == rec.File.Size {
			// Every part was acknowledged: the crash came after Complete,
			// so only the backend's verification is left.
			u.logger().Info("multipart upload already completed; verifying")
			return true, u.storedAfterAll(ctx)
		}
		u.logger().Warn("multipart upload gone (aborted or expired); starting over")
		u.recMu.Lock()
		u.rec = nil
		u.recMu.Unlock()
		u.ticket, u.tgt, u.creds = "", nil, nil
		u.confirmed.Store(0)
		u.forget(ctx)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := u.reconcile(ctx, server); err != nil {
		return false, err
	}
	u.logger().Info("resuming upload", "key", rec.Key, "uploadId", rec.UploadID, "done", rec.Done(), "size", rec.File.Size)
	return true, nil
}

// storedAfterAll handles a resumed upload whose object turns out to be
// stored already: its CRC comes from the parts when all are known, else
// from the file, and the record becomes verify-only.
func (u *Upload) storedAfterAll(ctx context.Context) error {
	u.recMu.Lock()
	complete := u.rec.Done() == u.rec.File.Size
	u.recMu.Unlock()
	if !complete {
		crc, err := crcOfRange(ctx, u.src, 0, u.ident.Size, make([]byte, min(crcChunk, max(u.ident.Size, 1))))
		if err != nil {
			return ctxOr(ctx, uploadError("read", err, 1))
		}
		u.recMu.Lock()
		u.rec.CRC64, u.rec.CRCKnown = crc, true
		u.recMu.Unlock()
	}
	u.confirmed.Store(u.ident.Size)
	u.enterNoReturn()
	u.k.stored(ctx)
	return nil
}

// abandon aborts rec's upload (best effort) and deletes the checkpoint.
func (u *Upload) abandon(ctx context.Context, rec *checkpoint.Record) {
	if err := u.e.discardRecord(ctx, u.id, rec); err != nil {
		u.logger().Warn("could not abandon the old upload", "err", err)
	}
}

// forget deletes the checkpoint without aborting.
func (u *Upload) forget(ctx context.Context) {
	u.abandon(ctx, nil)
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
			parts = append(parts, checkpoint.Part{Number: n, ETag: sp.ETag, CRC64: sp.CRC, Size: length})
		}
	}
	u.recMu.Lock()
	adopted := parts[:0:0]
	for _, p := range parts {
		if _, ok := have[p.Number]; !ok {
			adopted = append(adopted, p)
		}
	}
	u.rec.Parts = parts
	var done int64
	for _, p := range parts {
		done += p.Size
	}
	u.recMu.Unlock()
	u.confirmed.Store(done)
	// Parts OSS had that the checkpoint lacked are recorded now. Parts
	// the checkpoint had that OSS lacks stay recorded until sent again
	// (each part's entry is replaced then); the record in memory is the
	// truth for this run.
	for _, p := range adopted {
		u.k.part(ctx, p)
	}
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
	workers := min(u.conc, len(todo))
	st := newStagger(u.plan.PartSize, workers)
	u.stg.Store(st)
	defer u.stg.Store(nil)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					err := &UploadError{Op: "UploadPart", Code: "engine_error", Message: fmt.Sprint(p), Err: fmt.Errorf("engine: panic: %v", p)}
					errOnce.Do(func() { firstErr = err; cancel() })
				}
			}()
			// Worker w starts its first part once the parts in flight
			// have sent w/workers of a part: on a slow or shared link the
			// parts then finish one after another, so confirmed progress
			// moves every part/workers bytes rather than in big steps,
			// and an interruption loses less.
			if err := st.wait(ctx, w); err != nil {
				return
			}
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

// sendPart hashes part n from the file, uploads it, and records it. The
// bytes read for the CRC are sent when the source keeps them.
func (u *Upload) sendPart(ctx context.Context, n int, buf []byte) error {
	off, length := u.plan.Part(n)
	crc, kept, err := crcOfPart(ctx, u.src, off, length, buf)
	if err != nil {
		return ctxOr(ctx, uploadError("read", err, 1))
	}
	etag, err := u.uploadPart(ctx, n, off, length, crc, kept)
	if err != nil {
		return err
	}
	p := checkpoint.Part{Number: n, ETag: etag, CRC64: crc, Size: length}
	u.recMu.Lock()
	u.rec.AddPart(p)
	u.recMu.Unlock()
	u.confirmed.Add(length)
	u.k.part(ctx, p)
	return nil
}

// stagger holds back a run's workers so their parts do not all finish
// together: worker w waits until w*step bytes have been sent.
type stagger struct {
	step int64
	mu   sync.Mutex
	sent int64
	wake chan struct{} // closed and replaced when sent grows
}

func newStagger(partSize int64, workers int) *stagger {
	return &stagger{step: partSize / int64(max(workers, 1)), wake: make(chan struct{})}
}

// add records n more bytes sent (or, for a finished part, its rest).
func (s *stagger) add(n int64) {
	if s == nil || n <= 0 {
		return
	}
	s.mu.Lock()
	s.sent += n
	close(s.wake)
	s.wake = make(chan struct{})
	s.mu.Unlock()
}

func (s *stagger) wait(ctx context.Context, w int) error {
	for {
		s.mu.Lock()
		ok, ch := s.sent >= int64(w)*s.step, s.wake
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
