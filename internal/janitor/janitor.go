// Package janitor aborts abandoned multipart uploads, so parts of uploads
// the browser never completed or cancelled stop costing storage.
//
// On real OSS a bucket lifecycle rule (AbortMultipartUpload with Days) can do
// the same server-side; the janitor covers buckets without such a rule and
// the local cloud, which has no lifecycle engine.
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
	// PageSize is max-uploads per ListMultipartUploads page, 1-1000;
	// 0 leaves it to OSS (1000).
	PageSize int32
	Now      func() time.Time
	Logger   *slog.Logger
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

// Run calls RunOnce every Interval until ctx ends. The first run comes after
// a random delay of up to a tenth of Interval (at most a minute). Errors are
// logged, not returned: the next run retries.
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
		// Timed from the end of a run, so a slow run never overlaps the next.
		timer.Reset(j.interval)
	}
}
