package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/chromedp/chromedp"
)

// resumeRecord is one reload-at-50 % run of ours.
type resumeRecord struct {
	SizeBytes int64 `json:"sizeBytes"`
	// ConfirmedAtReload are the bytes OSS had confirmed when the page
	// reloaded; SendingAtReload those in requests in flight.
	ConfirmedAtReload int64 `json:"confirmedAtReload"`
	SendingAtReload   int64 `json:"sendingAtReload"`
	// ReconciledBytes are the bytes the resumed upload counted as done
	// (checkpoint reconciled with ListParts) when it started sending.
	ReconciledBytes int64 `json:"reconciledBytes"`
	// PartBytes are all UploadPart body bytes the local OSS received, both
	// page lives together; ResentBytes = PartBytes - size; Bound is the
	// parts that can be in flight (concurrency × part size).
	PartBytes   int64 `json:"partBytes"`
	ResentBytes int64 `json:"resentBytes"`
	BoundBytes  int64 `json:"boundBytes"`
	// Times from the resume call (the file picked again on the reloaded
	// page): until the upload was sending again (state "uploading"), until
	// the first resumed UploadPart request started (the worker's resource
	// timing), until the object was complete and verified.
	ToUploadingMs float64 `json:"toUploadingMs"`
	ToFirstPartMs float64 `json:"toFirstPartMs"`
	TotalMs       float64 `json:"totalMs"`
}

// measureResume uploads src through ours, reloads the page once half of it
// is confirmed, picks the file again and lets the engine resume. The bytes
// sent twice are counted by the local OSS.
func (b *bench) measureResume(src source) (resumeRecord, error) {
	rec := resumeRecord{SizeBytes: src.Size, BoundBytes: int64(b.concurrency) * b.partSize}
	ctx, cancel := context.WithTimeout(b.tab, 2*runTimeout(src.Size))
	defer cancel()
	q := "concurrency=" + strconv.Itoa(b.concurrency)
	if _, err := openBench(ctx, b.be.base, "ours", q); err != nil {
		return rec, err
	}
	if err := pick(ctx, src.Path); err != nil {
		return rec, err
	}
	stats := b.be.srv.Cloud().OSS.Stats()
	before := stats.Snapshot()["UploadPart"]
	net0 := b.netEvents.Load()
	// The first page's worker goes away with the reload.
	stale, err := workerTargets(ctx)
	if err != nil {
		return rec, err
	}
	if err := evalJSON(ctx, "JSON.stringify(bench.reloadAt(0.5))", nil); err != nil {
		return rec, fmt.Errorf("start the upload to interrupt: %w", err)
	}
	var info struct {
		Confirmed, Sending int64
		Finished           bool
	}
	for {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](
			`(b => !b ? '' : b.finishedBeforeReload ? '{"finished":true}' : b.ready && b.reloadInfo ? JSON.stringify(b.reloadInfo) : '')(window.bench)`))
		if err == nil && s != "" {
			if err := json.Unmarshal([]byte(s), &info); err != nil {
				return rec, err
			}
			break
		}
		select {
		case <-ctx.Done():
			return rec, fmt.Errorf("the page never reloaded: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if info.Finished {
		return rec, errors.New("the upload finished before the page could reload at 50 %")
	}
	rec.ConfirmedAtReload, rec.SendingAtReload = info.Confirmed, info.Sending
	// The requests the reload cut end at the server a little later; count
	// them with the first page's bytes.
	if err := settle(ctx, func() int64 { return stats.Snapshot()["UploadPart"].BytesIn }); err != nil {
		return rec, err
	}

	if err := pick(ctx, src.Path); err != nil {
		return rec, err
	}
	worker, wcancel, err := attachWorker(ctx, stale, b.netEvents)
	if err != nil {
		return rec, err
	}
	defer wcancel()
	var res struct {
		Pending                 int
		Start, UploadingAt, End float64
		ConfirmedAtStart        int64
		Key                     string
		PendingBytesDone        int64
	}
	if err := evalJSON(ctx, "bench.resume()", &res); err != nil {
		return rec, fmt.Errorf("resume: %w", err)
	}
	if res.Pending != 1 {
		return rec, fmt.Errorf("after the reload the engine listed %d resumable uploads, want 1", res.Pending)
	}
	var starts []float64
	if err := cdpEvalJSON(worker, `JSON.stringify(performance.getEntriesByType('resource')
		.filter((e) => /[?&]partNumber=/.test(e.name)).map((e) => performance.timeOrigin + e.startTime))`, &starts); err != nil {
		return rec, fmt.Errorf("the worker's resource timings: %w", err)
	}
	if len(starts) == 0 {
		return rec, errors.New("the resumed upload sent no UploadPart request")
	}
	if n := b.netEvents.Load() - net0; n > 0 {
		return rec, fmt.Errorf("%w: %d Network events during the run", errNetworkOn, n)
	}
	after := stats.Snapshot()["UploadPart"]
	rec.ReconciledBytes = res.ConfirmedAtStart
	rec.PartBytes = after.BytesIn - before.BytesIn
	rec.ResentBytes = rec.PartBytes - src.Size
	rec.ToUploadingMs = res.UploadingAt - res.Start
	rec.ToFirstPartMs = slices.Min(starts) - res.Start
	rec.TotalMs = res.End - res.Start
	if err := b.check(ctx, res.Key, src); err != nil {
		return rec, err
	}
	return rec, nil
}

// settle waits until counter stops moving for 300 ms.
func settle(ctx context.Context, counter func() int64) error {
	last, since := counter(), time.Now()
	for time.Since(since) < 300*time.Millisecond {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if n := counter(); n != last {
			last, since = n, time.Now()
		}
	}
	return nil
}
