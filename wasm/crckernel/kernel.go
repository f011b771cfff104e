//go:build js && wasm

package crckernel

import (
	_ "embed"
	"errors"
	"syscall/js"
)

//go:embed crc64.wasm
var module []byte

// Kernel is one instance of the module. It is not safe for concurrent use
// (it holds the register and the input buffer); Go in a browser runs on one
// thread, so goroutines only need not interleave within one Update.
type Kernel struct {
	mem, update, set, lo, hi js.Value
	buf, cap                 int
	view                     js.Value // Uint8Array over the memory
}

// New compiles and instantiates the module (synchronously: it is under a
// kilobyte, which every browser compiles on the spot, workers or not).
func New() (k *Kernel, err error) {
	defer func() {
		if p := recover(); p != nil {
			k, err = nil, errors.New("crckernel: WebAssembly refused the module: "+js.ValueOf(p).String())
		}
	}()
	wa := js.Global().Get("WebAssembly")
	if wa.Type() != js.TypeObject {
		return nil, errors.New("crckernel: no WebAssembly")
	}
	b := js.Global().Get("Uint8Array").New(len(module))
	js.CopyBytesToJS(b, module)
	inst := wa.Get("Instance").New(wa.Get("Module").New(b))
	ex := inst.Get("exports")
	ex.Call("init")
	k = &Kernel{mem: ex.Get("memory"), update: ex.Get("update"), set: ex.Get("set"), lo: ex.Get("lo"), hi: ex.Get("hi"),
		buf: ex.Get("buf").Get("value").Int()}
	buffer := k.mem.Get("buffer")
	k.cap = buffer.Get("byteLength").Int() - k.buf
	k.view = js.Global().Get("Uint8Array").New(buffer, k.buf, k.cap)
	return k, nil
}

// Update returns the CRC-64/ECMA of the bytes hashed so far (crc) followed
// by the bytes of the Uint8Array u, as hash/crc64.Update does.
func (k *Kernel) Update(crc uint64, u js.Value) uint64 {
	n := u.Get("length").Int()
	k.set.Invoke(uint32(crc), uint32(crc>>32))
	for i := 0; i < n; i += k.cap {
		m := min(k.cap, n-i)
		if i == 0 && m == n {
			k.view.Call("set", u)
		} else {
			k.view.Call("set", u.Call("subarray", i, i+m))
		}
		k.update.Invoke(m)
	}
	return uint64(uint32(k.lo.Invoke().Int())) | uint64(uint32(k.hi.Invoke().Int()))<<32
}

// UpdateBytes is Update for bytes in Go memory: they are copied into the
// module's buffer (a memory copy, much cheaper than hashing them in Go).
func (k *Kernel) UpdateBytes(crc uint64, p []byte) uint64 {
	k.set.Invoke(uint32(crc), uint32(crc>>32))
	for len(p) > 0 {
		m := js.CopyBytesToJS(k.view, p)
		k.update.Invoke(m)
		p = p[m:]
	}
	return uint64(uint32(k.lo.Invoke().Int())) | uint64(uint32(k.hi.Invoke().Int()))<<32
}
