package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
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
	// Header is sent with every call until SetHeader replaces it.
	Header Header
	T      Transport
	// Credentials sends the browser's cookies to a cross-origin backend
	// (see Request.Credentials): for cookie-based authentication (the dev
	// identity) or when the page asks for it.
	Credentials bool
	// Timeout bounds each call (default DefaultBackendTimeout): a backend
	// that accepted the connection and never answers must not hold an
	// upload in checking or completing forever. Negative means none.
	Timeout time.Duration

	mu      sync.Mutex
	set     bool          // SetHeader was called: Header is no longer read
	header  Header        // the header SetHeader installed
	version int           // bumped by SetHeader
	changed chan struct{} // closed and replaced by SetHeader
}

// DefaultBackendTimeout bounds one backend call: generous, because
// complete may wait for a webhook receiver, but finite.
const DefaultBackendTimeout = 60 * time.Second

// SetHeader replaces the header sent with every later call (for example a
// fresh Authorization after the page's token expired) and wakes the calls
// that wait for one after a 401.
func (b *Backend) SetHeader(h Header) {
	b.mu.Lock()
	b.set, b.header = true, h.Clone()
	b.version++
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	b.mu.Unlock()
}

// currentHeader returns the header to send and its version.
func (b *Backend) currentHeader() (Header, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.set {
		return b.header, b.version
	}
	return b.Header, b.version
}

// waitHeader blocks until SetHeader installs a header newer than version,
// or ctx ends.
func (b *Backend) waitHeader(ctx context.Context, version int) error {
	b.mu.Lock()
	if b.version != version {
		b.mu.Unlock()
		return nil
	}
	if b.changed == nil {
		b.changed = make(chan struct{})
	}
	ch := b.changed
	b.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Credentials, Session and Object are the backend's answers, as the
// backend writes them.
type (
	Credentials = uploadapi.Credentials
	Session     = uploadapi.Session
	Object      = uploadapi.Object
	// CredentialsRefresh is the answer to a refresh.
	CredentialsRefresh = uploadapi.CredentialsRefresh
	// ObjectHeaders are the headers the backend decided for the object.
	ObjectHeaders = uploadapi.ObjectHeaders
)

// CreateRequest describes the file to the backend, which checks it against
// its upload policy and picks the object key.
type CreateRequest struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	Type string `json:"type"`
	// LastModified is in milliseconds since the epoch, as File.lastModified.
	LastModified int64 `json:"lastModified"`
	// RelativePath is the file's path below a picked or dropped folder
	// (the identity's Path), for the backend's {path}; omitted for none.
	RelativePath string `json:"relativePath,omitempty"`
	// Meta is application metadata for the backend to check and store
	// (OSSUP_META_FIELDS); omitted for none.
	Meta map[string]string `json:"meta,omitempty"`
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

	// headerVersion is the Backend header version the call was made with,
	// so a 401 waits for a newer one only.
	headerVersion int
}

func (b *Backend) timeout() time.Duration {
	switch {
	case b.Timeout < 0:
		return 0
	case b.Timeout == 0:
		return DefaultBackendTimeout
	}
	return b.Timeout
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

// Refresh returns fresh credentials for the ticket's key, with the
// headers the backend decided for the object (which a checkpoint does not
// keep).
func (b *Backend) Refresh(ctx context.Context, ticket string) (*CredentialsRefresh, error) {
	var out CredentialsRefresh
	if err := b.call(ctx, "/api/v1/uploads/credentials", map[string]string{"ticket": ticket}, &out); err != nil {
		return nil, err
	}
	return &out, nil
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
	cur, version := b.currentHeader()
	h := make(Header, len(cur)+1)
	for k, vs := range cur {
		h[k] = append([]string(nil), vs...)
	}
	h.Set("Content-Type", "application/json")
	callCtx := ctx
	if t := b.timeout(); t > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	resp, err := b.T.Do(callCtx, &Request{Method: methodPost, URL: strings.TrimRight(b.BaseURL, "/") + path, Header: h, Bytes: raw, Credentials: b.Credentials})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("engine: backend %s: %w", path, ctx.Err())
		}
		if callCtx.Err() != nil {
			err = fmt.Errorf("no answer within %s", b.timeout())
		}
		// No answer at all: the network (or the backend) is unreachable
		// for now. Like an OSS request, the call is retried once the
		// browser is back online, never failed at once. The backend's
		// CORS is proven by the page's whoami before any upload starts,
		// so this is never a CORS refusal: it gets the full patience.
		return &netError{err: fmt.Errorf("engine: backend %s: %w", path, err), noAnswer: true, backend: true}
	}
	if resp.Status/100 != 2 {
		ae := apiError(resp)
		ae.headerVersion = version
		return ae
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
		e.Message = statusText(resp.Status)
	}
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get("X-Request-Id")
	}
	e.RetryAfter = retryAfter(resp.Header)
	return e
}

// retryAfter reads a Retry-After in seconds (the only form OSS and the
// backend send).
func retryAfter(h Header) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}
