//go:build js && wasm

package main

import (
	"context"
	"syscall/js"
)

// idbKV is the checkpoint KV over IndexedDB. The IndexedDB calls live in the
// worker glue (self.ossupKV, promise-returning), where the event-based API is
// natural; the records themselves are encoded and validated in Go
// (internal/checkpoint).
type idbKV struct{ api js.Value }

func (k idbKV) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := await(ctx, k.api.Call("get", key))
	if err != nil {
		return nil, false, err
	}
	if v.IsUndefined() || v.IsNull() {
		return nil, false, nil
	}
	return bytesFromJS(v), true, nil
}

func (k idbKV) Put(ctx context.Context, key string, value []byte) error {
	_, err := await(ctx, k.api.Call("put", key, bytesToJS(value)))
	return err
}

func (k idbKV) Delete(ctx context.Context, key string) error {
	_, err := await(ctx, k.api.Call("del", key))
	return err
}

func (k idbKV) Keys(ctx context.Context) ([]string, error) {
	v, err := await(ctx, k.api.Call("keys"))
	if err != nil {
		return nil, err
	}
	keys := make([]string, v.Length())
	for i := range keys {
		keys[i] = v.Index(i).String()
	}
	return keys, nil
}
