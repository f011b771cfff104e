//go:build js

package main

import "time"

var origin = time.Now()

// cpuTime under wasm is wall time: the program is single-threaded there.
// The parent measures the child's CPU from outside (runWasm); this only
// keeps the in-process figures meaningful when the machine is idle.
func cpuTime() time.Duration { return time.Since(origin) }
