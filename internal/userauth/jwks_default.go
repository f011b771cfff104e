//go:build !js

package userauth

import "net/http"

// defaultJWKSDo fetches the JWKS when JWTConfig.HTTPDo is nil.
func defaultJWKSDo() func(*http.Request) (*http.Response, error) {
	return (&http.Client{Timeout: jwksTimeout}).Do
}
