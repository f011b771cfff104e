// Package osslifecycle is the lifecycle runner of the local OSS: it applies
// the buckets' lifecycle rules (PutBucketLifecycle) to the store, deleting
// the objects an Expiration rule says are due and aborting the multipart
// uploads an AbortMultipartUpload rule says are due.
//
// When a rule is due follows OSS's documentation
// (https://www.alibabacloud.com/help/en/oss/user-guide/the-reason-why-objects-in-a-bucket-are-not-deleted-or-why-the-storage-class-of-the-objects-is-not-converted):
// OSS rounds an object's last-modified time up to the next UTC midnight and
// counts Days from there, so an object written at 23:00 UTC on day D with
// Days=1 expires at 00:00 UTC on D+2. CreatedBeforeDate applies to anything
// last modified strictly before that date (PutBucketLifecycle, "objects
// updated after this time (including this time) are not deleted"). The
// deprecated Date element makes everything the rule selects due from that
// date on ("if the specified time is earlier than the current moment, it
// takes effect immediately", the OSS Go SDK v2's documentation of it).
//
// Real OSS runs the rules once a day and may take up to 24 hours after an
// object is due; the local runner acts at its next run after the due time,
// which is within what OSS may do. Tests move the store's clock and call Run.
package osslifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ossup/ossup/internal/localcloud/osserr"
	"github.com/ossup/ossup/internal/localcloud/ossstore"
)

// Runner applies lifecycle rules. Runs are serialised.
type Runner struct {
	store *ossstore.Store
	now   func() time.Time
	log   *slog.Logger

	run sync.Mutex

	mu     sync.Mutex
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

// New returns a Runner over store. now must be the store's clock (the one
// data is stamped with); nil means time.Now.
func New(store *ossstore.Store, now func() time.Time, log *slog.Logger) *Runner {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{store: store, now: now, log: log}
}

// Expired is an object a run deleted.
type Expired struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Rule   string `json:"rule"`
}

// Aborted is a multipart upload a run aborted.
type Aborted struct {
	Bucket   string `json:"bucket"`
	Key      string `json:"key"`
	UploadID string `json:"uploadId"`
	Rule     string `json:"rule"`
}

// Report is what one run did.
type Report struct {
	// At is the store time the run judged against.
	At             time.Time `json:"at"`
	ExpiredObjects []Expired `json:"expiredObjects"`
	AbortedUploads []Aborted `json:"abortedUploads"`
}

// Run applies every enabled rule of every bucket once, as of the store's
// current time. It stops early, with ctx's error, when ctx ends; what it did
// until then stays done.
func (r *Runner) Run(ctx context.Context) (*Report, error) {
	r.run.Lock()
	defer r.run.Unlock()
	now := r.now().UTC()
	rep := &Report{At: now, ExpiredObjects: []Expired{}, AbortedUploads: []Aborted{}}
	for _, b := range r.store.Buckets() {
		for _, rule := range b.Lifecycle {
			if !rule.Enabled {
				continue
			}
			if err := r.abortUploads(ctx, b.Name, rule, now, rep); err != nil {
				return rep, err
			}
			if err := r.expireObjects(ctx, b.Name, rule, now, rep); err != nil {
				return rep, err
			}
		}
	}
	if n := len(rep.ExpiredObjects) + len(rep.AbortedUploads); n > 0 {
		r.log.Info("lifecycle run", "expired_objects", len(rep.ExpiredObjects), "aborted_uploads", len(rep.AbortedUploads))
	}
	return rep, nil
}

// listPage is how many keys or uploads one listing call returns.
const listPage = 1000

func (r *Runner) expireObjects(ctx context.Context, bucket string, rule ossstore.LifecycleRule, now time.Time, rep *Report) error {
	if rule.Expiration == nil {
		return nil
	}
	due := func(o *ossstore.ObjectInfo) bool {
		return AppliesTo(rule, o) && Due(*rule.Expiration, o.LastModified, now)
	}
	marker := ""
	for {
		page, err := r.store.ListObjects(bucket, ossstore.ListObjectsQuery{Prefix: rule.Prefix, Marker: marker, MaxKeys: listPage})
		if err != nil {
			return ignoreGone(err)
		}
		for _, o := range page.Objects {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !due(&o) {
				continue
			}
			// Judged again under the object's lock: it may have been
			// replaced since it was listed.
			deleted, err := r.store.ExpireObject(bucket, o.Key, due)
			if err != nil {
				return fmt.Errorf("lifecycle: expire %s/%s: %w", bucket, o.Key, err)
			}
			if deleted {
				rep.ExpiredObjects = append(rep.ExpiredObjects, Expired{Bucket: bucket, Key: o.Key, Rule: rule.ID})
			}
		}
		if !page.IsTruncated {
			return nil
		}
		marker = page.NextMarker
	}
}

func (r *Runner) abortUploads(ctx context.Context, bucket string, rule ossstore.LifecycleRule, now time.Time, rep *Report) error {
	if rule.AbortMultipartUpload == nil {
		return nil
	}
	q := ossstore.ListUploadsQuery{Prefix: rule.Prefix, MaxUploads: listPage}
	for {
		page, err := r.store.ListUploads(bucket, q)
		if err != nil {
			return ignoreGone(err)
		}
		for _, u := range page.Uploads {
			if err := ctx.Err(); err != nil {
				return err
			}
			// An upload's initiation time never changes, so it needs no
			// second look; one completed or aborted meanwhile is NoSuchUpload.
			if !Due(*rule.AbortMultipartUpload, u.Initiated, now) {
				continue
			}
			err := r.store.AbortUpload(bucket, u.Key, u.UploadID)
			if isCode(err, "NoSuchUpload") {
				continue
			}
			if err != nil {
				return fmt.Errorf("lifecycle: abort %s/%s upload %s: %w", bucket, u.Key, u.UploadID, err)
			}
			rep.AbortedUploads = append(rep.AbortedUploads, Aborted{Bucket: bucket, Key: u.Key, UploadID: u.UploadID, Rule: rule.ID})
		}
		if !page.IsTruncated {
			return nil
		}
		q.KeyMarker, q.UploadIDMarker = page.NextKeyMarker, page.NextUploadIDMarker
	}
}

// ignoreGone treats a bucket deleted during the run as done.
func ignoreGone(err error) error {
	if isCode(err, "NoSuchBucket") {
		return nil
	}
	return err
}

func isCode(err error, code string) bool {
	var e *osserr.Error
	return errors.As(err, &e) && e.Code == code
}

// AppliesTo reports whether rule's filters select the object: its prefix,
// every tag of the rule, the size bounds, and no Not entry.
func AppliesTo(rule ossstore.LifecycleRule, o *ossstore.ObjectInfo) bool {
	if !strings.HasPrefix(o.Key, rule.Prefix) {
		return false
	}
	for _, t := range rule.Tags {
		if !slices.Contains(o.Tags, t) {
			return false
		}
	}
	if rule.SizeGreaterThan != nil && o.Size <= *rule.SizeGreaterThan {
		return false
	}
	if rule.SizeLessThan != nil && o.Size >= *rule.SizeLessThan {
		return false
	}
	for _, n := range rule.Not {
		if strings.HasPrefix(o.Key, n.Prefix) && (n.Tag == nil || slices.Contains(o.Tags, *n.Tag)) {
			return false
		}
	}
	return true
}

// Due reports whether an action is due, at now, for something last
// modified (or initiated) at t.
func Due(a ossstore.LifecycleAction, t, now time.Time) bool {
	switch {
	case !a.CreatedBefore.IsZero():
		return t.Before(a.CreatedBefore)
	case !a.Date.IsZero():
		return !now.Before(a.Date)
	}
	return !now.Before(ExpiresAt(a.Days, t))
}

// ExpiresAt is when an action of Days days is due for something last
// modified at t: t rounded up to the next UTC midnight, plus Days days.
func ExpiresAt(days int, t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if day.Before(t) {
		day = day.AddDate(0, 0, 1)
	}
	return day.AddDate(0, 0, days)
}

// Start runs the rules every interval in the background until Stop.
func (r *Runner) Start(interval time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stop != nil || r.closed || interval <= 0 {
		return
	}
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	go r.loop(interval, r.stop, r.done)
}

func (r *Runner) loop(interval time.Duration, stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		if _, err := r.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			r.log.Error("lifecycle run failed", "err", err)
		}
		cancel()
	}
}

// Stop ends the background runs and waits for one in progress to stop.
func (r *Runner) Stop() {
	r.mu.Lock()
	stop, done := r.stop, r.done
	r.stop, r.closed = nil, true
	r.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}
