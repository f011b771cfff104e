// Package ticket implements the stateless upload ticket: an HMAC-SHA256
// signed, expiring statement binding a user, bucket and object key, so that
// later calls about an upload (refresh credentials, complete, abort) need no
// server-side state.
//
// Token format: "v1.<base64url(JSON payload)>.<base64url(HMAC-SHA256)>",
// unpadded base64url, at most MaxTokenLen bytes. The MAC covers
// "v1.<payload>" and is checked before the payload is decoded.
package ticket

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxTokenLen bounds tokens in both directions: Sign refuses to produce a
// longer one and Verify rejects one without further work.
const MaxTokenLen = 8 << 10

// MinKeyLen is the minimum signing key length in bytes.
const MinKeyLen = 32

const version = "v1"

// macContext separates ticket MACs from anything else an operator might
// (wrongly) sign with the same secret: the HMAC key is derived from it.
const macContext = "ossup upload ticket v1"

var (
	// ErrMalformed: the token is not a well-formed v1 ticket.
	ErrMalformed = errors.New("ticket: malformed")
	// ErrBadSignature: the MAC matches none of the keys.
	ErrBadSignature = errors.New("ticket: bad signature")
	// ErrExpired: the ticket is authentic but its expiry has passed.
	ErrExpired = errors.New("ticket: expired")
)

var b64 = base64.RawURLEncoding.Strict()

// Ticket is what a token states. Times have one-second precision and are
// returned in UTC.
type Ticket struct {
	UserID, Bucket, Key string
	// Name is the original file name, for the webhook and completion.
	Name string
	// Size is the declared size in bytes.
	Size int64
	// ContentType and ContentDisposition are the headers the backend
	// decided the object is stored with (ContentDisposition "" for none).
	ContentType        string
	ContentDisposition string
	// Path is the file's path below the folder the user picked or
	// dropped ("" for none), for complete's answer and the webhook.
	Path string
	// Meta is the application metadata the object is stored with, under
	// the configured field names (nil for none).
	Meta     map[string]string
	IssuedAt time.Time
	Expires  time.Time
}

// payload is the wire form; short names keep tokens small.
type payload struct {
	UserID      string            `json:"u"`
	Bucket      string            `json:"b"`
	Key         string            `json:"k"`
	Name        string            `json:"n"`
	Size        int64             `json:"s"`
	ContentType string            `json:"t"`
	Disposition string            `json:"d,omitempty"`
	Path        string            `json:"p,omitempty"`
	Meta        map[string]string `json:"m,omitempty"`
	IssuedAt    int64             `json:"i"`
	Expires     int64             `json:"e"`
}

// Signer signs with its first key and verifies with all of them, so a new
// key can be put first while tickets signed with the old one still verify.
type Signer struct {
	keys [][]byte // derived MAC keys
}

// NewSigner returns a Signer; keys[0] signs, every key verifies. Each key
// must be at least MinKeyLen bytes. The keys are copied.
func NewSigner(keys ...[]byte) (*Signer, error) {
	if len(keys) == 0 {
		return nil, errors.New("ticket: no signing key")
	}
	s := &Signer{}
	for i, k := range keys {
		if len(k) < MinKeyLen {
			return nil, fmt.Errorf("ticket: key %d is %d bytes, need at least %d", i, len(k), MinKeyLen)
		}
		m := hmac.New(sha256.New, k)
		m.Write([]byte(macContext))
		s.keys = append(s.keys, m.Sum(nil))
	}
	return s, nil
}

// Sign returns the token for t. It refuses tickets that could not be
// verified back to the same value: empty UserID, Bucket or Key, a negative
// Size, invalid UTF-8, a zero IssuedAt, an Expires not after IssuedAt (at
// second precision), or a token over MaxTokenLen.
func (s *Signer) Sign(t Ticket) (string, error) {
	p := payload{
		UserID: t.UserID, Bucket: t.Bucket, Key: t.Key, Name: t.Name, Size: t.Size,
		ContentType: t.ContentType, Disposition: t.ContentDisposition, Path: t.Path, Meta: t.Meta, IssuedAt: t.IssuedAt.Unix(), Expires: t.Expires.Unix(),
	}
	if t.IssuedAt.IsZero() {
		return "", errors.New("ticket: IssuedAt is zero")
	}
	if err := p.check(); err != nil {
		return "", err
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("ticket: encode: %w", err)
	}
	signed := version + "." + b64.EncodeToString(raw)
	tok := signed + "." + b64.EncodeToString(mac(s.keys[0], signed))
	if len(tok) > MaxTokenLen {
		return "", fmt.Errorf("ticket: token of %d bytes exceeds %d", len(tok), MaxTokenLen)
	}
	return tok, nil
}

// Verify checks token and returns its ticket. Errors wrap ErrMalformed,
// ErrBadSignature or ErrExpired (now at or after Expires). On ErrExpired the
// authentic ticket is returned too, so callers can say what expired; it
// must not be acted on as valid.
func (s *Signer) Verify(token string, now time.Time) (Ticket, error) {
	if len(token) > MaxTokenLen {
		return Ticket{}, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(token), MaxTokenLen)
	}
	ver, rest, ok := strings.Cut(token, ".")
	if !ok || ver != version {
		return Ticket{}, fmt.Errorf("%w: not a %s token", ErrMalformed, version)
	}
	body, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return Ticket{}, fmt.Errorf("%w: missing signature", ErrMalformed)
	}
	got, err := b64.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return Ticket{}, fmt.Errorf("%w: signature encoding", ErrMalformed)
	}
	signed := token[:len(version)+1+len(body)]
	valid := 0
	for _, k := range s.keys {
		// No early exit: the time taken does not depend on which key matched.
		valid |= subtle.ConstantTimeCompare(mac(k, signed), got)
	}
	if valid == 0 {
		return Ticket{}, ErrBadSignature
	}
	raw, err := b64.DecodeString(body)
	if err != nil {
		return Ticket{}, fmt.Errorf("%w: payload encoding", ErrMalformed)
	}
	var p payload
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || dec.More() {
		return Ticket{}, fmt.Errorf("%w: payload", ErrMalformed)
	}
	if err := p.check(); err != nil {
		return Ticket{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	t := Ticket{
		UserID: p.UserID, Bucket: p.Bucket, Key: p.Key, Name: p.Name, Size: p.Size,
		ContentType: p.ContentType, ContentDisposition: p.Disposition, Path: p.Path, Meta: p.Meta,
		IssuedAt: time.Unix(p.IssuedAt, 0).UTC(), Expires: time.Unix(p.Expires, 0).UTC(),
	}
	if !now.Before(t.Expires) {
		return t, fmt.Errorf("%w at %s", ErrExpired, t.Expires.Format(time.RFC3339))
	}
	return t, nil
}

// check holds the invariants shared by Sign and Verify.
func (p payload) check() error {
	switch {
	case p.UserID == "", p.Bucket == "", p.Key == "":
		return errors.New("ticket: UserID, Bucket and Key are required")
	case p.Size < 0:
		return fmt.Errorf("ticket: negative size %d", p.Size)
	case p.Expires <= p.IssuedAt:
		return errors.New("ticket: Expires must be at least a second after IssuedAt")
	}
	fields := []string{p.UserID, p.Bucket, p.Key, p.Name, p.ContentType, p.Disposition, p.Path}
	for k, v := range p.Meta {
		fields = append(fields, k, v)
	}
	for _, f := range fields {
		if !utf8.ValidString(f) {
			// JSON would silently replace the bytes, so the ticket would not
			// say what was signed.
			return errors.New("ticket: fields must be valid UTF-8")
		}
	}
	return nil
}

func mac(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
