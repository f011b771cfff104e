package objectkey

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// maxTemplateLen leaves most of the 1023-byte key to the file name.
const maxTemplateLen = 512

// ErrTemplate reports a template ParseTemplate refuses.
var ErrTemplate = errors.New("objectkey: invalid key template")

// ErrNoRoom reports that a template, with this user's id, renders keys over
// MaxKeyLen bytes even with a one-byte name.
var ErrNoRoom = errors.New("objectkey: key template leaves no room for the file name")

type kind int

const (
	literal kind = iota
	phUser
	phDate
	phYear
	phMonth
	phDay
	phRandom
	phName
	phExt
	phPath
	phMeta
)

// MaxMetaSegmentBytes bounds what one {meta.<field>} puts in a key (after
// SanitizeName), so application metadata cannot crowd out the file name.
const MaxMetaSegmentBytes = 128

// ErrMissingMeta reports that a template with {meta.<field>} was rendered
// for an upload without that field.
var ErrMissingMeta = errors.New("objectkey: the key template needs a metadata field the upload lacks")

var placeholders = map[string]kind{
	"user": phUser, "date": phDate, "yyyy": phYear, "mm": phMonth, "dd": phDay,
	"random": phRandom, "name": phName, "ext": phExt, "path": phPath,
}

// probes are what each placeholder stands for when ParseTemplate checks
// the shape of the keys a template can produce: {ext} may render empty,
// {path} empty (a file outside any folder) or as segments ending in '/'.
var probes = []map[kind]string{
	{phUser: "u", phDate: "2006/01/02", phYear: "2006", phMonth: "01", phDay: "02", phRandom: "r", phName: "n", phExt: "", phPath: "", phMeta: "m"},
	{phUser: "u", phDate: "2006/01/02", phYear: "2006", phMonth: "01", phDay: "02", phRandom: "r", phName: "n", phExt: "", phPath: "d/e/", phMeta: "m"},
}

type part struct {
	kind kind
	text string // literal text, or the field of {meta.<field>}
}

// metaField is the form of a field name in {meta.<field>}, as
// OSSUP_META_FIELDS has them.
func metaField(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '-' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Template renders object keys such as "uploads/{user}/{date}/{random}/{name}".
//
// Placeholders: {user} (SanitizeUserID), {date} ("YYYY/MM/DD", UTC), {yyyy},
// {mm}, {dd}, {random} (26 random characters of [a-z2-7], 128 bits),
// {name} (SanitizeName, cut to fit the key limit), {ext} (Ext of the
// sanitised name, possibly empty) and {path} (the folders of the file's
// relative path, RelativeDir: "" or segments each ending in '/', so it is
// written "{path}{name}") and {meta.<field>} (the upload's application
// metadata field, matched without case, sanitised as names are and cut to
// MaxMetaSegmentBytes; an upload without it cannot be given a key,
// ErrMissingMeta). A Template is safe for concurrent use.
type Template struct {
	src   string
	parts []part
	// fixed is the number of leading parts that are the same for every
	// upload of a user: literals and {user}.
	fixed int
	// random returns the {random} value; tests replace it.
	random func() string
}

// ParseTemplate parses and checks a key template. It refuses: unknown or
// unclosed placeholders and stray braces; literal text with backslashes,
// control or format characters or invalid UTF-8; templates longer than 512
// bytes; and any shape that could render an invalid key (leading or
// trailing '/', "//", "." or ".." segments, also through an empty {ext}).
//
// It also requires {random}, so every upload gets its own key (no upload
// overwrites another, concurrent uploads of one name never race), and
// requires {user} followed by '/' before the first per-upload placeholder,
// so that UserPrefix is a prefix no other user's key can have.
func ParseTemplate(s string) (*Template, error) {
	switch {
	case s == "":
		return nil, fmt.Errorf("%w: empty", ErrTemplate)
	case len(s) > maxTemplateLen:
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrTemplate, len(s), maxTemplateLen)
	case !utf8.ValidString(s):
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrTemplate)
	}
	var parts []part
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, part{kind: literal, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("%w: unclosed '{' at byte %d", ErrTemplate, i)
			}
			name := s[i+1 : i+end]
			k, ok := placeholders[name]
			field, isMeta := strings.CutPrefix(name, "meta.")
			switch {
			case isMeta && metaField(field):
				k = phMeta
			case isMeta:
				return nil, fmt.Errorf("%w: {%s}: metadata field names are letters, digits and '-', at most 64", ErrTemplate, name)
			case !ok:
				return nil, fmt.Errorf("%w: unknown placeholder {%s}", ErrTemplate, name)
			}
			flush()
			parts = append(parts, part{kind: k, text: field})
			i += end + 1
			continue
		case r == '}':
			return nil, fmt.Errorf("%w: unmatched '}' at byte %d", ErrTemplate, i)
		case r == '\\' || unsafeRune(r) || policyWildcard(r):
			return nil, fmt.Errorf("%w: character %U at byte %d", ErrTemplate, r, i)
		}
		lit.WriteString(s[i : i+size])
		i += size
	}
	flush()

	t := &Template{src: s, parts: parts, random: randomID}
	if err := t.check(); err != nil {
		return nil, err
	}
	return t, nil
}

// check validates the shape of the template's keys and the placement of
// {random} and {user}.
func (t *Template) check() error {
	hasRandom := false
	t.fixed = len(t.parts)
	for i, p := range t.parts {
		if p.kind == phRandom {
			hasRandom = true
		}
		if p.kind != literal && p.kind != phUser && t.fixed == len(t.parts) {
			t.fixed = i
		}
	}
	for _, probe := range probes {
		var sk strings.Builder
		for _, p := range t.parts {
			if p.kind == literal {
				sk.WriteString(p.text)
			} else {
				sk.WriteString(probe[p.kind])
			}
		}
		skeleton := sk.String()
		if strings.HasPrefix(skeleton, "/") {
			return fmt.Errorf("%w: keys must not start with '/'", ErrTemplate)
		}
		for seg := range strings.SplitSeq(skeleton, "/") {
			switch seg {
			case "":
				return fmt.Errorf("%w: empty path segment (\"//\", a trailing '/', a segment that is only {ext}, or {path} not followed by a name)", ErrTemplate)
			case ".", "..":
				return fmt.Errorf("%w: %q path segment (also from an empty {ext})", ErrTemplate, seg)
			}
		}
	}
	if !hasRandom {
		return fmt.Errorf("%w: {random} is required so that every upload gets its own key", ErrTemplate)
	}
	userScoped := false
	for i := 0; i+1 < t.fixed; i++ {
		if t.parts[i].kind == phUser && t.parts[i+1].kind == literal && strings.HasPrefix(t.parts[i+1].text, "/") {
			userScoped = true
		}
	}
	if !userScoped {
		return fmt.Errorf("%w: {user} followed by '/' must come before the first per-upload placeholder, so each user has a prefix of their own", ErrTemplate)
	}
	return nil
}

// String returns the template source.
func (t *Template) String() string { return t.src }

// Render returns a fresh key for uploading the file name by user at now.
// The name is sanitised and, if needed, cut (keeping its extension) so the
// key fits MaxKeyLen. It fails for an empty user id, and with ErrNoRoom if
// the rest of the key leaves no room for the name.
func (t *Template) Render(user, name string, now time.Time) (string, error) {
	return t.RenderIn(user, "", name, now)
}

// RenderIn is Render for a file in the folders dir, as RelativeDir
// returns them ("" for none), which {path} stands for.
func (t *Template) RenderIn(user, dir, name string, now time.Time) (string, error) {
	return t.RenderWith(user, dir, name, nil, now)
}

// MetaFields returns the fields the template's {meta.<field>} placeholders
// name, in order, each once.
func (t *Template) MetaFields() []string {
	var out []string
	for _, p := range t.parts {
		if p.kind == phMeta && !slices.ContainsFunc(out, func(f string) bool { return strings.EqualFold(f, p.text) }) {
			out = append(out, p.text)
		}
	}
	return out
}

// RenderWith is RenderIn for an upload with application metadata meta,
// which {meta.<field>} stands for.
func (t *Template) RenderWith(user, dir, name string, meta map[string]string, now time.Time) (string, error) {
	if user == "" {
		return "", errors.New("objectkey: empty user id")
	}
	now = now.UTC()
	clean := SanitizeName(name, 0)
	vals := map[kind]string{
		phUser:   SanitizeUserID(user),
		phDate:   now.Format("2006/01/02"),
		phYear:   now.Format("2006"),
		phMonth:  now.Format("01"),
		phDay:    now.Format("02"),
		phRandom: t.random(),
		phExt:    Ext(clean),
		phPath:   dir,
	}
	metaVals := map[string]string{}
	for _, f := range t.MetaFields() {
		v := ""
		for k, mv := range meta {
			if strings.EqualFold(k, f) {
				v = mv
			}
		}
		if v == "" {
			return "", fmt.Errorf("%w: %q (for {meta.%s})", ErrMissingMeta, f, f)
		}
		metaVals[strings.ToLower(f)] = SanitizeName(v, MaxMetaSegmentBytes)
	}
	rest, names := 0, 0
	for _, p := range t.parts {
		switch p.kind {
		case literal:
			rest += len(p.text)
		case phMeta:
			rest += len(metaVals[strings.ToLower(p.text)])
		case phName:
			names++
		default:
			rest += len(vals[p.kind])
		}
	}
	if rest+names > MaxKeyLen {
		return "", fmt.Errorf("%w: template %q needs %d bytes besides the name", ErrNoRoom, t.src, rest)
	}
	if names > 0 {
		vals[phName] = truncateName(clean, (MaxKeyLen-rest)/names)
	}
	var b strings.Builder
	for _, p := range t.parts {
		switch p.kind {
		case literal:
			b.WriteString(p.text)
		case phMeta:
			b.WriteString(metaVals[strings.ToLower(p.text)])
		default:
			b.WriteString(vals[p.kind])
		}
	}
	key := b.String()
	if err := ValidateKey(key); err != nil {
		return "", fmt.Errorf("objectkey: template %q rendered a bad key: %w", t.src, err)
	}
	return key, nil
}

// UserPrefix returns the part of every key of user that comes before the
// first per-upload placeholder, cut after its last '/': for the template
// "uploads/{user}/{date}/{random}/{name}" it is "uploads/<user>/". It ends
// with the user segment and a '/', so it scopes credentials and listings to
// that user only.
func (t *Template) UserPrefix(user string) string {
	var b strings.Builder
	u := SanitizeUserID(user)
	for _, p := range t.parts[:t.fixed] {
		if p.kind == literal {
			b.WriteString(p.text)
		} else {
			b.WriteString(u)
		}
	}
	s := b.String()
	return s[:strings.LastIndexByte(s, '/')+1]
}

// Prefix returns the literal text before the first placeholder, cut after
// its last '/' ("uploads/" for the default template): the prefix shared by
// all users' keys, for the janitor. It may be empty.
func (t *Template) Prefix() string {
	s := ""
	if len(t.parts) > 0 && t.parts[0].kind == literal {
		s = t.parts[0].text
	}
	return s[:strings.LastIndexByte(s, '/')+1]
}

// randomID returns 128 random bits as 26 lower-case base32 characters.
func randomID() string { return strings.ToLower(rand.Text()) }
