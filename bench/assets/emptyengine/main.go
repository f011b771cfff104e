//go:build js && wasm

// Command emptyengine is bench/assets's second floor: a Go program that
// only publishes the engine's API as no-ops and blocks, as the engine's
// main does. Served as engine.wasm, it shows what starting any Go program
// costs the page (Go's runtime, compiled and started), so the figure above
// it is the engine's own.
package main

import "syscall/js"

func main() {
	api := js.Global().Get("Object").New()
	noop := js.FuncOf(func(js.Value, []js.Value) any { return nil })
	for _, n := range []string{"configure", "setHeaders", "start", "resumeStored", "pause", "resume", "cancel", "discard", "pending"} {
		api.Set(n, noop)
	}
	api.Set("version", "empty Go program")
	js.Global().Set("ossupEngine", api)
	js.Global().Set("ossupEngineVersion", "empty Go program")
	select {}
}
