package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ossup/ossup/internal/uploadapi"
)

// Backend is the signing backend's API (/api/v1/uploads...), JSON over the
// Transport, with the page's authentication in Header (for example
// Authorization: Bearer ...; cookies the browser adds itself).
type Backend struct {
	// BaseURL is the backend's origin, e.g. https://app.example.com; the
	// API paths are appended to it.
	BaseURL string
	Header  http.Header
	T       Transport
	// Credentials sends the browser's cookies to a cross-origin backend
	// (see Request.Credentials): for cookie-based authentication (the dev
	// identity) or when the page asks for it.
	Credentials bool
}

// Credentials, Session and Object are the backend's answers, as the
// backend writes them.
type (
	Credentials = uploadapi.Credentials
	Session     = uploadapi.Session
	Object      = uploadapi.Object
)

// CreateRequest describes the file to the backend, which checks it against
// its upload policy and picks the object key.
type CreateRequest struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	Type string `json:"type"`
	// LastModified is in milliseconds since the epoch, as File.lastModified.
	LastModified int64 `json:"lastModified"`
}

// APIError is an error answer of the backend:
// {"error":{"code","message","requestId","details"}}.
type APIError struct {
	Status     int
	Code       string
	Message    string
	RequestID  string
	Details    json.RawMessage
	RetryAfter time.Duration // from Retry-After, if any
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("backend %d %s: %s", e.Status, e.Code, e.Message)
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	return s
}

// Create starts an upload session.
func (b *Backend) Create(ctx context.Context, r CreateRequest) (*Session, error) {
	var s Session
	if err := b.call(ctx, "/api/v1/uploads", r, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Refresh returns fresh credentials for the ticket's key.
func (b *Backend) Refresh(ctx context.Context, ticket string) (*Credentials, error) {
	var out struct {
		Credentials Credentials `json:"credentials"`
	}
	if err := b.call(ctx, "/api/v1/uploads/credentials", map[string]string{"ticket": ticket}, &out); err != nil {
		return nil, err
	}
	return &out.Credentials, nil
}

// Complete asks the backend to verify the stored object against the size
// and CRC-64 the client computed.
func (b *Backend) Complete(ctx context.Context, ticket string, size int64, crc uint64) (*Object, error) {
	var o Object
	body := struct {
		Ticket string `json:"ticket"`
		Size   int64  `json:"size"`
		CRC64  string `json:"crc64"`
	}{ticket, size, formatCRC(crc)}
	if err := b.call(ctx, "/api/v1/uploads/complete", body, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// Abort has the backend abort a multipart upload (the browser's
// credentials cannot).
func (b *Backend) Abort(ctx context.Context, ticket, uploadID string) error {
	return b.call(ctx, "/api/v1/uploads/abort", map[string]string{"ticket": ticket, "uploadId": uploadID}, nil)
}

func (b *Backend) call(ctx context.Context, path string, in, out any) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("engine: encode %s: %w", path, err)
	}
	h := make(http.Header, len(b.Header)+1)
	for k, vs := range b.Header {
		h[k] = append([]string(nil), vs...)
	}
	h.Set("Content-Type", "application/json")
	resp, err := b.T.Do(ctx, &Request{Method: http.MethodPost, URL: strings.TrimRight(b.BaseURL, "/") + path, Header: h, Bytes: raw, Credentials: b.Credentials})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("engine: backend %s: %w", path, ctx.Err())
		}
		// No answer at all: the network (or the backend) is unreachable
		// for now. Like an OSS request, the call is retried once the
		// browser is back online, never failed at once.
		return &netError{err: fmt.Errorf("engine: backend %s: %w", path, err), noAnswer: true}
	}
	if resp.Status/100 != 2 {
		return apiError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return fmt.Errorf("engine: backend %s: decode answer: %w", path, err)
	}
	return nil
}

func apiError(resp *Response) *APIError {
	var doc struct {
		Error struct {
			Code      string          `json:"code"`
			Message   string          `json:"message"`
			RequestID string          `json:"requestId"`
			Details   json.RawMessage `json:"details"`
		} `json:"error"`
	}
	_ = json.Unmarshal(resp.Body, &doc)
	e := &APIError{Status: resp.Status, Code: doc.Error.Code, Message: doc.Error.Message, RequestID: doc.Error.RequestID, Details: doc.Error.Details}
	if e.Code == "" {
		e.Code = "http_" + strconv.Itoa(resp.Status)
		e.Message = http.StatusText(resp.Status)
	}
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get("X-Request-Id")
	}
	e.RetryAfter = retryAfter(resp.Header)
	return e
}

// retryAfter reads a Retry-After in seconds (the only form OSS and the
// backend send).
func retryAfter(h http.Header) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}
