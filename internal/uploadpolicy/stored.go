package uploadpolicy

import (
	"mime"
	"strings"
)

// DefaultInlineTypes are the types stored without a Content-Disposition, so
// browsers show them in place: media and plain text, which no browser
// executes. Everything else is stored as an attachment (downloaded when
// opened). A wildcard pattern never admits an active type (see Active):
// "image/*" covers image/png but not image/svg+xml.
var DefaultInlineTypes = []string{"image/*", "audio/*", "video/*", "text/plain", "application/pdf"}

// DefaultType is the Content-Type of a file declared without one: what OSS
// itself would store.
const DefaultType = "application/octet-stream"

// Attachment is the Content-Disposition of files not shown inline.
const Attachment = "attachment"

// activeTypes are media types a browser runs script in, or renders as a
// document that can: stored inline on the app's domain (or its CDN) they
// are stored XSS.
var activeTypes = map[string]bool{
	"text/html": true, "application/xhtml+xml": true, "image/svg+xml": true,
	"text/xml": true, "application/xml": true, "text/xsl": true, "application/xslt+xml": true,
	"text/javascript": true, "application/javascript": true, "application/x-javascript": true,
	"text/ecmascript": true, "application/ecmascript": true, "text/jscript": true, "text/livescript": true,
	"application/x-shockwave-flash": true, "multipart/x-mixed-replace": true, "text/x-component": true,
	"application/mathml+xml": true, "application/rdf+xml": true,
}

// Active reports whether the media type mt ("type/subtype", lower case) is
// one a browser executes or renders with script: HTML, XHTML, SVG, any XML
// (every "+xml" type), XSL, JavaScript and its aliases, Flash.
func Active(mt string) bool {
	return activeTypes[mt] || strings.HasSuffix(mt, "+xml")
}

// Stored is how an accepted file is stored: the Content-Type OSS keeps and
// the Content-Disposition, if any ("" for none).
type Stored struct {
	ContentType        string
	ContentDisposition string
}

// Store decides how f, which Check accepted, is stored. The Content-Type is
// the declared type in canonical form (type and subtype in lower case,
// parameters as given, sorted) or DefaultType for none. The disposition is
// Attachment unless the type matches InlineTypes (DefaultInlineTypes when
// nil; an empty, non-nil list shows nothing inline); an active type (see
// Active) is inline only when listed exactly, never through a wildcard.
func (p Policy) Store(f File) Stored {
	ct := DefaultType
	mt := ct
	if f.Type != "" {
		t, params, err := mime.ParseMediaType(f.Type)
		if err == nil && isTypeSubtype(t) {
			mt = t
			if s := mime.FormatMediaType(t, params); s != "" {
				ct = s
			} else {
				ct = t
			}
		}
	}
	inline := p.InlineTypes
	if inline == nil {
		inline = DefaultInlineTypes
	}
	show := false
	for _, pat := range inline {
		if pat == mt || (!Active(mt) && matchAny([]string{pat}, mt)) {
			show = true
			break
		}
	}
	if show {
		return Stored{ContentType: ct}
	}
	return Stored{ContentType: ct, ContentDisposition: Attachment}
}
