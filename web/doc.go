// Package web holds the browser side of ossup (the page module, its worker
// glue, the demo page and, once `make build` ran, the engine) and, in a
// binary built with the embedweb tag, embeds it so the backend runs from
// any directory.
//
// The tag exists because engine.wasm and wasm_exec.js are build outputs,
// not sources: an embed pattern that matches no file fails the build, so a
// fresh checkout could not even `go vet ./...` before `make build`.
// Prometheus embeds its UI the same way (builtinassets).
package web
