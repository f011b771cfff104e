package server

import "net/http"

// DoFunc sends one HTTP request: an *http.Client's Do method natively, the
// Workers fetch API in the Workers build (cmd/worker). Every outbound call of
// the app (STS, OSS, webhook, JWKS) goes through one.
//
// It is a func, not an interface with a Do method, for the Workers size limit
// (3 MB gzip on the free plan): the Worker links echo's autocert, whose
// acme.Client holds an *http.Client, and the linker keeps (*http.Client).Do,
// with net/http's native transport and TLS behind it (about 0.4 MB), as soon
// as any interface method Do of that signature is called.
type DoFunc func(*http.Request) (*http.Response, error)
