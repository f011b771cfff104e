//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"
)

// await waits for a JS promise. If ctx ends first, the promise is left to
// settle on its own; its callbacks are released once it does, never before
// (calling a released js.Func panics).
func await(ctx context.Context, p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	var then, catch js.Func
	then = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{v: arg0(args)}
		return nil
	})
	catch = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{err: jsError(arg0(args))}
		return nil
	})
	release := func() {
		then.Release()
		catch.Release()
	}
	if _, err := call(p, "then", then, catch); err != nil {
		release()
		return js.Undefined(), err
	}
	select {
	case r := <-ch:
		release()
		return r.v, r.err
	case <-ctx.Done():
		go func() {
			<-ch
			release()
		}()
		return js.Undefined(), ctx.Err()
	}
}

func arg0(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

// jsError turns a JS exception or rejection value into a Go error; an
// Error with a string code (the glue's, e.g. storage_unavailable) keeps it.
func jsError(v js.Value) error {
	if v.Type() == js.TypeObject {
		if c := v.Get("code"); c.Type() == js.TypeString && v.Get("message").Type() == js.TypeString {
			return &codedError{code: c.String(), err: errors.New(v.Get("message").String())}
		}
		if m := v.Get("message"); m.Type() == js.TypeString {
			name := v.Get("name")
			if name.Type() == js.TypeString {
				return errors.New(name.String() + ": " + m.String())
			}
			return errors.New(m.String())
		}
	}
	return errors.New(v.String())
}

// bytesFromJS copies a Uint8Array or ArrayBuffer into Go memory.
func bytesFromJS(v js.Value) []byte {
	if v.IsUndefined() || v.IsNull() {
		return nil
	}
	u8 := v
	if v.Get("BYTES_PER_ELEMENT").IsUndefined() {
		u8 = js.Global().Get("Uint8Array").New(v)
	}
	b := make([]byte, u8.Get("length").Int())
	js.CopyBytesToGo(b, u8)
	return b
}

// bytesToJS copies b into a new Uint8Array.
func bytesToJS(b []byte) js.Value {
	u8 := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u8, b)
	return u8
}

// ErrJS is wrapped by every error that stands for a JS exception (or a JS
// value of the wrong type) met while calling into the browser: syscall/js
// panics on those, and an unrecovered panic ends the Go program, which
// would stop every upload of the page at once.
var ErrJS = errors.New("JavaScript exception")

// jsPanicError turns what syscall/js panicked with into an error wrapping
// ErrJS; what names the call, for the message.
func jsPanicError(what string, r any) error {
	switch v := r.(type) {
	case js.Error:
		return fmt.Errorf("%s: %w: %w", what, ErrJS, jsError(v.Value))
	case error:
		return fmt.Errorf("%s: %w: %w", what, ErrJS, v)
	default:
		return fmt.Errorf("%s: %w: %v", what, ErrJS, v)
	}
}

// recoverJS, deferred, turns a panic into *err (see ErrJS).
func recoverJS(what string, err *error) {
	if r := recover(); r != nil {
		*err = jsPanicError(what, r)
	}
}

// call is v[method](args...) with a JS exception returned as an error.
func call(v js.Value, method string, args ...any) (res js.Value, err error) {
	defer recoverJS(method, &err)
	return v.Call(method, args...), nil
}

// awaitCall calls v[method](args...) and awaits the promise it returns;
// an exception thrown by the call is an error like a rejection.
func awaitCall(ctx context.Context, v js.Value, method string, args ...any) (js.Value, error) {
	p, err := call(v, method, args...)
	if err != nil {
		return js.Undefined(), err
	}
	return await(ctx, p)
}

// safeFunc is js.FuncOf for functions the glue calls: a panic in f (a bad
// argument from JS, a bug) becomes a thrown JS Error in the caller instead
// of ending the Go program.
func safeFunc(name string, f func(this js.Value, args []js.Value) any) js.Func {
	return js.FuncOf(func(this js.Value, args []js.Value) (res any) {
		defer func() {
			if r := recover(); r != nil {
				res = rejected(jsPanicError(name, r))
			}
		}()
		return f(this, args)
	})
}

// rejected is a JS Promise rejected with err: the glue's calls into the
// engine handle a rejection the same way whether it came from a promise
// or from a panic.
func rejected(err error) js.Value {
	return js.Global().Get("Promise").Call("reject", jsErr(err))
}

// jsErr is a JS Error with err's message and, for a coded error, its code.
func jsErr(err error) js.Value {
	e := js.Global().Get("Error").New(err.Error())
	var c *codedError
	if errors.As(err, &c) {
		e.Set("code", c.code)
	}
	return e
}

// codedError is an error with a code the page can act on (see
// web/protocol.json, errorCodes).
type codedError struct {
	code string
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func coded(code, format string, args ...any) error {
	return &codedError{code: code, err: fmt.Errorf(format, args...)}
}
