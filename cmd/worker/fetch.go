//go:build js && wasm

package main

import (
	"net/http"
	"syscall/js"

	"github.com/syumai/workers/cloudflare/fetch"

	"github.com/ossup/ossup/server"
)

// fetchDo sends every outbound call of the worker (STS, OSS, webhook, JWKS)
// with the Workers fetch API, through syumai/workers. It calls fetch directly
// rather than through an *http.Client: a call of (*http.Client).Do links
// net/http's native transport and TLS, about 0.4 MB of the 3 MB (gzip) a
// Worker may weigh on the free plan (see server.DoFunc). Redirects are not
// followed: neither STS nor OSS answers with one, and a followed redirect
// would carry a signed request elsewhere.
func fetchDo() server.DoFunc {
	c := fetch.NewClient()
	return func(req *http.Request) (*http.Response, error) {
		resp, err := c.Do(&fetch.Request{Request: req}, &fetch.RequestInit{Redirect: fetch.RedirectModeManual})
		if err != nil {
			return nil, err
		}
		// A response without a body (204, 304, an answer to HEAD) gets an
		// empty one. syumai/workers v0.33.0 wraps the fetch Response's body
		// stream as it is, and reading or draining a null stream panics
		// ("call of Value.Call on null"), which any webhook receiver
		// answering 204 would trigger.
		if raw, ok := resp.Body.(interface{ GetRawJSBody() js.Value }); ok {
			if b := raw.GetRawJSBody(); b.IsNull() || b.IsUndefined() {
				resp.Body = http.NoBody
			}
		}
		return resp, nil
	}
}
