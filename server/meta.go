package server

import (
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of application metadata, stricter than OSS's 8 KB of user
// metadata per object: the values travel in a signed ticket and in every
// create request's headers.
const (
	maxMetaValueBytes = 512
	maxMetaTotalBytes = 2048
)

var metaFieldName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,63}$`)

// ParseMetaFields parses OSSUP_META_FIELDS ("albumId,title"): the names of
// the application metadata an upload may carry, each stored on the object
// as x-oss-meta-<name, lower-cased> (OSS lower-cases them). Names are
// letters, digits and '-', at most 64; two names that differ only in case
// are refused, since OSS would store them as one.
func ParseMetaFields(s string) ([]string, error) {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !metaFieldName.MatchString(f) {
			return nil, fmt.Errorf("metadata field %q: use letters, digits and '-' (at most 64, starting with a letter or digit)", f)
		}
		if slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, f) }) {
			return nil, fmt.Errorf("metadata field %q is listed twice (OSS lower-cases metadata names)", f)
		}
		out = append(out, f)
	}
	return out, nil
}

// checkMeta validates a create request's metadata against the allow-list:
// unknown fields are refused naming them all; values are 1 to 512 bytes of
// UTF-8 text (no control or format characters, no spaces at the ends, which
// proxies may trim), all together at most 2 KiB. An ASCII value that reads
// as an RFC 2047 encoded word ("=?...?=") is refused: metaValue stores
// non-ASCII values that way, so a reader could not tell the two apart. It
// returns the values under their configured names.
func (a *API) checkMeta(meta map[string]string) (map[string]string, error) {
	if len(meta) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	var unknown []string
	total := 0
	for k, v := range meta {
		i := slices.IndexFunc(a.MetaFields, func(f string) bool { return strings.EqualFold(f, k) })
		if i < 0 {
			unknown = append(unknown, k)
			continue
		}
		name := a.MetaFields[i]
		if _, dup := out[name]; dup {
			return nil, newAPIError(http.StatusBadRequest, "invalid_meta", fmt.Sprintf("meta field %q is given twice (names are matched without case)", name))
		}
		switch {
		case v == "":
			return nil, newAPIError(http.StatusBadRequest, "invalid_meta", fmt.Sprintf("meta field %q is empty", name))
		case len(v) > maxMetaValueBytes:
			return nil, newAPIError(http.StatusBadRequest, "invalid_meta", fmt.Sprintf("meta field %q is %d bytes, over %d", name, len(v), maxMetaValueBytes))
		case !utf8.ValidString(v):
			return nil, newAPIError(http.StatusBadRequest, "invalid_meta", fmt.Sprintf("meta field %q is not valid UTF-8", name))
		case strings.TrimSpace(v) != v:
			return nil, newAPIError(http.StatusBadRequest, "invalid_meta", fmt.Sprintf("meta field %q starts or ends with a space", name))
		case strings.HasPrefix(v, "=?") && strings.HasSuffix(v, "?="):
			return nil, newAPIError(http.StatusBadRequest, "invalid_meta", fmt.Sprintf("meta field %q looks like an RFC 2047 encoded word (=?...?=), which is how non-ASCII values are stored; send the text itself", name))
		}
		for _, r := range v {
			// unicode.IsPrint keeps letters, marks, numbers, punctuation,
			// symbols and the ASCII space: no controls (CR LF would split
			// the header), no bidi overrides or other format characters.
			if !unicode.IsPrint(r) {
				return nil, newAPIError(http.StatusBadRequest, "invalid_meta", fmt.Sprintf("meta field %q has character %U: values are printable text without control or format characters", name, r))
			}
		}
		total += len(name) + len(v)
		out[name] = v
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		allowed := "none are allowed (OSSUP_META_FIELDS is empty)"
		if len(a.MetaFields) > 0 {
			allowed = "allowed: " + strings.Join(a.MetaFields, ", ")
		}
		return nil, newAPIError(http.StatusBadRequest, "meta_not_allowed", fmt.Sprintf("meta fields %s are not allowed; %s", strings.Join(unknown, ", "), allowed))
	}
	if total > maxMetaTotalBytes {
		return nil, newAPIError(http.StatusBadRequest, "invalid_meta", fmt.Sprintf("metadata is %d bytes, over %d", total, maxMetaTotalBytes))
	}
	return out, nil
}

// metaValue is the x-oss-meta-* value that stores v: v itself when it is
// ASCII, else v as RFC 2047 encoded words in UTF-8, base64
// ("=?UTF-8?b?5aSP5aSp?="). HTTP header values are ASCII (OSS documents
// US-ASCII for user metadata, and browsers' XHR would send raw UTF-8 bytes
// that proxies and SDKs read as Latin-1), so text such as a Chinese title is
// encoded; RFC 2047 is what S3 does for non-ASCII user metadata, and
// mime.WordDecoder (Go), the email package (Python) or libraries in any
// language read it back. Values stay within OSS's 8 KB of user metadata: at
// most 2 KiB of text grow by about 4/3 and a few bytes per word.
func metaValue(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] >= utf8.RuneSelf {
			return mime.BEncoding.Encode("UTF-8", v)
		}
	}
	return v
}

// metaHeader is the header that stores field name on the object.
func metaHeader(name string) string { return "x-oss-meta-" + strings.ToLower(name) }
