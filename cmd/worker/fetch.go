//go:build js && wasm

package main

import (
	"net/http"
	"syscall/js"

	"github.com/syumai/workers/cloudflare/fetch"
)

// newHTTPClient is the client every outbound call of the worker uses: the
// Workers fetch API, through syumai/workers. Redirects are not followed:
// neither STS nor OSS answers with one, and a followed redirect would carry
// a signed request elsewhere.
func newHTTPClient() *http.Client {
	c := fetch.NewClient().HTTPClient(fetch.RedirectModeManual)
	c.Transport = nullBodies{c.Transport}
	return c
}

// nullBodies gives responses without a body (204, 304, answers to HEAD) an
// empty one. syumai/workers v0.33.0 wraps the fetch Response's body stream
// as it is, and reading or draining a null stream panics ("call of
// Value.Call on null"), which any SDK or webhook receiver answering 204
// would trigger.
type nullBodies struct{ rt http.RoundTripper }

func (n nullBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := n.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if raw, ok := resp.Body.(interface{ GetRawJSBody() js.Value }); ok {
		if b := raw.GetRawJSBody(); b.IsNull() || b.IsUndefined() {
			resp.Body = http.NoBody
		}
	}
	return resp, nil
}
