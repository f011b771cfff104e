package objectkey

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits of a relative path: a browser's folder pick or drop names every
// file's path below the picked folder's parent; deeper or longer trees are
// refused rather than cut, so two files never land on one cut path.
const (
	MaxPathBytes    = 1024
	MaxPathSegments = 32
	maxSegmentBytes = 255
)

// ErrPath reports a relative path RelativeDir refuses.
var ErrPath = errors.New("objectkey: invalid relative path")

// RelativeDir checks the relative path a browser reports for a file picked
// or dropped with its folder ("photos/2024/a.jpg", as File.webkitRelativePath)
// and returns its folders as one key fragment for {path}: each folder
// sanitised as SanitizeName sanitises names (controls, bidi and other format
// characters, '\\', '*' and '?' become '_'; dots and spaces at the ends are
// trimmed, so no segment is "." or ".."), each followed by '/'. "" gives "".
//
// It refuses, rather than repairs, what cannot be a relative path: an
// absolute path ('/' first, or a drive such as "C:"), backslashes, empty,
// "." or ".." segments, invalid UTF-8, more than MaxPathBytes bytes or
// MaxPathSegments segments, a folder name over 255 bytes, and a last
// segment other than the file's name.
func RelativeDir(relPath, name string) (string, error) {
	if relPath == "" {
		return "", nil
	}
	switch {
	case len(relPath) > MaxPathBytes:
		return "", fmt.Errorf("%w: %d bytes exceeds %d", ErrPath, len(relPath), MaxPathBytes)
	case !utf8.ValidString(relPath):
		return "", fmt.Errorf("%w: not valid UTF-8", ErrPath)
	case strings.HasPrefix(relPath, "/"):
		return "", fmt.Errorf("%w: absolute paths are not allowed", ErrPath)
	case strings.Contains(relPath, "\\"):
		return "", fmt.Errorf("%w: separate folders with '/', not '\\\\'", ErrPath)
	}
	segs := strings.Split(relPath, "/")
	if len(segs) > MaxPathSegments {
		return "", fmt.Errorf("%w: %d segments exceeds %d", ErrPath, len(segs), MaxPathSegments)
	}
	if len(segs[0]) == 2 && segs[0][1] == ':' && (segs[0][0]|0x20) >= 'a' && (segs[0][0]|0x20) <= 'z' {
		return "", fmt.Errorf("%w: absolute paths are not allowed (drive %s)", ErrPath, segs[0])
	}
	for i, seg := range segs {
		switch {
		case seg == "":
			return "", fmt.Errorf("%w: empty segment at %d", ErrPath, i+1)
		case seg == "." || seg == "..":
			return "", fmt.Errorf("%w: %q segment", ErrPath, seg)
		case len(seg) > maxSegmentBytes:
			return "", fmt.Errorf("%w: segment %d is %d bytes, over %d", ErrPath, i+1, len(seg), maxSegmentBytes)
		}
	}
	if segs[len(segs)-1] != name {
		return "", fmt.Errorf("%w: it must end with the file's name", ErrPath)
	}
	var b strings.Builder
	for _, seg := range segs[:len(segs)-1] {
		b.WriteString(SanitizeName(seg, 0))
		b.WriteByte('/')
	}
	return b.String(), nil
}
