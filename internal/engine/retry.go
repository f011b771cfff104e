package engine

import (
	"context"
	"errors"
	"strings"
	"time"
)

// failure kinds, from the point of view of the retry loop.
type kind int

const (
	terminal kind = iota
	transient
	network  // transient, and the network may be down: wait for it
	authFail // OSS refused the credentials: refresh and retry
	skewed   // OSS refused our clock: correct and retry
	appAuth  // the backend refused the page's authentication: wait for new headers
)

// authCodes are OSS's answers to expired or unknown temporary credentials.
var authCodes = map[string]bool{"SecurityTokenExpired": true, "InvalidAccessKeyId": true, "InvalidSecurityToken": true}

// configCodes are 5xx answers of the backend that no wait fixes: its
// deployment is misconfigured, so the upload fails at once with the reason.
var configCodes = map[string]bool{"bucket_not_write_once": true}

func classify(err error) kind {
	var oe *OSSError
	var ae *APIError
	var ne *netError
	switch {
	case errors.As(err, &oe):
		switch {
		case oe.Status == statusForbidden && authCodes[oe.Code]:
			return authFail
		case oe.Code == "RequestTimeTooSkewed":
			return skewed
		case oe.Status >= 500, oe.Status == statusTooManyRequests, oe.Status == statusRequestTimeout,
			oe.Code == "RequestTimeout", oe.Code == "BadRequest":
			return transient
		}
		return terminal
	case errors.As(err, &ae):
		if ae.Status == statusUnauthorized {
			return appAuth
		}
		if configCodes[ae.Code] {
			return terminal
		}
		if ae.Status >= 500 || ae.Status == statusTooManyRequests || ae.Status == statusRequestTimeout {
			return transient
		}
		return terminal
	case errors.Is(err, errCRCMismatch):
		return transient
	case errors.As(err, &ne):
		return network
	}
	return terminal
}

// opError names the operation that really failed when it is not the one
// being retried (a credential refresh during UploadPart).
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// retrier runs one operation with the engine's retry policy.
type retrier struct {
	e   *Engine
	log Logger
	// onRetry reports a transient failure before the wait.
	onRetry func(op string, attempt int, delay time.Duration, err error)
	// onAuth is called when the backend refused the page's authentication
	// (401): it reports the wait (state unauthenticated) and blocks until
	// the page sets new headers, then the call is tried again. Nil makes a
	// 401 terminal.
	onAuth func(ctx context.Context, err *APIError) error
}

// do calls try until it succeeds, fails terminally or runs out of
// patience, backing off exponentially with full jitter and honouring
// Retry-After. The policy is by time, not by attempt count: 5xx, 429, 408,
// CRC mismatches, timeouts and network failures are retried for
// Options.Patience from this request's first failure, not counting time
// spent offline (WaitOnline). Only a network failure on an OSS route that
// never answered is reported after MaxAttempts: the browser reports a CORS
// refusal exactly like a network drop, and a misconfigured bucket should
// show its diagnosis within seconds. A refusal of the credentials or of
// the clock is retried at once, and only the first one of each is free.
// When ctx ends, do returns its error.
func (r retrier) do(ctx context.Context, op string, try func(ctx context.Context) error) error {
	o := &r.e.o
	freeAuth, freeSkew := true, true
	attempts := 0
	var first time.Time // first failure of this request, moved on by time offline
	for {
		err := try(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		attempts++
		k := classify(err)
		switch k {
		case terminal:
			return uploadError(op, err, attempts)
		case appAuth:
			var ae *APIError
			errors.As(err, &ae)
			if r.onAuth == nil {
				return uploadError(op, err, attempts)
			}
			attempts--
			r.log.Info("backend refused the page's authentication, waiting for new headers", "op", op)
			if err := r.onAuth(ctx, ae); err != nil {
				return err
			}
			continue
		case authFail:
			if freeAuth {
				freeAuth = false
				attempts--
				r.log.Info("credentials refused, refreshing", "op", op, "err", err)
				continue
			}
		case skewed:
			r.e.learnSkew(err)
			if freeSkew {
				freeSkew = false
				attempts--
				continue
			}
		}
		if first.IsZero() {
			first = o.Clock.Now()
		}
		if !r.patient(k, err, attempts, first) {
			return uploadError(op, err, attempts)
		}
		delay := backoff(attempts, o.BaseBackoff, o.MaxBackoff)
		var oe *OSSError
		var ae *APIError
		if errors.As(err, &ae) {
			delay = max(delay, ae.RetryAfter)
		} else if errors.As(err, &oe) {
			delay = max(delay, oe.RetryAfter)
			if oe.Status == statusTooManyRequests {
				delay = max(delay, time.Second)
			}
		}
		r.log.Debug("retrying", "op", op, "attempt", attempts, "delay", delay, "err", err)
		if r.onRetry != nil {
			r.onRetry(op, attempts, delay, err)
		}
		if err := sleep(ctx, o.Clock, delay); err != nil {
			return err
		}
		if k == network && o.WaitOnline != nil {
			before := o.Clock.Now()
			if err := o.WaitOnline(ctx); err != nil {
				return err
			}
			// Time spent offline is not the network failing: an upload
			// whose laptop slept for an hour gets its full patience back
			// online.
			first = first.Add(o.Clock.Now().Sub(before))
		}
	}
}

// patient reports whether a failure after attempts tries is retried.
func (r retrier) patient(k kind, err error, attempts int, first time.Time) bool {
	o := &r.e.o
	if k == network && !provenRoute(err) || o.Patience < 0 {
		return attempts < o.MaxAttempts
	}
	return attempts < o.MaxAttempts || o.Clock.Now().Sub(first) < o.Patience
}

// provenRoute reports whether a network failure is on a route known to
// pass CORS: an OSS route that answered before, or the backend.
func provenRoute(err error) bool {
	var pe *provenRouteError
	var ne *netError
	return errors.As(err, &pe) || errors.As(err, &ne) && ne.backend
}

// corsRefusalHint is the Hint of a request to OSS that never got an answer
// on a route that never answered: the browser reports a CORS
// refusal exactly like a network failure.
const corsRefusalHint = "OSS never answered this kind of request from this page. If the network works, " +
	"the bucket's CORS rule may not allow this page: it needs a rule with <AllowedOrigin> this page's origin, " +
	"<AllowedMethod> PUT, POST, GET and DELETE, and <AllowedHeader>*</AllowedHeader> " +
	"(console: Bucket > Content Security > CORS)"

// uploadError turns the last error of an operation into the terminal
// *UploadError.
func uploadError(op string, err error, attempts int) error {
	var ue *UploadError
	if errors.As(err, &ue) {
		return err
	}
	var oper *opError
	if errors.As(err, &oper) {
		op = oper.op
	}
	e := &UploadError{Op: op, Attempts: attempts, Err: err}
	var oe *OSSError
	var ae *APIError
	var ne *netError
	switch {
	case errors.As(err, &oe):
		e.Code, e.Message, e.RequestID = oe.Code, oe.Message, oe.RequestID
	case errors.As(err, &ae):
		e.Code, e.Message, e.RequestID = ae.Code, ae.Message, ae.RequestID
	case errors.Is(err, ErrCORS):
		e.Code, e.Message = "CORSExposeHeaders", err.Error()
	case errors.Is(err, errCRCMismatch):
		e.Code, e.Message = "InconsistentCRC", err.Error()
	case errors.As(err, &ne):
		e.Code, e.Message = "NetworkError", ne.err.Error()
		if ne.noAnswer && !provenRoute(err) && !strings.HasPrefix(op, "backend.") {
			e.Hint = corsRefusalHint
		}
	default:
		e.Code, e.Message = "ClientError", err.Error()
	}
	return e
}

// learnSkew records OSS's clock from a RequestTimeTooSkewed answer
// (<ServerTime>, else its Date header was folded into ServerTime by the
// caller).
func (e *Engine) learnSkew(err error) {
	var oe *OSSError
	if !errors.As(err, &oe) || oe.ServerTime == "" {
		return
	}
	for _, layout := range []string{time.RFC3339Nano, timeFormat} {
		if t, perr := time.Parse(layout, oe.ServerTime); perr == nil {
			skew := t.Sub(e.o.Clock.Now())
			e.skew.Store(int64(skew))
			e.o.Logger.Warn("clock differs from OSS's; correcting signatures", "skew", skew)
			return
		}
	}
}
