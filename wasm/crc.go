//go:build js && wasm

package main

import (
	"github.com/ossup/ossup/internal/engine"
	"github.com/ossup/ossup/wasm/crckernel"
)

// The engine hashes with wasm/crckernel, CRC-64/ECMA in a small WebAssembly
// module of its own, 1.5-2.3 times faster than hash/crc64 compiled to wasm
// (bench/crc). Where the browser refuses to compile it, hash/crc64 stays.
func init() {
	k, err := crckernel.New()
	if err != nil {
		println("ossup engine: CRC-64 kernel unavailable, using hash/crc64:", err.Error())
		return
	}
	engine.SetCRCUpdate(k.UpdateBytes)
}
