//go:build !(js && wasm)

package stscreds

import "net/http"

// sdkHTTPClient adapts Config.HTTPDo to dara.HttpClient, the hook
// darabonba-openapi v2.1.13 offers for replacing its HTTP stack:
// utils.Config.HttpClient is copied to the openapi client and passed to
// dara.DoRequestWithCtx as the "httpClient" runtime option, which then calls
// Call(req, transport) instead of its pooled client. The *http.Transport
// argument is one dara builds from its proxy/TLS/timeout options; it is
// ignored here so the caller's client carries the request. The request
// already holds the caller's context.
type sdkHTTPClient struct {
	do func(*http.Request) (*http.Response, error)
}

func (s sdkHTTPClient) Call(req *http.Request, _ *http.Transport) (*http.Response, error) {
	return s.do(req)
}
