// Package crckernel is CRC-64/ECMA (OSS's x-oss-hash-crc64ecma) as a small
// WebAssembly module of its own, crc64.wat, for the browser engine: V8,
// SpiderMonkey and JavaScriptCore compile its slicing-by-16 loop (plain
// i64 loads and table lookups) to better code than Go's hash/crc64 gets
// from Go's wasm compiler (bench/crc has the figures).
//
// crc64.wasm is built from crc64.wat by `go generate ./wasm/crckernel`
// (wat2wasm from npm's wabt, pinned in wabt/package-lock.json) and committed,
// so that building the engine needs no npm; kernel_test.go checks that the
// committed module is the one the source gives, and that it agrees with
// hash/crc64 on known vectors and generated inputs (run in Node's V8).
//
// In a js/wasm build, New instantiates it beside the Go program and Update
// hashes a JavaScript Uint8Array without copying it into Go's memory.
package crckernel

//go:generate sh -c "cd wabt && npm ci --no-audit --no-fund --silent && node node_modules/wabt/bin/wat2wasm ../crc64.wat -o ../crc64.wasm"
