// Package osserr is the OSS error model shared by the local OSS endpoint and
// its storage, auth and fault-injection packages: an HTTP status, an OSS
// error code, a message, the EC diagnostic code and any extra XML elements,
// rendered exactly as OSS renders them (XML body, or base64 x-oss-err header
// for HEAD requests).
package osserr

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Error is an OSS service error.
type Error struct {
	Status  int
	Code    string
	Message string
	// EC is the OSS diagnostic code (x-oss-ec header and <EC> element).
	EC string
	// Fields are extra elements of the <Error> document, in order, such as
	// StringToSign for SignatureDoesNotMatch or ArgumentName for InvalidArgument.
	Fields []Field
}

// Field is one extra element of an error document.
type Field struct{ Name, Value string }

func (e *Error) Error() string {
	return fmt.Sprintf("oss: %d %s: %s", e.Status, e.Code, e.Message)
}

// New returns an error with the given status, code and message.
func New(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// With returns a copy of e with one more extra element.
func (e *Error) With(name, value string) *Error {
	c := *e
	c.Fields = append(append([]Field(nil), e.Fields...), Field{name, value})
	return &c
}

// WithEC returns a copy of e with the EC diagnostic code set.
func (e *Error) WithEC(ec string) *Error {
	c := *e
	c.EC = ec
	return &c
}

// As extracts an *Error from err, or wraps any other error as InternalError.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return New(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
}

// Common errors, with the codes, statuses and messages OSS uses.
func AccessDenied(msg string) *Error { return New(http.StatusForbidden, "AccessDenied", msg) }
func InvalidArgument(msg, name, value string) *Error {
	return New(http.StatusBadRequest, "InvalidArgument", msg).With("ArgumentName", name).With("ArgumentValue", value)
}
func NoSuchBucket(bucket string) *Error {
	return New(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.").With("BucketName", bucket)
}
func NoSuchKey(key string) *Error {
	return New(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.").With("Key", key)
}
func NoSuchUpload(uploadID string) *Error {
	return New(http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.").With("UploadId", uploadID)
}
func InternalError(msg string) *Error {
	return New(http.StatusInternalServerError, "InternalError", msg)
}

// Document is the XML body of an error response.
type Document struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string   `xml:"Code"`
	Message    string   `xml:"Message"`
	RequestID  string   `xml:"RequestId"`
	HostID     string   `xml:"HostId"`
	ServerTime string   `xml:"ServerTime,omitempty"`
	EC         string   `xml:"EC,omitempty"`
	Extra      []Field  `xml:"-"`
}

// Render returns the XML document for e.
func (e *Error) Render(requestID, hostID string, now time.Time) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Error>\n")
	elem := func(name, value string) {
		b.WriteString("  <" + name + ">")
		_ = xml.EscapeText(&b, []byte(value))
		b.WriteString("</" + name + ">\n")
	}
	elem("Code", e.Code)
	elem("Message", e.Message)
	elem("RequestId", requestID)
	elem("HostId", hostID)
	for _, f := range e.Fields {
		elem(f.Name, f.Value)
	}
	// ali-oss corrects its clock from <ServerTime>; the Go SDK from the Date header.
	elem("ServerTime", now.UTC().Format("2006-01-02T15:04:05.000Z"))
	if e.EC != "" {
		elem("EC", e.EC)
	}
	b.WriteString("</Error>\n")
	return b.Bytes()
}

// Write sends e as the response to r. The caller has already set
// x-oss-request-id and any CORS headers on w. HEAD responses carry no body;
// the document goes base64-encoded in x-oss-err, as OSS does.
func Write(w http.ResponseWriter, r *http.Request, e *Error, requestID, hostID string, now time.Time) {
	body := e.Render(requestID, hostID, now)
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	if e.EC != "" {
		h.Set("x-oss-ec", e.EC)
	}
	if r.Method == http.MethodHead {
		h.Set("x-oss-err", base64.StdEncoding.EncodeToString(body))
		h.Del("Content-Length")
		w.WriteHeader(e.Status)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}
