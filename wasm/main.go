//go:build js && wasm

// Command wasm is the browser upload engine, compiled to WebAssembly and run
// inside a dedicated Web Worker. This first version only announces itself to
// the worker glue; the upload engine itself arrives with the browser-engine
// issue.
package main

import "syscall/js"

// version is reported to the page so it can tell which engine it loaded.
const version = "0.1.0-dev"

func main() {
	js.Global().Set("ossupEngineVersion", version)
	select {}
}
