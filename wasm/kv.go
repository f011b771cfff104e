//go:build js && wasm

package main

import (
	"context"
	"fmt"
	"syscall/js"
	"time"

	"github.com/ossup/ossup/internal/checkpoint"
)

// idbKV is the checkpoint KV over IndexedDB. The IndexedDB calls live in the
// worker glue (self.ossupKV, promise-returning), where the event-based API is
// natural; the records themselves are encoded and validated in Go
// (internal/checkpoint).
//
// Every call has a deadline (kvTimeout): IndexedDB can hang (another tab
// holding an older version open blocks the upgrade, a browser bug, a full
// disk), and the engine treats a failed checkpoint read or write as "no
// resume", never as a failed upload. trouble, if set, is told of each
// failure with the context of the call, so the upload it belongs to gets a
// warning event.
type idbKV struct {
	api     js.Value
	trouble func(ctx context.Context, err error)
}

// kvTimeout bounds one KV call. The glue's own deadline is shorter
// (ossup-worker.js, KV_DEADLINE_MS): this one is the backstop for a glue
// that never settles its promise.
const kvTimeout = 10 * time.Second

func (k idbKV) call(ctx context.Context, method string, args ...any) (js.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, kvTimeout)
	defer cancel()
	v, err := awaitCall(ctx, k.api, method, args...)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			err = coded("storage_unavailable", "IndexedDB %s did not answer within %v: %w", method, kvTimeout, err)
		} else {
			err = fmt.Errorf("IndexedDB %s: %w", method, err)
		}
		if k.trouble != nil {
			k.trouble(ctx, err)
		}
	}
	return v, err
}

func (k idbKV) Get(ctx context.Context, key string) (b []byte, ok bool, err error) {
	defer recoverJS("IndexedDB get", &err)
	v, err := k.call(ctx, "get", key)
	if err != nil {
		return nil, false, err
	}
	if v.IsUndefined() || v.IsNull() {
		return nil, false, nil
	}
	return bytesFromJS(v), true, nil
}

func (k idbKV) Put(ctx context.Context, key string, value []byte) (err error) {
	defer recoverJS("IndexedDB put", &err)
	_, err = k.call(ctx, "put", key, bytesToJS(value))
	return err
}

func (k idbKV) Delete(ctx context.Context, key string) (err error) {
	defer recoverJS("IndexedDB delete", &err)
	_, err = k.call(ctx, "del", key)
	return err
}

// Scan reads the keys and values under prefix in one transaction (the
// glue's scan resolves to [keys, values], sorted by key).
func (k idbKV) Scan(ctx context.Context, prefix string) (items []checkpoint.Item, err error) {
	defer recoverJS("IndexedDB scan", &err)
	v, err := k.call(ctx, "scan", prefix)
	if err != nil {
		return nil, err
	}
	keys, values := v.Index(0), v.Index(1)
	items = make([]checkpoint.Item, keys.Length())
	for i := range items {
		items[i] = checkpoint.Item{Key: keys.Index(i).String(), Value: bytesFromJS(values.Index(i))}
	}
	return items, nil
}

func (k idbKV) DeletePrefix(ctx context.Context, prefix string) (err error) {
	defer recoverJS("IndexedDB delete", &err)
	_, err = k.call(ctx, "delPrefix", prefix)
	return err
}
