package stscreds

import "net/http"

// sdkHTTPClient adapts an *http.Client to dara.HttpClient, the hook
// darabonba-openapi v2.1.13 offers for replacing its HTTP stack:
// utils.Config.HttpClient is copied to the openapi client and passed to
// dara.DoRequestWithCtx as the "httpClient" runtime option, which then calls
// Call(req, transport) instead of its pooled client. The *http.Transport
// argument is one dara builds from its proxy/TLS/timeout options; it is
// ignored here so the caller's client (and its RoundTripper, e.g. a fetch-based
// one on Cloudflare Workers) carries the request. The request already holds
// the caller's context.
type sdkHTTPClient struct{ c *http.Client }

func (s sdkHTTPClient) Call(req *http.Request, _ *http.Transport) (*http.Response, error) {
	return s.c.Do(req)
}
