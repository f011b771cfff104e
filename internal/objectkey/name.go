package objectkey

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxExtLen bounds what counts as an extension, so that truncation can keep
// it and {ext} stays a short, predictable token.
const maxExtLen = 16

// SanitizeName turns an untrusted file name into one key segment. It keeps
// letters, digits, marks, punctuation, symbols and spaces; replaces '/',
// '\\', the RAM wildcards '*' and '?', invalid UTF-8 bytes and unsafe characters (controls including NUL
// and U+0080-U+009F, bidi overrides U+202A-U+202E and isolates
// U+2066-U+2069, other format characters except ZWNJ/ZWJ, U+2028/U+2029)
// with '_'; trims spaces and dots at both ends, so the result is never "."
// or ".." and never a hidden dotfile. A name with nothing left becomes "_":
// it never fails, because refusing names is the upload policy's job.
//
// When maxBytes > 0 the result is cut to at most maxBytes on a rune boundary,
// keeping the extension (see Ext) when it fits; maxBytes <= 0 means no
// limit. No Unicode normalisation is done.
func SanitizeName(name string, maxBytes int) string {
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		if (r == utf8.RuneError && size == 1) || r == '/' || r == '\\' || unsafeRune(r) || policyWildcard(r) {
			b.WriteByte('_')
		} else {
			b.WriteString(name[i : i+size])
		}
		i += size
	}
	s := strings.TrimFunc(b.String(), dotOrSpace)
	if s == "" {
		return "_"
	}
	return truncateName(s, maxBytes)
}

// DisplayName is name as it may be shown or echoed: unchanged but for the
// characters that would make it lie about itself or the text around it —
// controls, bidi overrides and isolates (U+202A-U+202E, U+2066-U+2069:
// "invoice\u202Efdp.exe" shows as "invoiceexe.pdf"), other format
// characters except ZWNJ/ZWJ, line and paragraph separators and invalid
// UTF-8 — each replaced by U+FFFD, so the replacement is visible. Unlike
// SanitizeName it keeps slashes, dots and spaces: it is a name, not a key.
func DisplayName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		if (r == utf8.RuneError && size == 1) || unsafeRune(r) {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(name[i : i+size])
		}
		i += size
	}
	return b.String()
}

func dotOrSpace(r rune) bool { return r == '.' || unicode.IsSpace(r) }

// truncateName cuts a sanitised name to maxBytes, keeping its extension
// when at least one byte of the base name fits beside it.
func truncateName(s string, maxBytes int) string {
	if maxBytes <= 0 || len(s) <= maxBytes {
		return s
	}
	ext := extSuffix(s)
	if len(ext) >= maxBytes {
		ext = ""
	}
	base := strings.TrimRightFunc(cutRunes(s[:len(s)-len(ext)], maxBytes-len(ext)), dotOrSpace)
	if base == "" {
		base = "_"
	}
	return base + ext
}

// cutRunes returns the longest prefix of s of at most n bytes that ends on
// a rune boundary.
func cutRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// extSuffix returns the extension of name with its dot and original case
// (".JPG"), or "" when name has none: a final dot not at the start, followed
// by 1..16 ASCII letters or digits.
func extSuffix(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || len(name)-i-1 > maxExtLen || i == len(name)-1 {
		return ""
	}
	for _, c := range []byte(name[i+1:]) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return ""
		}
	}
	return name[i:]
}

// Ext returns the lower-case extension of name without the dot: the text
// after the last dot when that dot is not the first character and the text
// is 1..16 ASCII letters or digits ("a.tar.gz" → "gz", ".bashrc" → "",
// "a.jpg " → ""). The upload policy and {ext} use the same definition.
func Ext(name string) string {
	e := extSuffix(name)
	if e == "" {
		return ""
	}
	return strings.ToLower(e[1:])
}
