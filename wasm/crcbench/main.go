//go:build js && wasm

// Command crcbench is bench/crc's Go side in the browser: CRC-64 of a
// Uint8Array as the engine computes it today (copied into Go memory in
// 1 MiB pieces, hashed by hash/crc64), the same copies hashed by
// wasm/crckernel (the engine with the kernel), and the kernel on the
// Uint8Array itself, driven from Go. It answers as decimal strings (a JavaScript number cannot
// hold 64 bits).
package main

import (
	"hash/crc64"
	"strconv"
	"syscall/js"

	"github.com/ossup/ossup/wasm/crckernel"
)

func main() {
	tab := crc64.MakeTable(crc64.ECMA)
	buf := make([]byte, 1<<20)
	k, err := crckernel.New()
	if err != nil {
		panic(err)
	}
	js.Global().Set("goCRC", map[string]any{
		"stdlib": js.FuncOf(func(_ js.Value, a []js.Value) any {
			u := a[0]
			n := u.Get("length").Int()
			var crc uint64
			for i := 0; i < n; i += len(buf) {
				p := buf[:min(len(buf), n-i)]
				js.CopyBytesToGo(p, u.Call("subarray", i, i+len(p)))
				crc = crc64.Update(crc, tab, p)
			}
			return strconv.FormatUint(crc, 10)
		}),
		"kernelBytes": js.FuncOf(func(_ js.Value, a []js.Value) any {
			u := a[0]
			n := u.Get("length").Int()
			var crc uint64
			for i := 0; i < n; i += len(buf) {
				p := buf[:min(len(buf), n-i)]
				js.CopyBytesToGo(p, u.Call("subarray", i, i+len(p)))
				crc = k.UpdateBytes(crc, p)
			}
			return strconv.FormatUint(crc, 10)
		}),
		"kernel": js.FuncOf(func(_ js.Value, a []js.Value) any {
			return strconv.FormatUint(k.Update(0, a[0]), 10)
		}),
	})
	select {}
}
