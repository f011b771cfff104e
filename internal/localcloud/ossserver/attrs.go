package ossserver

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ossup/ossup/internal/localcloud/osserr"
	"github.com/ossup/ossup/internal/localcloud/ossstore"
)

// Object ACLs (https://www.alibabacloud.com/help/en/oss/user-guide/object-acl).
const (
	aclDefault         = "default"
	aclPrivate         = "private"
	aclPublicRead      = "public-read"
	aclPublicReadWrite = "public-read-write"
)

// Storage classes (x-oss-storage-class). Archive, ColdArchive and
// DeepColdArchive objects must be restored before they can be read.
var storageClasses = map[string]bool{"Standard": true, "IA": true, "Archive": true, "ColdArchive": true, "DeepColdArchive": true}

func frozen(class string) bool {
	return class == "Archive" || class == "ColdArchive" || class == "DeepColdArchive"
}

// Tag limits (https://www.alibabacloud.com/help/en/oss/user-guide/object-tagging-8):
// 10 tags, keys up to 128 and values up to 256 characters, case-sensitive,
// of letters, digits, spaces and + - = . _ : /.
const (
	maxTags        = 10
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

func invalidTag(msg string) *osserr.Error {
	return osserr.New(http.StatusBadRequest, "InvalidTag", msg)
}

func validTagText(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune(" +-=._:/", r):
		default:
			return false
		}
	}
	return true
}

func checkTags(tags []ossstore.Tag) error {
	if len(tags) > maxTags {
		return invalidTag("Object tags cannot be greater than 10.")
	}
	seen := map[string]bool{}
	for _, t := range tags {
		switch {
		case t.Key == "" || utf8.RuneCountInString(t.Key) > maxTagKeyLen || !validTagText(t.Key):
			return invalidTag("The TagKey you have provided is invalid.")
		case utf8.RuneCountInString(t.Value) > maxTagValueLen || !validTagText(t.Value):
			return invalidTag("The TagValue you have provided is invalid.")
		case seen[t.Key]:
			return invalidTag("Cannot provide multiple Tags with the same key.")
		}
		seen[t.Key] = true
	}
	return nil
}

// parseTagging reads x-oss-tagging: URL-encoded key=value pairs joined by &.
func parseTagging(v string) ([]ossstore.Tag, error) {
	var tags []ossstore.Tag
	for _, pair := range strings.Split(v, "&") {
		if pair == "" {
			continue
		}
		k, val, _ := strings.Cut(pair, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(val)
		if err1 != nil || err2 != nil {
			return nil, invalidTag("The x-oss-tagging header is not valid URL-encoded query syntax.")
		}
		tags = append(tags, ossstore.Tag{Key: dk, Value: dv})
	}
	return tags, checkTags(tags)
}

type taggingXML struct {
	XMLName xml.Name `xml:"Tagging"`
	Tags    []tagXML `xml:"TagSet>Tag"`
}

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func parseTaggingBody(body []byte) ([]ossstore.Tag, error) {
	var doc taggingXML
	if err := xml.Unmarshal(body, &doc); err != nil {
		return nil, malformedXML()
	}
	tags := make([]ossstore.Tag, 0, len(doc.Tags))
	for _, t := range doc.Tags {
		tags = append(tags, ossstore.Tag{Key: t.Key, Value: t.Value})
	}
	return tags, checkTags(tags)
}

// taggingDirective is x-oss-tagging-directive: Copy (the default) or Replace.
func taggingDirective(h http.Header) string {
	if strings.EqualFold(h.Get("x-oss-tagging-directive"), "Replace") {
		return "Replace"
	}
	return "Copy"
}

// forbidOverwrite reads x-oss-forbid-overwrite, which OSS accepts as true or
// false only (EC 0017-00000279,
// https://www.alibabacloud.com/help/en/oss/user-guide/0017-00000279).
func forbidOverwrite(h http.Header) (bool, error) {
	switch v := h.Get("x-oss-forbid-overwrite"); strings.ToLower(v) {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, osserr.InvalidArgument("The x-oss-forbid-overwrite header is invalid, it must be true or false.", "x-oss-forbid-overwrite", v).WithEC("0017-00000279")
	}
}

func checkACL(v, header string) error {
	switch v {
	case aclPrivate, aclPublicRead, aclPublicReadWrite:
		return nil
	case aclDefault:
		if header == "x-oss-object-acl" {
			return nil
		}
	}
	return osserr.InvalidArgument("no such "+map[bool]string{true: "object", false: "bucket"}[header == "x-oss-object-acl"]+" access control exists", header, v)
}

// attrsFrom validates and collects the attributes a Put, Initiate or Copy
// request sets. tags are parsed from x-oss-tagging unless skipTags.
func attrsFrom(h http.Header, skipTags bool) (ossstore.Attrs, error) {
	var a ossstore.Attrs
	if v := h.Get("x-oss-object-acl"); v != "" {
		if err := checkACL(v, "x-oss-object-acl"); err != nil {
			return a, err
		}
		if v != aclDefault {
			a.ACL = v
		}
	}
	if v := h.Get("x-oss-storage-class"); v != "" {
		if !storageClasses[v] {
			return a, osserr.InvalidArgument("Invalid storage class.", "x-oss-storage-class", v)
		}
		if v != "Standard" {
			a.StorageClass = v
		}
	}
	if v := h.Get("x-oss-server-side-encryption"); v != "" {
		switch v {
		case "AES256", "SM4":
			a.SSE = v
		case "KMS":
			// KMS needs the KMS service, which the local cloud does not have;
			// storing the header as if the data were KMS-encrypted would be a
			// silent wrong answer.
			return a, osserr.New(http.StatusNotImplemented, "NotImplemented", "Server-side encryption with KMS is not implemented by the local OSS.")
		default:
			return a, osserr.New(http.StatusBadRequest, "InvalidEncryptionAlgorithmError", "The Encryption request you specified is not valid. Supported value: AES256/KMS/SM4").
				With("ArgumentName", "x-oss-server-side-encryption").With("ArgumentValue", v)
		}
	}
	if h.Get("x-oss-server-side-encryption-key-id") != "" || h.Get("x-oss-server-side-data-encryption") != "" {
		return a, osserr.New(http.StatusNotImplemented, "NotImplemented", "Server-side encryption with KMS is not implemented by the local OSS.")
	}
	if v := h.Get("x-oss-tagging"); v != "" && !skipTags {
		tags, err := parseTagging(v)
		if err != nil {
			return a, err
		}
		a.Tags = tags
	}
	return a, nil
}

// attrHeaders writes the attribute headers of Get, Head, Put, Copy and
// Complete answers.
func attrHeaders(hdr http.Header, a ossstore.Attrs, withClass bool) {
	if a.SSE != "" {
		hdr.Set("x-oss-server-side-encryption", a.SSE)
	}
	if withClass {
		class := a.StorageClass
		if class == "" {
			class = "Standard"
		}
		hdr.Set("x-oss-storage-class", class)
	}
	if len(a.Tags) > 0 && withClass {
		hdr.Set("x-oss-tagging-count", strconv.Itoa(len(a.Tags)))
	}
}
