package objectkey

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxKeyLen is the OSS object key limit in bytes.
const MaxKeyLen = 1023

// ErrInvalidKey reports a key ValidateKey refuses.
var ErrInvalidKey = errors.New("objectkey: invalid key")

// ValidateKey checks that key is one this package could have rendered:
// 1..MaxKeyLen bytes of valid UTF-8, no leading or trailing '/', no empty,
// "." or ".." segment, no backslash, no control, format (bidi) or line
// separator characters.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: %d bytes exceeds %d", ErrInvalidKey, len(key), MaxKeyLen)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidKey)
	}
	for i, r := range key {
		if unsafeRune(r) || r == '\\' || policyWildcard(r) {
			return fmt.Errorf("%w: character %U at byte %d", ErrInvalidKey, r, i)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return fmt.Errorf("%w: empty path segment", ErrInvalidKey)
		case ".", "..":
			return fmt.Errorf("%w: %q path segment", ErrInvalidKey, seg)
		}
	}
	return nil
}

// policyWildcard reports the characters RAM policies treat as wildcards in a
// resource. STS credentials are scoped to a key by naming it in a policy,
// and RAM has no escape, so a key with '*' or '?' would be granted more
// than itself.
func policyWildcard(r rune) bool { return r == '*' || r == '?' }

// unsafeRune reports characters that never belong in a key: C0/C1 controls
// and DEL, format characters (bidi overrides and isolates, LRM/RLM, BOM,
// zero-width space) that make a name display differently from what it is,
// line/paragraph separators, and U+FFFE/U+FFFF, which XML 1.0 (OSS list
// responses) cannot carry. ZWNJ and ZWJ stay: Persian words and emoji
// sequences need them.
func unsafeRune(r rune) bool {
	switch {
	case r == 0x200C || r == 0x200D:
		return false
	case r == 0xFFFE || r == 0xFFFF:
		return true
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
}
