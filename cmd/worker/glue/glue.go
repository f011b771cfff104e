//go:build js && wasm

// Package glue is the Go side of the Cloudflare Workers glue
// (worker/glue/worker.mjs): it takes requests from the glue, answers them
// with an http.Handler, and sends outbound calls through the Workers fetch
// API. cmd/worker serves the backend with it.
//
// The glue starts a Go instance once and hands it many requests, one at a
// time (worker.mjs says why one at a time). An instance gets what belongs
// to it from the global ossupBoot, which the glue sets while it starts the
// instance:
//
//	ossupBoot = {env, fetch, register}
//
// env is the Worker's bindings; fetch is the outbound helper (see
// Boot.Fetch); register(serve) is how the instance hands back its request
// function (see serve). github.com/syumai/workers v0.33.0, used before,
// starts a new Go instance for every request, which costs more CPU than the
// free plan's 10 ms per request; its Go side cannot serve a reused instance
// (it binds the instance to its first request's context and leaks two
// js.Funcs per response).
package glue

import (
	"errors"
	"net/http"
	"syscall/js"
)

// Boot is what the glue handed this instance.
type Boot struct {
	env, fetch, register js.Value
}

// Take reads ossupBoot. Call it first in main: the glue takes ossupBoot away
// once the instance has first waited, and instances of one isolate share
// globalThis.
func Take() (*Boot, error) {
	b := js.Global().Get("ossupBoot")
	if b.Type() != js.TypeObject {
		return nil, errors.New("glue: no ossupBoot: this program runs under worker/glue/worker.mjs")
	}
	return &Boot{env: b.Get("env"), fetch: b.Get("fetch"), register: b.Get("register")}, nil
}

// Binding is the Worker's binding (variable or secret) name. ok is false if
// it is absent or null (workerd's fromEnvironment of an unset variable); a
// binding that is not a string (a JSON variable) is given in its JavaScript
// string form.
func (b *Boot) Binding(name string) (v string, ok bool) {
	switch x := b.env.Get(name); x.Type() {
	case js.TypeUndefined, js.TypeNull:
		return "", false
	case js.TypeString:
		return x.String(), true
	default:
		return js.Global().Get("String").Invoke(x).String(), true
	}
}

// Serve registers with the glue and serves every request it hands over
// with app(), which is called once per request and may wait (to build the
// handler on first use). It never returns.
func (b *Boot) Serve(app func() http.Handler) {
	b.register.Invoke(js.FuncOf(func(_ js.Value, args []js.Value) any {
		serve(args, app)
		return nil
	}))
	select {}
}
