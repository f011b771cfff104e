//go:build js

package userauth

import (
	"errors"
	"net/http"
)

// defaultJWKSDo refuses: the js/wasm build (a Cloudflare Worker) must be given JWTConfig.HTTPDo, and an
// *http.Client here would link net/http's native transport into it (see jwksStore).
func defaultJWKSDo() func(*http.Request) (*http.Response, error) {
	return func(*http.Request) (*http.Response, error) {
		return nil, errors.New("userauth: JWTConfig.HTTPDo is required in the js/wasm build")
	}
}
