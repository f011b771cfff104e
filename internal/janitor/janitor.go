// Package janitor aborts abandoned multipart uploads, so parts of uploads
// the browser never completed or cancelled stop costing storage, and
// deletes objects that were stored but never verified, so nothing the
// backend did not accept stays at a key the application could serve.
//
// On real OSS bucket lifecycle rules (AbortMultipartUpload with Days, and
// Expiration with a Not filter on the verified tag) can do the same
// server-side; the janitor covers buckets without such rules.
package janitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

const (
	defaultMaxAge   = 7 * 24 * time.Hour
	defaultInterval = time.Hour
	// minMaxAge keeps a unit mistake (e.g. "7" read as nanoseconds) from
	// aborting uploads that are still running.
	minMaxAge = time.Hour
	// maxJitter bounds the random delay before the first run, which keeps
	// several backend instances started together from listing in lockstep.
	maxJitter = time.Minute
	// maxPageSize is OSS's largest max-uploads.
	maxPageSize = 1000
)

// Config configures a Janitor.
type Config struct {
	// Client is an OSS client with the backend's own credentials; it needs
	// oss:ListMultipartUploads on the bucket and oss:AbortMultipartUpload on
	// Prefix*.
	Client *oss.Client
	// Bucket is the bucket to clean.
	Bucket string
	// Prefix limits the janitor to uploads whose key starts with it. It is
	// required: an empty prefix would touch every upload in the bucket,
	// including those of other applications.
	Prefix string
	// MaxAge is how long after initiation an upload counts as abandoned;
	// default 7 days, at least 1 hour.
	MaxAge time.Duration
	// Interval is the time between runs of Run; default 1 hour.
	Interval time.Duration
	// PageSize is max-uploads per ListMultipartUploads page (and max-keys
	// per ListObjectsV2 page), 1-1000; 0 leaves it to OSS (1000).
	PageSize int32
	// UnverifiedMaxAge is how long after it was stored an object under
	// Prefix may stay without the tag VerifiedTag=VerifiedValue before
	// ReapOnce deletes it; 0 turns reaping off. At least 1 hour. The client
	// then also needs oss:ListObjects on the bucket and oss:GetObjectTagging
	// and oss:DeleteObject on Prefix*.
	UnverifiedMaxAge time.Duration
	// VerifiedTag and VerifiedValue mark an object the backend verified;
	// required with UnverifiedMaxAge.
	VerifiedTag, VerifiedValue string
	Now                        func() time.Time
	Logger                     *slog.Logger
}

// Janitor aborts multipart uploads older than MaxAge under one prefix.
type Janitor struct {
	client   *oss.Client
	bucket   string
	prefix   string
	maxAge   time.Duration
	interval time.Duration
	pageSize int32
	now      func() time.Time
	log      *slog.Logger

	unverifiedMaxAge         time.Duration
	verifiedTag, verifiedVal string
	// settled is the cutoff of the last reap that finished without an
	// error: every object stored before it was then deleted or found
	// verified, and a verified object stays verified, so later runs only
	// read the tags of objects stored since. Only Run's goroutine (or one
	// caller of ReapOnce at a time) touches it.
	settled time.Time
}

// New validates cfg and applies the defaults.
func New(cfg Config) (*Janitor, error) {
	if cfg.MaxAge == 0 {
		cfg.MaxAge = defaultMaxAge
	}
	if cfg.Interval == 0 {
		cfg.Interval = defaultInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if cfg.Client == nil {
		errs = append(errs, errors.New("Client is required"))
	}
	if cfg.Bucket == "" {
		errs = append(errs, errors.New("Bucket is required"))
	}
	if cfg.Prefix == "" {
		errs = append(errs, errors.New("Prefix is required"))
	}
	if cfg.MaxAge < minMaxAge {
		errs = append(errs, fmt.Errorf("MaxAge must be at least %s, got %s", minMaxAge, cfg.MaxAge))
	}
	if cfg.Interval < 0 {
		errs = append(errs, fmt.Errorf("Interval must be positive, got %s", cfg.Interval))
	}
	if cfg.UnverifiedMaxAge != 0 && cfg.UnverifiedMaxAge < minMaxAge {
		errs = append(errs, fmt.Errorf("UnverifiedMaxAge must be 0 (off) or at least %s, got %s", minMaxAge, cfg.UnverifiedMaxAge))
	}
	if cfg.UnverifiedMaxAge != 0 && (cfg.VerifiedTag == "" || cfg.VerifiedValue == "") {
		errs = append(errs, errors.New("VerifiedTag and VerifiedValue are required with UnverifiedMaxAge"))
	}
	if cfg.PageSize < 0 || cfg.PageSize > maxPageSize {
		errs = append(errs, fmt.Errorf("PageSize must be 0-%d, got %d", maxPageSize, cfg.PageSize))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("janitor: invalid config: %w", err)
	}
	return &Janitor{
		client: cfg.Client, bucket: cfg.Bucket, prefix: cfg.Prefix,
		maxAge: cfg.MaxAge, interval: cfg.Interval, pageSize: cfg.PageSize,
		now: cfg.Now, log: cfg.Logger,
		unverifiedMaxAge: cfg.UnverifiedMaxAge, verifiedTag: cfg.VerifiedTag, verifiedVal: cfg.VerifiedValue,
	}, nil
}

// RunOnce pages through the multipart uploads under Prefix and aborts those
// initiated before Now-MaxAge. It returns how many it aborted. A failed abort
// does not stop the run; failures are returned joined. An upload that is
// already gone (NoSuchUpload: completed or aborted meanwhile) is not a
// failure and not counted. A failed listing ends the run, since the next
// page cannot be found without it.
func (j *Janitor) RunOnce(ctx context.Context) (aborted int, err error) {
	cutoff := j.now().Add(-j.maxAge)
	var errs []error
	pages := j.client.NewListMultipartUploadsPaginator(
		&oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(j.bucket), Prefix: oss.Ptr(j.prefix)},
		func(o *oss.PaginatorOptions) { o.Limit = j.pageSize })
	// Aborting while paging is safe: the markers name a position in key
	// order, not an entry that must still exist.
	for pages.HasNext() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("janitor: list uploads in %s/%s: %w", j.bucket, j.prefix, err))
			break
		}
		for _, u := range page.Uploads {
			if err := ctx.Err(); err != nil {
				return aborted, errors.Join(append(errs, fmt.Errorf("janitor: %w", err))...)
			}
			ok, err := j.abortIfOld(ctx, u, cutoff)
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				aborted++
			}
		}
	}
	err = errors.Join(errs...)
	level := slog.LevelDebug
	if aborted > 0 || err != nil {
		level = slog.LevelInfo
	}
	j.log.LogAttrs(ctx, level, "janitor: run finished",
		slog.String("bucket", j.bucket), slog.String("prefix", j.prefix),
		slog.Int("aborted", aborted), slog.Int("failed", len(errs)))
	return aborted, err
}

// abortIfOld aborts u if it was initiated before cutoff, reporting whether
// this call aborted it.
func (j *Janitor) abortIfOld(ctx context.Context, u oss.Upload, cutoff time.Time) (bool, error) {
	key, id := oss.ToString(u.Key), oss.ToString(u.UploadId)
	// OSS filters by prefix already; checking again keeps a server or SDK bug
	// from widening what the janitor deletes.
	if !strings.HasPrefix(key, j.prefix) || id == "" {
		return false, nil
	}
	if u.Initiated == nil {
		j.log.LogAttrs(ctx, slog.LevelWarn, "janitor: upload without an initiation time; skipped",
			slog.String("key", key), slog.String("upload_id", id))
		return false, nil
	}
	if !u.Initiated.Before(cutoff) {
		return false, nil
	}
	_, err := j.client.AbortMultipartUpload(ctx, &oss.AbortMultipartUploadRequest{
		Bucket: oss.Ptr(j.bucket), Key: oss.Ptr(key), UploadId: oss.Ptr(id),
	})
	var se *oss.ServiceError
	switch {
	case errors.As(err, &se) && se.Code == "NoSuchUpload":
		j.log.LogAttrs(ctx, slog.LevelDebug, "janitor: upload already gone",
			slog.String("key", key), slog.String("upload_id", id))
		return false, nil
	case err != nil:
		j.log.LogAttrs(ctx, slog.LevelWarn, "janitor: abort failed",
			slog.String("key", key), slog.String("upload_id", id), slog.String("error", err.Error()))
		return false, fmt.Errorf("janitor: abort %q (upload %s): %w", key, id, err)
	}
	j.log.LogAttrs(ctx, slog.LevelInfo, "janitor: aborted abandoned upload",
		slog.String("key", key), slog.String("upload_id", id), slog.Time("initiated", *u.Initiated))
	return true, nil
}

// ReapOnce lists the objects under Prefix and deletes those stored before
// Now-UnverifiedMaxAge that do not carry VerifiedTag=VerifiedValue. It
// returns how many it deleted; like RunOnce it carries on past a failed
// object and stops at a failed listing. With UnverifiedMaxAge 0 it does
// nothing.
//
// Cost: one ListObjectsV2 request per 1000 objects under Prefix per run,
// and one GetObjectTagging per object old enough to judge — each object
// once per process, since the run remembers what it already settled. A
// bucket lifecycle rule does the same without requests (see the README).
func (j *Janitor) ReapOnce(ctx context.Context) (deleted int, err error) {
	if j.unverifiedMaxAge == 0 {
		return 0, nil
	}
	cutoff := j.now().Add(-j.unverifiedMaxAge)
	var errs []error
	req := &oss.ListObjectsV2Request{Bucket: oss.Ptr(j.bucket), Prefix: oss.Ptr(j.prefix)}
	if j.pageSize > 0 {
		req.MaxKeys = j.pageSize
	}
	pages := j.client.NewListObjectsV2Paginator(req)
	listed := true
	for pages.HasNext() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("janitor: list objects in %s/%s: %w", j.bucket, j.prefix, err))
			listed = false
			break
		}
		for _, o := range page.Contents {
			if err := ctx.Err(); err != nil {
				return deleted, errors.Join(append(errs, fmt.Errorf("janitor: %w", err))...)
			}
			key := oss.ToString(o.Key)
			// As in abortIfOld: never act outside Prefix, whatever the listing says.
			if !strings.HasPrefix(key, j.prefix) || o.LastModified == nil ||
				!o.LastModified.Before(cutoff) || o.LastModified.Before(j.settled) {
				continue
			}
			ok, err := j.deleteIfUnverified(ctx, key, *o.LastModified)
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				deleted++
			}
		}
	}
	if listed && len(errs) == 0 {
		j.settled = cutoff
	}
	err = errors.Join(errs...)
	level := slog.LevelDebug
	if deleted > 0 || err != nil {
		level = slog.LevelInfo
	}
	j.log.LogAttrs(ctx, level, "janitor: reap finished",
		slog.String("bucket", j.bucket), slog.String("prefix", j.prefix),
		slog.Int("deleted", deleted), slog.Int("failed", len(errs)))
	return deleted, err
}

// deleteIfUnverified deletes key unless it carries the verified tag,
// reporting whether this call deleted it.
func (j *Janitor) deleteIfUnverified(ctx context.Context, key string, stored time.Time) (bool, error) {
	res, err := j.client.GetObjectTagging(ctx, &oss.GetObjectTaggingRequest{Bucket: oss.Ptr(j.bucket), Key: oss.Ptr(key)})
	var se *oss.ServiceError
	if errors.As(err, &se) && se.Code == "NoSuchKey" {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("janitor: tags of %q: %w", key, err)
	}
	for _, t := range res.Tags {
		if oss.ToString(t.Key) == j.verifiedTag && oss.ToString(t.Value) == j.verifiedVal {
			return false, nil
		}
	}
	if _, err := j.client.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(j.bucket), Key: oss.Ptr(key)}); err != nil {
		j.log.LogAttrs(ctx, slog.LevelWarn, "janitor: delete failed", slog.String("key", key), slog.String("error", err.Error()))
		return false, fmt.Errorf("janitor: delete %q: %w", key, err)
	}
	j.log.LogAttrs(ctx, slog.LevelInfo, "janitor: deleted unverified object", slog.String("key", key), slog.Time("stored", stored))
	return true, nil
}

// Run calls RunOnce and ReapOnce every Interval until ctx ends. The first
// run comes after a random delay of up to a tenth of Interval (at most a
// minute). Errors are logged, not returned: the next run retries.
func (j *Janitor) Run(ctx context.Context) {
	jitter := min(j.interval/10, maxJitter)
	timer := time.NewTimer(rand.N(jitter + 1))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if _, err := j.RunOnce(ctx); err != nil && ctx.Err() == nil {
			j.log.LogAttrs(ctx, slog.LevelWarn, "janitor: run failed", slog.String("error", err.Error()))
		}
		if _, err := j.ReapOnce(ctx); err != nil && ctx.Err() == nil {
			j.log.LogAttrs(ctx, slog.LevelWarn, "janitor: reap failed", slog.String("error", err.Error()))
		}
		// Timed from the end of a run, so a slow run never overlaps the next.
		timer.Reset(j.interval)
	}
}
