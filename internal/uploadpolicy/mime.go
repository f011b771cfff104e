package uploadpolicy

import (
	"errors"
	"fmt"
	"mime"
	"slices"
	"strings"
)

type codedError struct{ code, msg string }

func (e *codedError) Error() string { return e.msg }

func codeOf(err error) string {
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	return CodeInvalid
}

// mediaType validates a declared type and returns its lower-case
// "type/subtype" without parameters ("" for an empty type).
func mediaType(t string) (string, error) {
	if t == "" {
		return "", nil
	}
	if len(t) > MaxTypeLen {
		return "", &codedError{CodeTooLong, fmt.Sprintf("the file type is %d bytes, the maximum is %d", len(t), MaxTypeLen)}
	}
	mt, _, err := mime.ParseMediaType(t)
	if err != nil || !isTypeSubtype(mt) {
		return "", &codedError{CodeInvalid, fmt.Sprintf("the file type %q is not a MIME type like \"image/png\"", t)}
	}
	return mt, nil
}

// isTypeSubtype reports whether s is "token/token".
func isTypeSubtype(s string) bool {
	typ, sub, ok := strings.Cut(s, "/")
	return ok && isToken(typ) && isToken(sub)
}

// isToken reports an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// matchAny reports whether the media type mt matches a pattern: exact,
// "type/*" or "*/*".
func matchAny(patterns []string, mt string) bool {
	typ, _, _ := strings.Cut(mt, "/")
	for _, p := range patterns {
		if p == mt || p == "*/*" || p == typ+"/*" {
			return true
		}
	}
	return false
}

// ParsePatterns parses a comma-separated list of MIME patterns such as
// "image/*, video/mp4" (for environment configuration). Patterns are
// "type/subtype", "type/*" or "*/*", case-insensitive, returned in lower
// case without duplicates; empty items are skipped, so "" gives nil (any
// type).
func ParsePatterns(spec string) ([]string, error) {
	var out []string
	for item := range strings.SplitSeq(spec, ",") {
		p := strings.ToLower(strings.TrimSpace(item))
		if p == "" {
			continue
		}
		if !isPattern(p) {
			return nil, fmt.Errorf("uploadpolicy: %q is not a MIME pattern like \"image/*\" or \"video/mp4\"", strings.TrimSpace(item))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// isPattern reports a lower-case "type/subtype", "type/*" or "*/*".
func isPattern(p string) bool {
	if p != strings.ToLower(p) {
		return false
	}
	typ, sub, ok := strings.Cut(p, "/")
	if !ok || !isToken(typ) || !isToken(sub) {
		return false
	}
	if strings.Contains(typ, "*") {
		return p == "*/*"
	}
	return sub == "*" || !strings.Contains(sub, "*")
}

// ParseExts parses a comma-separated list of extensions such as
// "jpg, .PNG, mp4" into lower-case extensions without dots, as
// objectkey.Ext returns them (1..16 ASCII letters or digits).
func ParseExts(spec string) ([]string, error) {
	var out []string
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		e := strings.ToLower(strings.TrimPrefix(item, "."))
		if !isExt(e) {
			return nil, fmt.Errorf("uploadpolicy: %q is not an extension (1-16 ASCII letters or digits)", item)
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func isExt(e string) bool {
	if len(e) < 1 || len(e) > 16 {
		return false
	}
	for i := 0; i < len(e); i++ {
		c := e[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
