package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ossup/ossup/internal/objectkey"
	"github.com/ossup/ossup/internal/partplan"
	"github.com/ossup/ossup/internal/stscreds"
	"github.com/ossup/ossup/internal/ticket"
	"github.com/ossup/ossup/internal/uploadapi"
	"github.com/ossup/ossup/internal/uploadpolicy"
	"github.com/ossup/ossup/internal/userauth"
)

// CredentialMinter mints STS credentials able to upload one key.
type CredentialMinter interface {
	ForObject(ctx context.Context, sessionName, prefix, key string) (stscreds.Credentials, error)
}

// ObjectInfo is what the backend learns of an uploaded object from
// HeadObject: everything that shapes how it is stored and served.
type ObjectInfo struct {
	Size         int64
	CRC64        string // decimal, as x-oss-hash-crc64ecma
	ETag         string
	ContentType  string
	LastModified time.Time
	// The stored headers ("" when absent).
	ContentDisposition, ContentEncoding, ContentLanguage, CacheControl, Expires string
	// ObjectType is x-oss-object-type: Normal, Multipart or Appendable.
	ObjectType string
	// StorageClass is x-oss-storage-class ("" read as Standard).
	StorageClass string
	// SSE, SSEKeyID and SSEData are x-oss-server-side-encryption,
	// -encryption-key-id and x-oss-server-side-data-encryption.
	SSE, SSEKeyID, SSEData string
	// Meta is the x-oss-meta-* headers, names lower-cased.
	Meta map[string]string
}

// Objects is the backend's own access to the bucket, with its own
// credentials: it verifies uploads, marks verified objects, deletes
// rejected ones and aborts uploads, so the browser never needs read, tag or
// delete rights.
type Objects interface {
	Head(ctx context.Context, key string) (*ObjectInfo, error)
	// ACL is the object's ACL grant (default, private, public-read...).
	ACL(ctx context.Context, key string) (string, error)
	// Tags are the object's tags (ErrObjectNotFound for none).
	Tags(ctx context.Context, key string) (map[string]string, error)
	// SetTags replaces the object's tags.
	SetTags(ctx context.Context, key string, tags map[string]string) error
	// Delete removes the object (a missing one is no error).
	Delete(ctx context.Context, key string) error
	AbortUpload(ctx context.Context, key, uploadID string) error
}

var (
	// ErrObjectNotFound is returned by Objects.Head for a missing object.
	ErrObjectNotFound = errors.New("object not found")
	// ErrUploadNotFound is returned by Objects.AbortUpload for an unknown,
	// completed or aborted upload.
	ErrUploadNotFound = errors.New("multipart upload not found")
)

// Target describes where the browser uploads: everything the engine needs
// besides credentials.
type Target struct {
	Bucket, Region, Endpoint string
	PathStyle                bool
}

// API serves /api/v1.
type API struct {
	Auth        userauth.Authenticator
	Tickets     *ticket.Signer
	Keys        *objectkey.Template
	Policy      uploadpolicy.Policy
	Minter      CredentialMinter
	Objects     Objects
	Webhook     *Webhook // nil: none
	Target      Target
	PartSize    int64
	Concurrency int
	TicketTTL   time.Duration
	Now         func() time.Time
	Log         *slog.Logger
	Metrics     *Metrics
	// MetaFields are the application metadata fields an upload may carry
	// (OSSUP_META_FIELDS).
	MetaFields []string
	// OSSCallback is the x-oss-callback the backend decides for the
	// requests that store an object ("" none); see osscallback.go.
	OSSCallback string
	// WriteOnce knows whether the bucket refuses the browsers' overwrites;
	// no credentials are minted until it does (writeonce.go).
	WriteOnce *writeOnceGuard
}

const userKey = "ossup.user"

// maxJSONBody bounds every API request body; the largest legitimate one (a
// create with a 1 KiB name) is far smaller.
const maxJSONBody = 16 << 10

func (a *API) register(g *echo.Group) {
	g.GET("/whoami", a.whoami)
	g.POST("/uploads", a.create)
	g.POST("/uploads/credentials", a.refresh)
	g.POST("/uploads/complete", a.complete)
	g.POST("/uploads/abort", a.abort)
}

// authenticate is the middleware that identifies the user of every API call.
func (a *API) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, err := a.Auth.Authenticate(c.Response(), c.Request())
		if err != nil {
			if a.Auth.Scheme() != "dev" {
				c.Response().Header().Set("WWW-Authenticate", userauth.Challenge("ossup", err))
			}
			msg := "authentication required"
			var ue *userauth.Error
			if errors.As(err, &ue) {
				msg = ue.Error()
			}
			return newAPIError(http.StatusUnauthorized, "unauthenticated", msg)
		}
		c.Set(userKey, u)
		return next(c)
	}
}

func userOf(c echo.Context) userauth.User {
	u, _ := c.Get(userKey).(userauth.User)
	return u
}

// decode reads one strict JSON object into v: unknown fields, trailing data
// and wrong types are refused with the field named.
func decode(c echo.Context, v any) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != echo.MIMEApplicationJSON {
		return newAPIError(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the request body as application/json")
	}
	if c.Request().ContentLength > maxJSONBody {
		return newAPIError(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than 16 KiB")
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxJSONBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return newAPIError(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than 16 KiB")
		}
		return newAPIError(http.StatusBadRequest, "invalid_json", "the body could not be read")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return newAPIError(http.StatusBadRequest, "invalid_json", jsonMessage(err))
	}
	if name := duplicateKey(raw); name != "" {
		// encoding/json keeps the last of duplicate keys; a proxy or
		// another parser in front may keep the first, and the two would
		// disagree about what was asked.
		return newAPIError(http.StatusBadRequest, "invalid_json", fmt.Sprintf("field %q appears more than once", name))
	}
	if dec.More() {
		return newAPIError(http.StatusBadRequest, "invalid_json", "the body must be a single JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return newAPIError(http.StatusBadRequest, "invalid_json", "the body must be a single JSON object")
	}
	return nil
}

// duplicateKey returns a key that appears twice in one object of the
// well-formed JSON raw, or "".
func duplicateKey(raw []byte) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	type frame struct {
		object  bool
		keys    map[string]bool
		wantKey bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if top != nil && top.object {
					top.wantKey = true // the container was a value
				}
				stack = append(stack, &frame{object: t == '{', keys: map[string]bool{}, wantKey: t == '{'})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].wantKey = true
				}
			}
		default:
			if top == nil || !top.object {
				continue
			}
			if top.wantKey {
				k, _ := t.(string)
				if top.keys[k] {
					return k
				}
				top.keys[k] = true
				top.wantKey = false
			} else {
				top.wantKey = true
			}
		}
	}
}

func jsonMessage(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("field %q must be a %s", te.Field, te.Type.String())
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is empty or truncated"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "malformed JSON"
}

// whoami tells the page who it uploads as. The uploader calls it once before
// any upload: it fails fast on bad credentials, and in dev mode it settles
// the anonymous identity (cookie) before parallel uploads could each mint
// their own.
func (a *API) whoami(c echo.Context) error {
	u := userOf(c)
	return c.JSON(http.StatusOK, map[string]any{"user": u.ID, "dev": u.Dev, "auth": a.Auth.Scheme(), "serverTime": a.serverTime()})
}

type createRequest struct {
	Name         *string `json:"name"`
	Size         *int64  `json:"size"`
	Type         string  `json:"type"`
	LastModified int64   `json:"lastModified"`
	// RelativePath is the file's path below the folder the user picked or
	// dropped ("photos/2024/a.jpg", ending with name), or "".
	RelativePath string `json:"relativePath"`
	// Meta is application metadata, stored as x-oss-meta-* (MetaFields).
	Meta map[string]string `json:"meta"`
}

func credsJSON(c stscreds.Credentials) uploadapi.Credentials {
	return uploadapi.Credentials{AccessKeyID: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken, Expiration: c.Expiration.UTC()}
}

// violationStatus picks the most precise status for a policy refusal.
func violationStatus(vs []uploadpolicy.Violation) int {
	for _, v := range vs {
		switch v.Code {
		case "too_large":
			return http.StatusRequestEntityTooLarge
		case "type_not_allowed", "extension_not_allowed":
			return http.StatusUnsupportedMediaType
		}
	}
	return http.StatusBadRequest
}

func (a *API) create(c echo.Context) error {
	var req createRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Name == nil || req.Size == nil {
		return newAPIError(http.StatusBadRequest, "missing_field", "name and size are required")
	}
	f := uploadpolicy.File{Name: *req.Name, Size: *req.Size, Type: req.Type, LastModified: req.LastModified}
	if vs := a.Policy.Check(f); len(vs) > 0 {
		return newAPIError(violationStatus(vs), "upload_refused", vs[0].Message).with(vs)
	}
	user := userOf(c)
	now := a.Now()
	dir, err := objectkey.RelativeDir(req.RelativePath, f.Name)
	if err != nil {
		return newAPIError(http.StatusBadRequest, "invalid_path", "relativePath: "+strings.TrimPrefix(err.Error(), "objectkey: "))
	}
	meta, err := a.checkMeta(req.Meta)
	if err != nil {
		return err
	}
	key, err := a.Keys.RenderWith(user.ID, dir, f.Name, meta, now)
	if errors.Is(err, objectkey.ErrMissingMeta) {
		return newAPIError(http.StatusBadRequest, "missing_meta", strings.TrimPrefix(err.Error(), "objectkey: ")+": every upload must carry it in meta")
	}
	if err != nil {
		return newAPIError(http.StatusBadRequest, "invalid_name", err.Error())
	}
	plan, err := partplan.New(f.Size, partplan.Prefs{PartSize: a.PartSize, Concurrency: a.Concurrency})
	if err != nil {
		return newAPIError(http.StatusRequestEntityTooLarge, "upload_refused", err.Error())
	}
	if err := a.checkWriteOnce(c); err != nil {
		return err
	}
	creds, err := a.mint(c, user, key)
	if err != nil {
		return err
	}
	stored := a.Policy.Store(f)
	t := ticket.Ticket{
		UserID: user.ID, Bucket: a.Target.Bucket, Key: key, Name: objectkey.DisplayName(f.Name), Size: f.Size,
		ContentType: stored.ContentType, ContentDisposition: stored.ContentDisposition, Path: objectkey.DisplayName(req.RelativePath), Meta: meta,
		IssuedAt: now, Expires: now.Add(a.TicketTTL),
	}
	tok, err := a.Tickets.Sign(t)
	if err != nil {
		return fmt.Errorf("sign ticket: %w", err)
	}
	a.Metrics.sessions.Inc()
	a.Log.Info("upload session created", "request_id", requestID(c), "user", user.ID, "key", key, "size", f.Size)
	return c.JSON(http.StatusCreated, uploadapi.Session{
		Ticket: tok, TicketExpiration: t.Expires.UTC(), Bucket: a.Target.Bucket, Region: a.Target.Region,
		Endpoint: a.Target.Endpoint, PathStyle: a.Target.PathStyle, Key: key, PartSize: plan.PartSize,
		Parts: plan.Parts, Concurrency: plan.Concurrency, SinglePut: plan.Single, Credentials: credsJSON(creds),
		Headers: a.withOSSCallback(objectHeaders(t)), ServerTime: a.serverTime(),
	})
}

// serverTime is the clock the answers report, in the millisecond precision
// the documents promise.
func (a *API) serverTime() time.Time { return a.Now().UTC().Truncate(time.Millisecond) }

// objectHeaders are the headers the object of t is created with: the type
// and disposition decided at create, and x-oss-forbid-overwrite on every
// request that could replace an existing object, so an upload never
// replaces one (a verified object stays as verified; the bucket's overwrite
// rule enforces the same for clients that leave the header out).
func objectHeaders(t ticket.Ticket) uploadapi.ObjectHeaders {
	create := func() map[string]string {
		h := map[string]string{"Content-Type": storedType(t), forbidOverwrite: "true"}
		if t.ContentDisposition != "" {
			h["Content-Disposition"] = t.ContentDisposition
		}
		for k, v := range t.Meta {
			h[metaHeader(k)] = metaValue(v)
		}
		return h
	}
	return uploadapi.ObjectHeaders{
		PutObject:               create(),
		InitiateMultipartUpload: create(),
		CompleteMultipartUpload: map[string]string{forbidOverwrite: "true"},
	}
}

const forbidOverwrite = "x-oss-forbid-overwrite"

// storedType is the Content-Type t's object is stored with. Tickets signed
// before the backend decided the type carry the declared one, which the
// engine sent as is, or application/octet-stream for none.
func storedType(t ticket.Ticket) string {
	if t.ContentType == "" {
		return uploadpolicy.DefaultType
	}
	return t.ContentType
}

// mint asks STS for credentials scoped to key; an STS failure is the
// backend's upstream failing, not the caller's fault.
func (a *API) mint(c echo.Context, user userauth.User, key string) (stscreds.Credentials, error) {
	creds, err := a.Minter.ForObject(c.Request().Context(), objectkey.SessionName(user.ID), a.Keys.UserPrefix(user.ID), key)
	if err != nil {
		a.Log.Error("sts credentials failed", "request_id", requestID(c), "user", user.ID, "err", err)
		return creds, newAPIError(http.StatusBadGateway, "sts_unavailable", "could not obtain upload credentials from STS; try again")
	}
	return creds, nil
}

// checkWriteOnce refuses to mint credentials for a bucket that would let
// them replace objects (writeonce.go).
func (a *API) checkWriteOnce(c echo.Context) error {
	err := a.WriteOnce.check(c.Request().Context())
	var nw errNotWriteOnce
	switch {
	case errors.As(err, &nw):
		a.Log.Error("uploads refused: the bucket is not write-once", "request_id", requestID(c), "err", err)
		return newAPIError(http.StatusServiceUnavailable, "bucket_not_write_once",
			"uploads are off: "+nw.Error()+" (see the README, Security model)")
	case err != nil:
		a.Log.Error("reading the bucket's overwrite configuration failed", "request_id", requestID(c), "err", err)
		return newAPIError(http.StatusBadGateway, "oss_unavailable", "could not read the bucket's overwrite configuration from OSS; try again")
	}
	return nil
}

// checkUnspent refuses fresh credentials for a ticket whose object was
// verified: the upload is over, and its ticket must not outlive it as a
// source of write rights. It is stateless (the object's verified tag is the
// state), so any replica decides the same. An object stored but not yet
// verified still gets them: the bucket's overwrite rule keeps them from
// replacing it, and an engine resuming after a crash right after
// CompleteMultipartUpload refreshes before it finds that only complete is
// left.
func (a *API) checkUnspent(c echo.Context, t ticket.Ticket) error {
	tags, err := a.Objects.Tags(c.Request().Context(), t.Key)
	switch {
	case errors.Is(err, ErrObjectNotFound):
		return nil
	case err != nil:
		a.Log.Error("reading the object's tags failed", "request_id", requestID(c), "key", t.Key, "err", err)
		return newAPIError(http.StatusBadGateway, "oss_unavailable", "could not check the object in OSS; try again")
	case tags[VerifiedTag] == VerifiedValue:
		return newAPIError(http.StatusConflict, "ticket_spent", "this upload is complete and verified, so its ticket gives no more credentials; call complete for its result")
	}
	return nil
}

// verifyTicket checks a ticket's signature and expiry and that it belongs to
// the authenticated user and this backend's bucket.
func (a *API) verifyTicket(c echo.Context, tok string) (ticket.Ticket, error) {
	if tok == "" {
		return ticket.Ticket{}, newAPIError(http.StatusBadRequest, "missing_field", "ticket is required")
	}
	t, err := a.Tickets.Verify(tok, a.Now())
	switch {
	case errors.Is(err, ticket.ErrExpired):
		return t, newAPIError(http.StatusForbidden, "ticket_expired", "the upload ticket has expired; start a new upload")
	case err != nil:
		return t, newAPIError(http.StatusForbidden, "ticket_invalid", "the upload ticket is not valid")
	}
	if t.UserID != userOf(c).ID {
		return t, newAPIError(http.StatusForbidden, "ticket_wrong_user", "the upload ticket belongs to another user")
	}
	if t.Bucket != a.Target.Bucket {
		return t, newAPIError(http.StatusForbidden, "ticket_invalid", "the upload ticket is for another bucket")
	}
	return t, nil
}

type ticketRequest struct {
	Ticket string `json:"ticket"`
}

func (a *API) refresh(c echo.Context) error {
	var req ticketRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := a.verifyTicket(c, req.Ticket)
	if err != nil {
		return err
	}
	if err := a.checkWriteOnce(c); err != nil {
		return err
	}
	if err := a.checkUnspent(c, t); err != nil {
		return err
	}
	creds, err := a.mint(c, userOf(c), t.Key)
	if err != nil {
		return err
	}
	a.Metrics.refreshes.Inc()
	return c.JSON(http.StatusOK, uploadapi.CredentialsRefresh{Credentials: credsJSON(creds), Headers: a.withOSSCallback(objectHeaders(t)), ServerTime: a.serverTime()})
}

type completeRequest struct {
	Ticket string `json:"ticket"`
	Size   *int64 `json:"size"`
	// CRC64 is the client's CRC-64/ECMA of the whole file, as the unsigned
	// decimal string OSS uses (a JSON number cannot hold 64 bits exactly).
	CRC64 string `json:"crc64"`
}

var decimalRE = regexp.MustCompile(`^[0-9]{1,20}$`)

func (a *API) complete(c echo.Context) error {
	var req completeRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := a.verifyTicket(c, req.Ticket)
	if err != nil {
		return err
	}
	if req.Size == nil || req.CRC64 == "" {
		return newAPIError(http.StatusBadRequest, "missing_field", "size and crc64 are required")
	}
	if _, err := strconv.ParseUint(req.CRC64, 10, 64); err != nil || !decimalRE.MatchString(req.CRC64) {
		return newAPIError(http.StatusBadRequest, "invalid_crc64", "crc64 must be the unsigned decimal CRC-64/ECMA of the file")
	}
	return a.verify(c, t, req)
}

type abortRequest struct {
	Ticket   string `json:"ticket"`
	UploadID string `json:"uploadId"`
}

var uploadIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

func (a *API) abort(c echo.Context) error {
	var req abortRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := a.verifyTicket(c, req.Ticket)
	if err != nil {
		return err
	}
	if !uploadIDRE.MatchString(req.UploadID) {
		return newAPIError(http.StatusBadRequest, "invalid_upload_id", "uploadId must be the id OSS returned for the multipart upload")
	}
	err = a.Objects.AbortUpload(c.Request().Context(), t.Key, req.UploadID)
	switch {
	case errors.Is(err, ErrUploadNotFound):
		return newAPIError(http.StatusNotFound, "upload_not_found", "no such multipart upload for this ticket's key (already completed or aborted?)")
	case err != nil:
		a.Log.Error("abort failed", "request_id", requestID(c), "key", t.Key, "err", err)
		return newAPIError(http.StatusBadGateway, "oss_unavailable", "could not abort the upload in OSS; try again")
	}
	a.Metrics.aborts.Inc()
	a.Log.Info("upload aborted", "request_id", requestID(c), "user", t.UserID, "key", t.Key)
	return c.NoContent(http.StatusNoContent)
}
