package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/ossup/ossup/internal/uploadapi"
)

// The OSS upload callback (OSSUP_OSS_CALLBACK_URL, OSSUP_OSS_CALLBACK_BODY):
// the backend decides an x-oss-callback and lists it among the headers of
// the requests that store the object (PutObject, CompleteMultipartUpload),
// so OSS calls the application's callback server once the object is
// stored, signed by OSS. It is the OSS-native alternative to the webhook,
// for applications that already have a callback server.
//
// The browser sends the header, so it can drop it or change it (another
// URL, another body, constants of its choosing). A callback is therefore a
// notification, not a verification: the callback server must check what it
// is told against OSS (or wait for the backend's verified complete and its
// webhook), and only OSS-filled ${...} variables mean anything. For that
// reason a body with x: variables is refused: their values would come from
// the browser.

// defaultOSSCallbackBody is the body when only the URL is configured.
const defaultOSSCallbackBody = "bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mimeType=${mimeType}&crc64=${crc64}"

// maxOSSCallbackParam is OSS's limit on the x-oss-callback value.
const maxOSSCallbackParam = 5 << 10

// ossCallbackParam is the x-oss-callback value for url and body (the
// default body when empty): base64 JSON, a JSON body type when the body is
// a JSON template.
func ossCallbackParam(rawURL, body string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Contains(rawURL, ";") {
		return "", fmt.Errorf("OSSUP_OSS_CALLBACK_URL: %q is not one http(s) URL", rawURL)
	}
	if body == "" {
		body = defaultOSSCallbackBody
	}
	if strings.Contains(body, "${x:") {
		return "", fmt.Errorf("OSSUP_OSS_CALLBACK_BODY: x: variables would be the browser's to set; use OSS's system variables such as ${object} and ${size}")
	}
	bodyType := "application/x-www-form-urlencoded"
	if strings.HasPrefix(strings.TrimSpace(body), "{") {
		bodyType = "application/json"
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]string{"callbackUrl": rawURL, "callbackBody": body, "callbackBodyType": bodyType}); err != nil {
		return "", fmt.Errorf("OSSUP_OSS_CALLBACK_BODY: %w", err)
	}
	v := base64.StdEncoding.EncodeToString(bytes.TrimSpace(b.Bytes()))
	if len(v) > maxOSSCallbackParam {
		return "", fmt.Errorf("OSSUP_OSS_CALLBACK_URL and OSSUP_OSS_CALLBACK_BODY: %d bytes once encoded, over OSS's 5 KB for x-oss-callback", len(v))
	}
	return v, nil
}

// loopbackURL reports whether rawURL's host is a loopback address or
// localhost: in dev mode the local OSS calls back nothing else.
func loopbackURL(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Is4() && ip.IsLoopback()
}

// withOSSCallback adds the decided x-oss-callback to the requests that
// store the object.
func (a *API) withOSSCallback(h uploadapi.ObjectHeaders) uploadapi.ObjectHeaders {
	if a.OSSCallback == "" {
		return h
	}
	add := func(m map[string]string) map[string]string {
		out := make(map[string]string, len(m)+1)
		for k, v := range m {
			out[k] = v
		}
		out["x-oss-callback"] = a.OSSCallback
		return out
	}
	h.PutObject = add(h.PutObject)
	h.CompleteMultipartUpload = add(h.CompleteMultipartUpload)
	return h
}
