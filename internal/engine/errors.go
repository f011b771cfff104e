package engine

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"
)

var (
	// ErrCanceled is what Wait returns after Cancel.
	ErrCanceled = errors.New("engine: upload canceled")
	// ErrTooLate is Cancel's answer once the object is stored on OSS: the
	// upload goes on to be verified rather than report "canceled" while
	// the object stays.
	ErrTooLate = errors.New("engine: too late to cancel: the file is stored, its verification finishes the upload")
	// ErrAlreadyUploading: Start of a file already queued or running in
	// this Engine.
	ErrAlreadyUploading = errors.New("engine: this file is already uploading")
	// ErrFileNeeded: ResumeStored of an upload that has data left to send;
	// the file must be picked again.
	ErrFileNeeded = errors.New("engine: this upload needs its file to resume: pick the same file again")
	// ErrLocked is what Options.Lock returns when another tab or window
	// holds the upload's lock.
	ErrLocked = errors.New("engine: the upload is driven by another tab or window")
	// ErrNoLocks is what Options.Lock returns when the browser has no
	// locks at all (no cross-tab guard).
	ErrNoLocks = errors.New("engine: this browser offers no locks")
	// ErrCORS reports a successful OSS response whose headers the browser
	// hid because the bucket's CORS rule does not expose them. The wrapping
	// error names the rule to add.
	ErrCORS = errors.New("engine: the bucket's CORS rule hides response headers the upload needs")
	// errCRCMismatch reports a part or object whose CRC-64 from OSS differs
	// from the one computed locally: the data was damaged in transit, so the
	// part is sent again.
	errCRCMismatch = errors.New("crc64 mismatch")
)

// CodeOf returns the stable code of an engine error, for the page: the
// UploadError's Code, or the code of a sentinel ("" for nil and for errors
// that have none).
func CodeOf(err error) string {
	var ue *UploadError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ue):
		return ue.Code
	case errors.Is(err, ErrCanceled):
		return "canceled"
	case errors.Is(err, ErrTooLate):
		return "too_late"
	case errors.Is(err, ErrAlreadyUploading):
		return "already_uploading"
	case errors.Is(err, ErrFileNeeded):
		return "file_needed"
	case errors.Is(err, ErrLocked):
		return "locked"
	case errors.Is(err, ErrStoreTimeout):
		return "storage_timeout"
	}
	return ""
}

// UploadError is a terminal failure: an error OSS or the backend will
// repeat (a 4xx), or a transient one that outlasted every attempt.
type UploadError struct {
	// Op is the failing operation: an OSS API name (UploadPart,
	// CompleteMultipartUpload...) or backend.create/refresh/complete/abort.
	Op string
	// Code, Message and RequestID come from the OSS error document or the
	// backend's error JSON; Code is NetworkError, InconsistentCRC or
	// CORSExposeHeaders for failures without one.
	Code, Message, RequestID string
	// Hint, when set, is what to check to fix the failure (the CORS rule a
	// request that never got an answer may be refused by).
	Hint string
	// Attempts is how many times Op was tried.
	Attempts int
	Err      error
}

func (e *UploadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "upload failed: %s: %s", e.Op, e.Code)
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.Hint != "" {
		b.WriteString(". " + e.Hint)
	}
	return b.String()
}

func (e *UploadError) Unwrap() error { return e.Err }

// OSSError is an error answer of OSS, parsed from its XML document (or the
// base64 x-oss-err header of a HEAD answer).
type OSSError struct {
	Status                   int
	Code, Message, RequestID string
	// EC is OSS's detailed error code (x-oss-ec), for support tickets.
	EC     string
	HostID string
	// ServerTime is OSS's clock, sent with RequestTimeTooSkewed.
	ServerTime string
	// RetryAfter is the answer's Retry-After (429 and 503 may carry one).
	RetryAfter time.Duration
}

func (e *OSSError) Error() string {
	s := fmt.Sprintf("oss %d %s: %s", e.Status, e.Code, e.Message)
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	return s
}

// ossError parses an OSS error response.
func ossError(resp *Response) *OSSError {
	body := resp.Body
	if v := resp.Header.Get("x-oss-err"); v != "" && len(body) == 0 {
		if b, err := base64.StdEncoding.DecodeString(v); err == nil {
			body = b
		}
	}
	var doc struct {
		Code       string `xml:"Code"`
		Message    string `xml:"Message"`
		RequestID  string `xml:"RequestId"`
		HostID     string `xml:"HostId"`
		EC         string `xml:"EC"`
		ServerTime string `xml:"ServerTime"`
	}
	_ = xml.Unmarshal(body, &doc)
	e := &OSSError{
		Status: resp.Status, Code: doc.Code, Message: doc.Message, RequestID: doc.RequestID, EC: doc.EC,
		ServerTime: doc.ServerTime, HostID: doc.HostID,
	}
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get("x-oss-request-id")
	}
	if e.EC == "" {
		e.EC = resp.Header.Get("x-oss-ec")
	}
	if e.ServerTime == "" {
		e.ServerTime = resp.Header.Get("Date")
	}
	e.RetryAfter = retryAfter(resp.Header)
	if e.Code == "" {
		// A proxy or CDN answered, or the body was cut off.
		e.Code = fmt.Sprintf("HTTP%d", resp.Status)
		e.Message = strings.TrimSpace(string(body[:min(len(body), 200)]))
	}
	return e
}

// corsError names the CORS rule a bucket needs when a response lacks a
// header that OSS always sends.
func corsError(op string, missing ...string) error {
	return fmt.Errorf("%w: the %s response has no %s header. OSS always sends it, so the browser hid it: "+
		"the bucket's CORS rule for this page's origin must expose it. Add to that rule "+
		"<ExposeHeader>ETag</ExposeHeader> and <ExposeHeader>x-oss-hash-crc64ecma</ExposeHeader> "+
		"(also x-oss-request-id) (console: Bucket > Content Security > CORS > Exposed Headers: "+
		"ETag, x-oss-hash-crc64ecma, x-oss-request-id)",
		ErrCORS, op, strings.Join(missing, " and "))
}

// netError marks a failure with no (usable) HTTP answer: worth retrying.
type netError struct {
	err error
	// noAnswer: the transport got no HTTP response at all (as opposed to
	// a stall or a malformed answer).
	noAnswer bool
	// backend: the call went to the signing backend, whose route the page
	// proved before any upload started.
	backend bool
}

func (e *netError) Error() string { return "network: " + e.err.Error() }
func (e *netError) Unwrap() error { return e.err }
