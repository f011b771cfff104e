package ossserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // image formats for ${imageInfo.*}
	_ "image/jpeg" // image formats for ${imageInfo.*}
	_ "image/png"  // image formats for ${imageInfo.*}
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ossup/ossup/internal/localcloud/osserr"
	"github.com/ossup/ossup/internal/localcloud/ossstore"
)

// Upload callbacks (x-oss-callback), as the Callback reference describes them
// (https://www.alibabacloud.com/help/en/oss/developer-reference/callback) for
// PutObject and CompleteMultipartUpload:
//
//   - The callback parameter is base64 JSON: callbackUrl (up to five URLs
//     separated by ';', tried in order until one succeeds; no scheme means
//     http; empty means no callback), callbackHost (the Host header sent,
//     default the URL's host), callbackBody (required: a template with
//     ${variable}s), callbackBodyType (application/x-www-form-urlencoded,
//     the default, or application/json) and callbackSNI. callback-var is
//     base64 JSON of custom variables whose names start with "x:" and are
//     lower case. Either may come as a header (x-oss-callback,
//     x-oss-callback-var) or a query parameter (callback, callback-var), not
//     both; each is at most 5 KB. Anything malformed is 400 InvalidArgument
//     before the upload is stored.
//   - After the object is stored OSS POSTs the rendered body to the URL,
//     signed: authorization = base64(RSA-sign(MD5(url_decode(path) +
//     query_string + "\n" + body))), with x-oss-pub-key-url = base64 of where
//     the public key is served. Here that is this endpoint's
//     /-/callback_pub_key_v1.pem (OSS's is gosspublic.alicdn.com, so a
//     callback server that insists on that host must be told about the local
//     one in development).
//   - The callback must answer 200 within 5 s with a JSON body and a
//     Content-Length of at most 1 MB; the client then gets 200 with that
//     body instead of OSS's own (Complete's XML included). Anything else is
//     203 CallbackFailed with OSS's messages ("Error status : 301.", "Cost
//     too long time.", ...) and EC 0007-00000203, as the OSS Go SDK v2's
//     tests against real OSS record it. The object stays stored either way,
//     and failures are not retried.
//
// Stricter than real OSS, and why: the local OSS calls back loopback
// addresses only (127.0.0.0/8 and "localhost", which it dials as
// 127.0.0.1), and refuses every other destination with 400 before storing
// anything. Real OSS does the opposite (it refuses private addresses, EC
// 0007-00000008, and calls public ones), but an emulator on a developer's
// machine must not become a way to make requests into their network or the
// internet, and the tests here talk to loopback only. Private addresses get
// OSS's own 0007-00000008; IPv6 literals, which OSS does not support for
// callbacks, are refused too. Redirects are not followed (OSS reports a 301
// as a failure), no proxy is used, and the dialler re-checks that it
// connects to a loopback address.
//
// Where the reference is silent the local OSS decides:
//   - An unknown ${name} (not a system variable, not x:) is 400
//     InvalidArgument naming it, rather than silently empty; a custom x:
//     variable the request does not define is empty.
//   - In a JSON body a variable written inside a string literal
//     ("${object}") is replaced by its escaped text; one written bare, as the
//     reference's examples do ({"size":${size}}), becomes a JSON value: a
//     number for size, imageInfo.height and imageInfo.width, a string for
//     everything else (crc64 too: it does not fit a JavaScript number), ""
//     when empty.
//   - The callback response must carry a valid JSON body; an empty one is a
//     failure.
const (
	maxCallbackParam     = 5 << 10
	maxCallbackURLs      = 5
	maxCallbackResponse  = 1 << 20
	callbackPublicKeyRef = "callback_pub_key_v1.pem"
	// DefaultCallbackTimeout is OSS's fixed callback timeout.
	DefaultCallbackTimeout = 5 * time.Second
)

// callbackRequest is a parsed, validated callback parameter.
type callbackRequest struct {
	urls     []*url.URL
	host     string
	body     string
	bodyType string
	sni      bool
	vars     map[string]string
}

const (
	formBody = "application/x-www-form-urlencoded"
	jsonBody = "application/json"
)

func callbackArg(ec, msg string) *osserr.Error {
	e := osserr.New(http.StatusBadRequest, "InvalidArgument", msg)
	if ec != "" {
		e = e.WithEC(ec)
	}
	return e
}

// callbackParam returns the named callback parameter from the header or the
// query, refusing both at once.
func callbackParam(c *call, header, query string) (string, error) {
	hv, qv := c.r.Header.Get(header), c.query.Get(query)
	_, inQuery := c.query[query]
	switch {
	case hv != "" && inQuery:
		return "", callbackArg("", "The "+query+" parameter may be given as a header or in the URL, not both.")
	case inQuery:
		hv = qv
	}
	if len(hv) > maxCallbackParam {
		return "", callbackArg("", "The "+query+" parameter is longer than 5 KB.")
	}
	return hv, nil
}

func decodeCallbackJSON(name, v string) (map[string]any, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil {
		return nil, callbackArg("", "The "+name+" parameter is not valid base64.")
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, callbackArg("", "The "+name+" parameter is not a JSON object once base64-decoded.")
	}
	return m, nil
}

// parseCallback reads the request's callback parameters: nil when the
// request asks for no callback.
func (h *Handler) parseCallback(c *call) (*callbackRequest, error) {
	cbParam, err := callbackParam(c, "x-oss-callback", "callback")
	if err != nil {
		return nil, err
	}
	varParam, err := callbackParam(c, "x-oss-callback-var", "callback-var")
	if err != nil {
		return nil, err
	}
	if cbParam == "" {
		return nil, nil
	}
	m, err := decodeCallbackJSON("callback", cbParam)
	if err != nil {
		return nil, err
	}
	str := func(k string) (string, error) {
		v, ok := m[k]
		if !ok || v == nil {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", callbackArg("", "The callback field "+k+" must be a string.")
		}
		return s, nil
	}
	cb := &callbackRequest{vars: map[string]string{}}
	rawURL, err := str("callbackUrl")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(rawURL) == "" {
		return nil, nil // "if you leave this field empty, callback is not configured"
	}
	if cb.host, err = str("callbackHost"); err != nil {
		return nil, err
	}
	if cb.body, err = str("callbackBody"); err != nil {
		return nil, err
	}
	if cb.body == "" {
		return nil, callbackArg("0007-00000011", "The callbackBody of the callback parameter is empty.")
	}
	if cb.bodyType, err = str("callbackBodyType"); err != nil {
		return nil, err
	}
	switch strings.ToLower(strings.TrimSpace(cb.bodyType)) {
	case "", formBody:
		cb.bodyType = formBody
	case jsonBody:
		cb.bodyType = jsonBody
	default:
		return nil, callbackArg("", "The callbackBodyType must be application/x-www-form-urlencoded or application/json.")
	}
	switch v := m["callbackSNI"].(type) {
	case nil:
	case bool:
		cb.sni = v
	default:
		return nil, callbackArg("", "The callback field callbackSNI must be true or false.")
	}
	for part := range strings.SplitSeq(rawURL, ";") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		u, err := callbackURL(part)
		if err != nil {
			return nil, err
		}
		cb.urls = append(cb.urls, u)
	}
	if len(cb.urls) > maxCallbackURLs {
		return nil, callbackArg("0007-00000005", "The callbackUrl of the callback parameter has more than 5 URLs.")
	}
	if varParam != "" {
		vm, err := decodeCallbackJSON("callback-var", varParam)
		if err != nil {
			return nil, err
		}
		for k, v := range vm {
			s, ok := v.(string)
			if !strings.HasPrefix(k, "x:") || k != strings.ToLower(k) || len(k) == 2 || !ok {
				return nil, callbackArg("", `The callback-var parameter must be {"x:name":"value",...} with lower-case names that start with x:.`)
			}
			cb.vars[k] = s
		}
	}
	// Render once now so that a malformed template fails before the upload
	// is stored, not after.
	if _, err := cb.render(func(string) (string, bool) { return "", true }); err != nil {
		return nil, err
	}
	return cb, nil
}

// callbackURL parses one callbackUrl entry and applies the loopback-only
// rule described above.
func callbackURL(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	bad := func(why string) error {
		return callbackArg("0007-00000004", fmt.Sprintf("The callbackUrl %q is not a valid URL: %s.", s, why))
	}
	switch {
	case err != nil:
		return nil, bad(err.Error())
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, bad("the scheme must be http or https")
	case u.Hostname() == "" || u.User != nil || u.Fragment != "":
		return nil, bad("it needs a host, and no user or fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, bad("the port must be a number from 1 to 65535")
		}
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return u, nil
	}
	ip, err := netip.ParseAddr(host)
	switch {
	case err != nil:
		return nil, callbackArg("", fmt.Sprintf("The local OSS calls back loopback addresses only (127.0.0.0/8 or localhost), not %q: it does not reach beyond this machine.", host))
	case ip.Is6() && !ip.Is4In6():
		return nil, callbackArg("0007-00000004", fmt.Sprintf("The callbackUrl %q is an IPv6 address, which OSS does not call back.", s))
	case ip.Unmap().IsLoopback():
		return u, nil
	case ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified():
		return nil, callbackArg("0007-00000008", fmt.Sprintf("The callbackUrl %q is a private address.", s))
	default:
		return nil, callbackArg("", fmt.Sprintf("The local OSS calls back loopback addresses only (127.0.0.0/8 or localhost), not %s: it does not reach beyond this machine.", host))
	}
}

// systemVars are the callback body's system variables.
var systemVars = map[string]bool{
	"bucket": true, "object": true, "etag": true, "size": true, "mimeType": true,
	"imageInfo.height": true, "imageInfo.width": true, "imageInfo.format": true,
	"crc64": true, "contentMd5": true, "vpcId": true, "clientIp": true, "reqId": true, "operation": true,
}

// numericVars become JSON numbers when written bare in a JSON body.
var numericVars = map[string]bool{"size": true, "imageInfo.height": true, "imageInfo.width": true}

// render fills the body template; lookup returns a system variable's value.
func (cb *callbackRequest) render(lookup func(name string) (string, bool)) (string, error) {
	var out strings.Builder
	tpl := cb.body
	inString := false // inside a JSON string literal of the template
	for {
		i := strings.Index(tpl, "${")
		if i < 0 {
			out.WriteString(tpl)
			return out.String(), nil
		}
		lit := tpl[:i]
		out.WriteString(lit)
		inString = jsonStringState(inString, lit)
		end := strings.IndexByte(tpl[i:], '}')
		if end < 0 {
			return "", callbackArg("", "The callbackBody has a variable that is not closed: use ${name}.")
		}
		name := tpl[i+2 : i+end]
		tpl = tpl[i+end+1:]
		var v string
		switch {
		case strings.HasPrefix(name, "x:"):
			v = cb.vars[name]
		case systemVars[name]:
			var ok bool
			if v, ok = lookup(name); !ok {
				return "", fmt.Errorf("callback variable %s has no value", name)
			}
		default:
			return "", callbackArg("", fmt.Sprintf("The callbackBody uses ${%s}, which is neither a system variable nor an x: variable.", name))
		}
		switch {
		case cb.bodyType == formBody:
			out.WriteString(url.QueryEscape(v))
		case inString:
			q, _ := json.Marshal(v)
			out.Write(q[1 : len(q)-1])
		case numericVars[name] && v != "":
			out.WriteString(v)
		default:
			q, _ := json.Marshal(v)
			out.Write(q)
		}
	}
}

// jsonStringState reports whether, after the template text lit, the
// template is inside a JSON string literal, given whether it was before.
func jsonStringState(in bool, lit string) bool {
	for i := 0; i < len(lit); i++ {
		switch {
		case in && lit[i] == '\\':
			i++
		case lit[i] == '"':
			in = !in
		}
	}
	return in
}

// callbackVars are the values of the system variables for a stored object.
type callbackVars struct {
	h         *Handler
	c         *call
	info      *ossstore.ObjectInfo
	operation string
	image     *image.Config
	imageFmt  string
	imageRead bool
}

func (v *callbackVars) lookup(name string) (string, bool) {
	info := v.info
	switch name {
	case "bucket":
		return v.c.bucket, true
	case "object":
		return info.Key, true
	case "etag":
		return info.ETag, true
	case "size":
		return strconv.FormatInt(info.Size, 10), true
	case "mimeType":
		return info.Meta["Content-Type"], true
	case "crc64":
		return crcString(info.CRC64), true
	case "contentMd5":
		if v.operation != "PutObject" {
			return "", true // only PutObject and PostObject have one
		}
		return md5Header(info.ETag), true
	case "vpcId":
		return "", true
	case "clientIp":
		return remoteIP(v.c.r), true
	case "reqId":
		return v.c.requestID, true
	case "operation":
		return v.operation, true
	case "imageInfo.height", "imageInfo.width", "imageInfo.format":
		v.readImage()
		if v.image == nil {
			return "", true
		}
		switch name {
		case "imageInfo.height":
			return strconv.Itoa(v.image.Height), true
		case "imageInfo.width":
			return strconv.Itoa(v.image.Width), true
		}
		return v.imageFmt, true
	}
	return "", false
}

// maxImageHeader bounds how much of an object is read to find its image
// dimensions (a JPEG's size comes after its EXIF block, at most 64 KB).
const maxImageHeader = 1 << 20

// readImage decodes the stored object's image header, if it is a PNG, JPEG
// or GIF, once.
func (v *callbackVars) readImage() {
	if v.imageRead {
		return
	}
	v.imageRead = true
	obj, err := v.h.cfg.Store.OpenObject(v.c.bucket, v.info.Key)
	if err != nil {
		return
	}
	defer obj.Close()
	if obj.Info().ETag != v.info.ETag {
		return // replaced since it was stored: not this upload's image
	}
	cfg, format, err := image.DecodeConfig(io.NewSectionReader(obj, 0, min(v.info.Size, maxImageHeader)))
	if err != nil {
		return
	}
	if format == "jpeg" {
		format = "jpg" // the reference's spelling ("jpg, png")
	}
	v.image, v.imageFmt = &cfg, format
}

// callbackOutcome is what calling back produced: the body to return with
// 200, or the message of a 203 CallbackFailed.
type callbackOutcome struct {
	body    []byte
	failure string
}

// runCallback renders the body and calls the URLs in order until one
// succeeds.
func (h *Handler) runCallback(c *call, cb *callbackRequest, info *ossstore.ObjectInfo, operation string) callbackOutcome {
	vars := &callbackVars{h: h, c: c, info: info, operation: operation}
	body, err := cb.render(vars.lookup)
	if err != nil {
		h.log.Error("oss callback body", "request_id", c.requestID, "err", err)
		return callbackOutcome{failure: "Render callback body failed."}
	}
	var out callbackOutcome
	for _, u := range cb.urls {
		out = h.callOnce(c, cb, u, body)
		h.log.Info("oss callback", "request_id", c.requestID, "host", u.Host, "ok", out.failure == "", "failure", out.failure)
		if out.failure == "" {
			return out
		}
	}
	return out
}

// callbackError distinguishes how a callback went wrong, for OSS's messages.
type callbackError struct{ msg string }

func (e *callbackError) Error() string { return e.msg }

func (h *Handler) callOnce(c *call, cb *callbackRequest, u *url.URL, body string) callbackOutcome {
	req, err := http.NewRequest(http.MethodPost, u.String(), strings.NewReader(body))
	if err != nil {
		return callbackOutcome{failure: "Error Status : -1.OSS can not connect to your callbackUrl, please check it"}
	}
	if cb.host != "" {
		req.Host = cb.host
	}
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	decoded, err := url.PathUnescape(path)
	if err != nil {
		decoded = path
	}
	toSign := decoded
	if req.URL.RawQuery != "" {
		toSign += "?" + req.URL.RawQuery
	}
	toSign += "\n" + body
	sig, err := h.callbackKey.sign([]byte(toSign))
	if err != nil {
		h.log.Error("oss callback signing", "request_id", c.requestID, "err", err)
		return callbackOutcome{failure: "Sign callback request failed."}
	}
	req.Header.Set("Content-Type", cb.bodyType)
	req.Header.Set("User-Agent", "http-client/0.0.1")
	req.Header.Set("authorization", base64.StdEncoding.EncodeToString(sig))
	req.Header.Set("x-oss-pub-key-url", base64.StdEncoding.EncodeToString([]byte(h.cfg.CallbackPublicKeyURL)))
	// The timeout starts once the request is signed (the first signature
	// may have to make the key), and the request is detached from the
	// client's: the object is stored, so the callback server hears about it
	// even if the client has gone.
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.CallbackTimeout)
	defer cancel()
	req = req.WithContext(ctx)
	client := h.callbackClient(cb, u)
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return callbackOutcome{failure: "Cost too long time."}
		}
		return callbackOutcome{failure: "Error Status : -1.OSS can not connect to your callbackUrl, please check it"}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxCallbackResponse))
		return callbackOutcome{failure: fmt.Sprintf("Error status : %d.", resp.StatusCode)}
	}
	if resp.ContentLength < 0 || resp.ContentLength > maxCallbackResponse {
		return callbackOutcome{failure: "Error Status : 400.User server return too long content-length value"}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, resp.ContentLength))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return callbackOutcome{failure: "Cost too long time."}
		}
		return callbackOutcome{failure: "Error Status : -1.OSS can not connect to your callbackUrl, please check it"}
	}
	if !json.Valid(b) {
		return callbackOutcome{failure: "Response body is not valid json format."}
	}
	return callbackOutcome{body: b}
}

// callbackClient is a client that reaches the loopback address of u and
// nothing else: no proxy, no redirects, and a dialler that refuses to
// connect anywhere but loopback.
func (h *Handler) callbackClient(cb *callbackRequest, u *url.URL) *http.Client {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1" // never the resolver: its answer is not ours to trust
	}
	target := net.JoinHostPort(host, port)
	d := &net.Dialer{Timeout: h.cfg.CallbackTimeout, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			return fmt.Errorf("ossserver: callback to %s refused: not a loopback address", address)
		}
		return nil
	}}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, target)
		},
		TLSHandshakeTimeout:    h.cfg.CallbackTimeout,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	if u.Scheme == "https" {
		tr.TLSClientConfig = h.callbackTLS(cb, u)
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// answerCallback ends a PutObject or CompleteMultipartUpload that asked for
// a callback: 200 with the callback's body, or 203 CallbackFailed. headers
// are the object's headers OSS sends either way.
func (h *Handler) answerCallback(c *call, out callbackOutcome, headers func(http.Header)) {
	hdr := c.w.Header()
	headers(hdr)
	if out.failure != "" {
		e := osserr.New(http.StatusNonAuthoritativeInfo, "CallbackFailed", out.failure).WithEC("0007-00000203")
		c.errCode = e.Code
		osserr.Write(c.w, c.r, e, c.requestID, c.hostID, c.now)
		return
	}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(out.body)))
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(out.body)
}
