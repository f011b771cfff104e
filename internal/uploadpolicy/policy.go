// Package uploadpolicy decides which files may be uploaded, and says why
// not in precise, user-presentable terms.
package uploadpolicy

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ossup/ossup/internal/objectkey"
	"github.com/ossup/ossup/internal/partplan"
)

// Defaults for zero Policy fields.
const (
	DefaultMaxNameBytes = 1024
	// MaxTypeLen bounds a declared MIME type.
	MaxTypeLen = 255
	// MaxLastModified is 9999-12-31T23:59:59.999Z in ms: later times cannot
	// be written as RFC 3339 (Go's time.Time JSON) and are no real file's.
	MaxLastModified = 253402300799999
)

// Violation codes.
const (
	CodeRequired            = "required"              // name: empty
	CodeInvalidUTF8         = "invalid_utf8"          // name: not UTF-8, or U+FFFD
	CodeTooLong             = "too_long"              // name, type: over the byte limit
	CodeInvalidCharacters   = "invalid_characters"    // name: C0/C1 control characters
	CodeNegative            = "negative"              // size, lastModified
	CodeTooLarge            = "too_large"             // size
	CodeTooSmall            = "too_small"             // size
	CodeInvalid             = "invalid"               // type syntax, lastModified range
	CodeTypeNotAllowed      = "type_not_allowed"      // type
	CodeExtensionNotAllowed = "extension_not_allowed" // name
)

// Violation fields, named as in the create request.
const (
	fieldName     = "name"
	fieldSize     = "size"
	fieldType     = "type"
	fieldModified = "lastModified"
)

// Policy says what may be uploaded. The zero value allows any file OSS can
// store, with names up to 1024 bytes.
type Policy struct {
	// MaxSize is the largest size in bytes; 0 or anything above
	// partplan.MaxObjectSize (10000 × 5 GiB, about 48.8 TB) means that.
	MaxSize int64
	// MinSize is the smallest size (default 0: empty files allowed).
	MinSize int64
	// AllowedTypes are MIME patterns such as "image/*" or "video/mp4"
	// (lower case, see ParsePatterns); empty allows any type, including
	// none. When set, a file without a type is refused.
	AllowedTypes []string
	// AllowedExts are lower-case extensions without the dot (see
	// objectkey.Ext); empty allows any.
	AllowedExts []string
	// MaxNameBytes is the longest name in bytes (default 1024). Longer
	// names are refused, not cut.
	MaxNameBytes int
	// InlineTypes are the MIME patterns stored without a
	// Content-Disposition (see Store); nil means DefaultInlineTypes.
	InlineTypes []string
}

// File is what the browser declares about a file.
type File struct {
	Name string
	Size int64
	Type string
	// LastModified is File.lastModified: ms since the epoch, 0 if unknown.
	LastModified int64
}

// Violation is one reason a file is refused: the field ("name", "size",
// "type", "lastModified"), a machine code (the Code constants) and a
// message that can be shown to the user.
type Violation struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (v Violation) Error() string { return v.Field + ": " + v.Message }

// Validate checks a configured policy: sizes in range, patterns and
// extensions in the form ParsePatterns and ParseExts produce.
func (p Policy) Validate() error {
	switch {
	case p.MaxSize < 0 || p.MaxSize > partplan.MaxObjectSize:
		return fmt.Errorf("uploadpolicy: MaxSize %d outside 0..%d", p.MaxSize, int64(partplan.MaxObjectSize))
	case p.MinSize < 0 || p.MinSize > p.maxSize():
		return fmt.Errorf("uploadpolicy: MinSize %d outside 0..%d", p.MinSize, p.maxSize())
	case p.MaxNameBytes < 0:
		return fmt.Errorf("uploadpolicy: negative MaxNameBytes %d", p.MaxNameBytes)
	}
	for _, t := range p.AllowedTypes {
		if !isPattern(t) {
			return fmt.Errorf("uploadpolicy: allowed type %q is not a lower-case MIME pattern", t)
		}
	}
	for _, t := range p.InlineTypes {
		if !isPattern(t) {
			return fmt.Errorf("uploadpolicy: inline type %q is not a lower-case MIME pattern", t)
		}
	}
	for _, e := range p.AllowedExts {
		if !isExt(e) {
			return fmt.Errorf("uploadpolicy: allowed extension %q is not 1-16 lower-case ASCII letters or digits", e)
		}
	}
	return nil
}

func (p Policy) maxSize() int64 {
	if p.MaxSize <= 0 || p.MaxSize > partplan.MaxObjectSize {
		return partplan.MaxObjectSize
	}
	return p.MaxSize
}

func (p Policy) maxName() int {
	if p.MaxNameBytes <= 0 {
		return DefaultMaxNameBytes
	}
	return p.MaxNameBytes
}

// Check returns every reason f is refused, or nil if it may be uploaded.
//
// Names are refused only when they cannot be faithfully kept: empty, over
// MaxNameBytes, invalid UTF-8 (or containing U+FFFD), or with C0/C1 control
// characters such as NUL. Path separators, "..", bidi overrides and other
// tricks are neutralised when the object key is built
// (objectkey.SanitizeName), not refused: a browser's File.name is a plain
// name, and such characters in it are harmless once sanitised.
func (p Policy) Check(f File) []Violation {
	var vs []Violation
	add := func(field, code, format string, args ...any) {
		vs = append(vs, Violation{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	nameOK := true
	if v := checkName(f.Name, p.maxName()); v != nil {
		vs = append(vs, *v)
		nameOK = false
	}

	switch limit := p.maxSize(); {
	case f.Size < 0:
		add(fieldSize, CodeNegative, "size %d is negative", f.Size)
	case f.Size > limit:
		add(fieldSize, CodeTooLarge, "size %d exceeds the maximum %d bytes", f.Size, limit)
	case f.Size < p.MinSize:
		add(fieldSize, CodeTooSmall, "size %d is below the minimum %d bytes", f.Size, p.MinSize)
	}

	switch mt, err := mediaType(f.Type); {
	case err != nil:
		add(fieldType, codeOf(err), "%s", err.Error())
	case len(p.AllowedTypes) > 0 && mt == "":
		add(fieldType, CodeTypeNotAllowed, "the file type is unknown; allowed types: %s", strings.Join(p.AllowedTypes, ", "))
	case len(p.AllowedTypes) > 0 && !matchAny(p.AllowedTypes, mt):
		add(fieldType, CodeTypeNotAllowed, "type %q is not allowed; allowed types: %s", mt, strings.Join(p.AllowedTypes, ", "))
	}

	if len(p.AllowedExts) > 0 && nameOK {
		// Both the declared name and the stored (sanitised) one must have an
		// allowed extension: "x.jpg." or "x.exe " must not slip through.
		raw, stored := objectkey.Ext(f.Name), objectkey.Ext(objectkey.SanitizeName(f.Name, 0))
		for _, e := range []string{raw, stored} {
			if !slices.Contains(p.AllowedExts, e) {
				what := fmt.Sprintf("extension %q is", e)
				if e == "" {
					what = "a file without an extension is"
				}
				add(fieldName, CodeExtensionNotAllowed, "%s not allowed; allowed extensions: %s", what, strings.Join(p.AllowedExts, ", "))
				break
			}
		}
	}

	switch {
	case f.LastModified < 0:
		add(fieldModified, CodeNegative, "lastModified %d is negative", f.LastModified)
	case f.LastModified > MaxLastModified:
		add(fieldModified, CodeInvalid, "lastModified %d is after the year 9999", f.LastModified)
	}
	return vs
}

func checkName(name string, maxBytes int) *Violation {
	v := func(code, format string, args ...any) *Violation {
		return &Violation{Field: fieldName, Code: code, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case name == "":
		return v(CodeRequired, "the file name is empty")
	case len(name) > maxBytes:
		return v(CodeTooLong, "the file name is %d bytes, the maximum is %d", len(name), maxBytes)
	case !utf8.ValidString(name):
		return v(CodeInvalidUTF8, "the file name is not valid UTF-8")
	}
	for i, r := range name {
		switch {
		case r == utf8.RuneError:
			// encoding/json decodes invalid bytes and lone surrogates to
			// U+FFFD, so this is how invalid names reach a JSON API.
			return v(CodeInvalidUTF8, "the file name is not valid Unicode (U+FFFD at byte %d)", i)
		case unicode.IsControl(r):
			return v(CodeInvalidCharacters, "the file name contains the control character %U at byte %d", r, i)
		}
	}
	return nil
}
