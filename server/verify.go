package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/ossup/ossup/internal/ticket"
	"github.com/ossup/ossup/internal/uploadapi"
)

// The tags the backend puts on an object once it is verified (and the
// webhook, if any, delivered). Only the backend can set them: OSS requires
// oss:PutObjectTagging for x-oss-tagging on PutObject and
// InitiateMultipartUpload as well as for PutObjectTagging, and the browser's
// session policy has none. A lifecycle rule (or the janitor) tells verified
// objects from the rest by VerifiedTag=VerifiedValue; VerifiedObjectTag
// records what was verified, so a later complete notices an object changed
// by someone with more rights than the browser.
const (
	VerifiedTag       = "ossup-verified"
	VerifiedValue     = "1"
	VerifiedObjectTag = "ossup-object" // "<size>.<crc64>"
)

// mismatch is one way the stored object differs from what was decided or
// reported: Field is "size", "crc64", a header name or "acl".
type mismatch struct {
	Field    string `json:"field"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
}

const none = "(none)"

func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}

// storedMismatches compares what OSS stored with what the backend decided
// for t: the size declared at create (and OSSUP_MAX_SIZE), the Content-Type
// and Content-Disposition of the session's headers and nothing else that
// shapes how the object is served (no Content-Encoding, Cache-Control,
// Content-Language, Expires, and user metadata only as decided), the default ACL, the
// Standard storage class, an object that cannot be appended to, and no
// encryption whose key could lock the application out (KMS).
func (a *API) storedMismatches(t ticket.Ticket, info *ObjectInfo, acl string) []mismatch {
	var ms []mismatch
	size := strconv.FormatInt(info.Size, 10)
	switch {
	case a.Policy.MaxSize > 0 && info.Size > a.Policy.MaxSize:
		ms = append(ms, mismatch{"size", "at most " + strconv.FormatInt(a.Policy.MaxSize, 10) + " (OSSUP_MAX_SIZE)", size})
	case info.Size != t.Size:
		ms = append(ms, mismatch{"size", strconv.FormatInt(t.Size, 10) + " (declared at create)", size})
	}
	if want := storedType(t); info.ContentType != want {
		ms = append(ms, mismatch{"Content-Type", want, orNone(info.ContentType)})
	}
	// Absent counts as different: a type a browser executes, stored
	// without the decided attachment, is shown inline from any origin
	// that serves the bucket (the engine sends the session's headers).
	if info.ContentDisposition != t.ContentDisposition {
		ms = append(ms, mismatch{"Content-Disposition", orNone(t.ContentDisposition), orNone(info.ContentDisposition)})
	}
	for _, h := range []struct{ name, v string }{
		{"Content-Encoding", info.ContentEncoding}, {"Content-Language", info.ContentLanguage},
		{"Cache-Control", info.CacheControl}, {"Expires", info.Expires},
	} {
		if h.v != "" {
			ms = append(ms, mismatch{h.name, none, h.v})
		}
	}
	// User metadata exactly as decided: each decided field with its value,
	// nothing else.
	want := map[string]string{}
	for k, v := range t.Meta {
		want[metaHeader(k)] = metaValue(v)
	}
	var meta []string
	for k := range info.Meta {
		meta = append(meta, k)
	}
	for k := range want {
		if _, ok := info.Meta[k]; !ok {
			meta = append(meta, k)
		}
	}
	slices.Sort(meta)
	for _, k := range meta {
		if got, ok := info.Meta[k]; want[k] != got || !ok {
			ms = append(ms, mismatch{k, orNone(want[k]), orNone(got)})
		}
	}
	switch acl {
	case "", "default", "private":
	default:
		ms = append(ms, mismatch{"acl", "default", acl})
	}
	switch info.StorageClass {
	case "", "Standard":
	default:
		// Archive classes cannot be read until restored; IA and Archive
		// bill minimum durations and retrievals the application never chose.
		ms = append(ms, mismatch{"x-oss-storage-class", "Standard", info.StorageClass})
	}
	switch info.ObjectType {
	case "Normal", "Multipart":
	default:
		// An appendable object can grow after it was verified.
		ms = append(ms, mismatch{"x-oss-object-type", "Normal or Multipart", orNone(info.ObjectType)})
	}
	// OSS-managed keys (AES256, SM4, also what a bucket's default
	// encryption gives every object) change nothing a reader sees; KMS ties
	// every read to a key the application may not be allowed to use.
	switch {
	case info.SSE != "" && info.SSE != "AES256" && info.SSE != "SM4":
		ms = append(ms, mismatch{"x-oss-server-side-encryption", "none, AES256 or SM4", info.SSE})
	case info.SSEKeyID != "":
		ms = append(ms, mismatch{"x-oss-server-side-encryption-key-id", none, info.SSEKeyID})
	case info.SSEData != "":
		ms = append(ms, mismatch{"x-oss-server-side-data-encryption", none, info.SSEData})
	}
	return ms
}

// reportedMismatches compares the stored object with what the client says
// it sent.
func reportedMismatches(req completeRequest, info *ObjectInfo) []mismatch {
	var ms []mismatch
	if info.Size != *req.Size {
		ms = append(ms, mismatch{"size", strconv.FormatInt(*req.Size, 10), strconv.FormatInt(info.Size, 10)})
	}
	if info.CRC64 != req.CRC64 {
		ms = append(ms, mismatch{"crc64", req.CRC64, info.CRC64})
	}
	return ms
}

// verifiedState is VerifiedObjectTag's value for info.
func verifiedState(info *ObjectInfo) string {
	return strconv.FormatInt(info.Size, 10) + "." + info.CRC64
}

// deliveryID names one verified object for the webhook's receiver: every
// complete of the same object (a retry after a lost answer or a failed
// delivery, two racing completes, another replica) sends the same id, so
// the receiver handles each upload once. It is derived, not stored, so
// any replica computes it.
func deliveryID(t ticket.Ticket, info *ObjectInfo) string {
	h := sha256.Sum256([]byte("ossup delivery v1\n" + t.Bucket + "\n" + t.Key + "\n" + verifiedState(info)))
	return "dlv_" + hex.EncodeToString(h[:16])
}

func (a *API) objectOf(t ticket.Ticket, info *ObjectInfo) uploadapi.Object {
	return uploadapi.Object{
		Bucket: t.Bucket, Key: t.Key, Name: t.Name, Size: info.Size, CRC64: info.CRC64, ETag: info.ETag,
		ContentType: info.ContentType, ContentDisposition: info.ContentDisposition, LastModified: info.LastModified.UTC(),
		User: t.UserID, DeliveryID: deliveryID(t, info), RelativePath: t.Path, Meta: t.Meta,
	}
}

// verify is complete's decision for the object at t.Key.
func (a *API) verify(c echo.Context, t ticket.Ticket, req completeRequest) error {
	ctx := c.Request().Context()
	info, err := a.Objects.Head(ctx, t.Key)
	var tags map[string]string
	if err == nil {
		tags, err = a.Objects.Tags(ctx, t.Key)
	}
	var acl string
	if err == nil {
		acl, err = a.Objects.ACL(ctx, t.Key)
	}
	if errors.Is(err, ErrObjectNotFound) {
		a.Metrics.completes.WithLabelValues("missing").Inc()
		return newAPIError(http.StatusConflict, "object_missing", "the object does not exist: complete the multipart upload first")
	}
	if err != nil {
		a.Log.Error("reading the object failed", "request_id", requestID(c), "key", t.Key, "err", err)
		return newAPIError(http.StatusBadGateway, "oss_unavailable", "could not verify the object in OSS; try again")
	}
	stored := a.storedMismatches(t, info, acl)
	if tags[VerifiedTag] == VerifiedValue {
		return a.verifiedAgain(c, t, req, info, tags, stored)
	}
	if ms := append(reportedMismatches(req, info), stored...); len(ms) > 0 {
		a.Metrics.completes.WithLabelValues("mismatch").Inc()
		a.Log.Warn("uploaded object refused", "request_id", requestID(c), "key", t.Key, "mismatches", len(ms), "first", ms[0].Field)
		// Never leave a stored-but-rejected object where the application
		// could serve it: the backend deletes it (the key is free again,
		// so the same ticket may upload it anew).
		if err := a.Objects.Delete(ctx, t.Key); err != nil {
			a.Log.Error("deleting a refused object failed", "request_id", requestID(c), "key", t.Key, "err", err)
			return newAPIError(http.StatusBadGateway, "oss_unavailable", "the object does not match and could not be deleted; try complete again").with(ms)
		}
		return newAPIError(http.StatusUnprocessableEntity, "object_mismatch",
			"the stored object differs from what was decided or reported ("+ms[0].Field+"), so it was deleted").with(ms)
	}
	obj := a.objectOf(t, info)
	if a.Webhook != nil {
		if err := a.Webhook.Send(ctx, obj.DeliveryID, obj); err != nil {
			a.Metrics.completes.WithLabelValues("webhook_failed").Inc()
			a.Log.Error("webhook failed", "request_id", requestID(c), "key", t.Key, "err", err)
			return newAPIError(http.StatusBadGateway, "webhook_failed", "the object is stored, but the application webhook failed; retry complete").with(obj)
		}
	}
	// Marked after the webhook: a retry after a failed delivery delivers
	// again (same id), and a verified object is one the application heard of.
	if err := a.Objects.SetTags(ctx, t.Key, map[string]string{VerifiedTag: VerifiedValue, VerifiedObjectTag: verifiedState(info)}); err != nil {
		a.Log.Error("marking the object verified failed", "request_id", requestID(c), "key", t.Key, "err", err)
		return newAPIError(http.StatusBadGateway, "oss_unavailable", "the object is verified but could not be marked so in OSS; retry complete")
	}
	a.Metrics.completes.WithLabelValues("ok").Inc()
	a.Log.Info("upload completed", "request_id", requestID(c), "user", t.UserID, "key", t.Key, "size", info.Size)
	return c.JSON(http.StatusOK, obj)
}

// verifiedAgain answers a complete of an object verified before: the same
// answer and no second webhook if it is unchanged and the client reports the
// same bytes; otherwise a refusal that says what differs. A verified object
// is never deleted here: the application was told about it.
func (a *API) verifiedAgain(c echo.Context, t ticket.Ticket, req completeRequest, info *ObjectInfo, tags map[string]string, stored []mismatch) error {
	changed := stored
	if rec := tags[VerifiedObjectTag]; rec != verifiedState(info) {
		changed = append(changed, mismatch{"size.crc64", orNone(rec) + " (verified)", verifiedState(info)})
	}
	if len(changed) > 0 {
		a.Metrics.completes.WithLabelValues("changed").Inc()
		a.Log.Warn("verified object changed", "request_id", requestID(c), "key", t.Key, "first", changed[0].Field)
		return newAPIError(http.StatusConflict, "object_changed", "the object changed since it was verified ("+changed[0].Field+")").with(changed)
	}
	if ms := reportedMismatches(req, info); len(ms) > 0 {
		a.Metrics.completes.WithLabelValues("mismatch").Inc()
		return newAPIError(http.StatusConflict, "object_mismatch", "the object was verified with other content than the client reports").with(ms)
	}
	a.Metrics.completes.WithLabelValues("already_verified").Inc()
	return c.JSON(http.StatusOK, a.objectOf(t, info))
}
