//go:build js

package server

import (
	"errors"
	"net/http"
	"time"
)

// ownClient never serves in the Workers build: NewWorkerApp requires a DoFunc,
// and an *http.Client here would link net/http's native transport (see
// DoFunc).
func ownClient(time.Duration) DoFunc {
	return func(*http.Request) (*http.Response, error) {
		return nil, errors.New("server: no HTTP client (NewWorkerApp needs the fetch-based one)")
	}
}
