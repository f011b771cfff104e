//go:build !js

package server

import (
	"net/http"
	"time"
)

// ownClient is the client a call gets when the app is given none: only the
// native server does that.
func ownClient(timeout time.Duration) DoFunc { return (&http.Client{Timeout: timeout}).Do }
