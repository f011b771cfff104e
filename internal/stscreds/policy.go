package stscreds

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// uploadActions are the only OSS actions a browser needs to run, resume and
// cancel a multipart upload: PutObject covers PutObject, InitiateMultipartUpload,
// UploadPart and CompleteMultipartUpload.
var uploadActions = []string{"oss:PutObject", "oss:ListParts", "oss:AbortMultipartUpload"}

// Limits enforced before calling STS so a bad key fails here with a precise
// message instead of as an opaque PolicyGrammar error.
const (
	maxKeyBytes       = 1023 // OSS object key limit
	maxPolicyChars    = 2048 // STS AssumeRole Policy limit, counted in characters
	maxSessionNameLen = 64
)

// ErrWildcardInKey is returned for keys or prefixes containing '*' or '?'.
// RAM resource patterns treat both as wildcards and offer no escaping, so such
// a key would grant more than the one object (e.g. "a*" also matches "ab").
// Errors wrapping it also wrap ErrInvalidInput.
var ErrWildcardInKey = errors.New("stscreds: RAM wildcard '*' or '?' in key")

// ErrInvalidInput is returned (wrapped) for malformed keys, prefixes and
// session names; the STS endpoint is not called.
var ErrInvalidInput = errors.New("stscreds: invalid input")

type policyDoc struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

// ObjectPolicy is the session policy for uploading exactly bucket/key:
// PutObject, ListParts and AbortMultipartUpload on that one object ARN and
// nothing else. It does not validate key; ForObject refuses keys with
// wildcards before using it.
func ObjectPolicy(bucket, key string) string {
	return uploadPolicy(objectARN(bucket, key))
}

// PrefixPolicy is the session policy for uploading any object under
// bucket/prefix: the same three actions on the ARN pattern prefix*.
func PrefixPolicy(bucket, prefix string) string {
	return uploadPolicy(objectARN(bucket, prefix) + "*")
}

func objectARN(bucket, key string) string {
	return "acs:oss:*:*:" + bucket + "/" + key
}

func uploadPolicy(resource string) string {
	doc := policyDoc{
		Version: "1",
		Statement: []policyStatement{{
			Effect:   "Allow",
			Action:   uploadActions,
			Resource: []string{resource},
		}},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// HTML escaping would turn '<' into six characters and eat into the
	// 2048-character policy limit for no benefit.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		// Only strings are encoded; this cannot happen.
		panic("stscreds: encode policy: " + err.Error())
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// checkKey validates an object key or prefix that will appear in a policy.
func checkKey(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty %s", ErrInvalidInput, what)
	case len(s) > maxKeyBytes:
		return fmt.Errorf("%w: %s is %d bytes, OSS allows %d", ErrInvalidInput, what, len(s), maxKeyBytes)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidInput, what)
	case strings.ContainsAny(s, "*?"):
		return fmt.Errorf("%w: %s %q: %w", ErrInvalidInput, what, s, ErrWildcardInKey)
	}
	return nil
}

// checkPolicySize rejects policies STS would refuse for length.
func checkPolicySize(p string) error {
	if n := utf8.RuneCountInString(p); n > maxPolicyChars {
		return fmt.Errorf("%w: session policy is %d characters, STS allows %d (key too long once JSON-escaped)",
			ErrInvalidInput, n, maxPolicyChars)
	}
	return nil
}

// checkSessionName applies the RoleSessionName rule: 2-64 characters of
// [A-Za-z0-9.@_-].
func checkSessionName(s string) error {
	if len(s) < 2 || len(s) > maxSessionNameLen {
		return fmt.Errorf("%w: RoleSessionName must be 2-%d characters, got %d", ErrInvalidInput, maxSessionNameLen, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '@' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("%w: RoleSessionName may only contain [A-Za-z0-9.@_-]", ErrInvalidInput)
		}
	}
	return nil
}
