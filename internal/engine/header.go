package engine

import "net/textproto"

// Header is a request's or response's header fields, keyed by canonical
// name, as net/http's Header is (the two convert to each other directly).
// The engine has its own so the browser build links no net/http, which
// would bring TLS and its cryptography with it (about a third of a
// megabyte brotli of engine.wasm for nothing a browser uses).
type Header map[string][]string

// Add appends v to the values of key.
func (h Header) Add(key, v string) {
	key = CanonicalHeaderKey(key)
	h[key] = append(h[key], v)
}

// Set replaces the values of key with v.
func (h Header) Set(key, v string) { h[CanonicalHeaderKey(key)] = []string{v} }

// Get returns the first value of key, or "".
func (h Header) Get(key string) string {
	if vs := h[CanonicalHeaderKey(key)]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// Values returns all values of key; the slice is the header's own.
func (h Header) Values(key string) []string { return h[CanonicalHeaderKey(key)] }

// Del removes key.
func (h Header) Del(key string) { delete(h, CanonicalHeaderKey(key)) }

// Clone returns a deep copy of h; nil stays nil.
func (h Header) Clone() Header {
	if h == nil {
		return nil
	}
	out := make(Header, len(h))
	for k, vs := range h {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// CanonicalHeaderKey returns the canonical form of a header field name:
// net/textproto's, which is net/http's too (textproto costs the browser
// build about 5 KB brotli; net/http cost 310 KB).
func CanonicalHeaderKey(s string) string { return textproto.CanonicalMIMEHeaderKey(s) }

// The HTTP methods, statuses and date layout the engine uses, spelled out
// for the same reason as Header.
const (
	methodGet  = "GET"
	methodPut  = "PUT"
	methodPost = "POST"

	statusUnauthorized    = 401
	statusForbidden       = 403
	statusRequestTimeout  = 408
	statusTooManyRequests = 429

	// timeFormat is net/http.TimeFormat, the IMF-fixdate of RFC 9110.
	timeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"
)

// statusText is net/http.StatusText for the 4xx and 5xx statuses: the
// message of an APIError whose body carried none; "" for others, as there.
func statusText(code int) string { return statusTexts[code] }

var statusTexts = map[int]string{
	400: "Bad Request",
	401: "Unauthorized",
	402: "Payment Required",
	403: "Forbidden",
	404: "Not Found",
	405: "Method Not Allowed",
	406: "Not Acceptable",
	407: "Proxy Authentication Required",
	408: "Request Timeout",
	409: "Conflict",
	410: "Gone",
	411: "Length Required",
	412: "Precondition Failed",
	413: "Request Entity Too Large",
	414: "Request URI Too Long",
	415: "Unsupported Media Type",
	416: "Requested Range Not Satisfiable",
	417: "Expectation Failed",
	418: "I'm a teapot",
	421: "Misdirected Request",
	422: "Unprocessable Entity",
	423: "Locked",
	424: "Failed Dependency",
	425: "Too Early",
	426: "Upgrade Required",
	428: "Precondition Required",
	429: "Too Many Requests",
	431: "Request Header Fields Too Large",
	451: "Unavailable For Legal Reasons",
	500: "Internal Server Error",
	501: "Not Implemented",
	502: "Bad Gateway",
	503: "Service Unavailable",
	504: "Gateway Timeout",
	505: "HTTP Version Not Supported",
	506: "Variant Also Negotiates",
	507: "Insufficient Storage",
	508: "Loop Detected",
	510: "Not Extended",
	511: "Network Authentication Required",
}
