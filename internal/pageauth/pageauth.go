// Package pageauth carries the page's authentication on the engine's
// backend calls: the headers of the page's headers function, asked for
// before each call and once more after a 401, and the credentials mode the
// page settled (cookies only for cookie-based authentication, or when the
// page opted in). It wraps the backend's Transport, so the engine stays
// unaware of where headers come from.
package pageauth

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/ossup/ossup/internal/engine"
)

// Transport is the backend's engine.Transport with the page's
// authentication. Only backend calls go through it: OSS requests use the
// engine's own transport and never carry cookies.
type Transport struct {
	// Next sends the request (the browser's XHR transport).
	Next engine.Transport
	// Ask returns the page's current headers: its headers function's
	// answer, called again after a 401 (after401). Only used once Set
	// enabled asking.
	Ask func(ctx context.Context, after401 bool) (engine.Header, error)
	// OnServerTime, if set, receives the backend's time from each
	// successful answer that carries one (Clock.Learn).
	OnServerTime func(time.Time)

	mu          sync.Mutex
	credentials bool
	ask         bool
	last        engine.Header // the page's headers last applied
}

// Set records the page's credentials mode and whether its headers come
// from a function (asked before each call) or are pushed (SetHeaders).
func (t *Transport) Set(credentials, ask bool) {
	t.mu.Lock()
	t.credentials, t.ask = credentials, ask
	t.mu.Unlock()
}

// Do sends r with the page's credentials mode. With a headers function, it
// asks the page for headers first (a failing function leaves the last
// ones: they may still be valid) and, on a 401, once more: a different
// answer is tried at once, before the engine is told (then it waits in
// state unauthenticated until new headers are pushed). A 401 is only ever
// answered before the backend acted, so the retry is safe.
func (t *Transport) Do(ctx context.Context, r *engine.Request) (*engine.Response, error) {
	resp, err := t.do(ctx, r)
	if err == nil && resp.Status/100 == 2 && t.OnServerTime != nil {
		if st := serverTime(resp.Body); !st.IsZero() {
			t.OnServerTime(st)
		}
	}
	return resp, err
}

func (t *Transport) do(ctx context.Context, r *engine.Request) (*engine.Response, error) {
	t.mu.Lock()
	r.Credentials = t.credentials
	ask := t.ask
	t.mu.Unlock()
	if !ask || t.Ask == nil {
		return t.Next.Do(ctx, r)
	}
	if h, err := t.Ask(ctx, false); err == nil {
		t.apply(r, h)
	} else if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	resp, err := t.Next.Do(ctx, r)
	if err != nil || resp.Status != 401 { // Unauthorized: the page's headers may be stale
		return resp, err
	}
	used := r.Header.Clone()
	h, aerr := t.Ask(ctx, true)
	if aerr != nil {
		return resp, nil
	}
	t.apply(r, h)
	if sameHeader(used, r.Header) {
		return resp, nil
	}
	return t.Next.Do(ctx, r)
}

// apply puts the page's headers h on r, dropping the ones an earlier answer
// set and this one does not.
func (t *Transport) apply(r *engine.Request, h engine.Header) {
	t.mu.Lock()
	last := t.last
	t.last = h.Clone()
	t.mu.Unlock()
	if r.Header == nil {
		r.Header = engine.Header{}
	}
	for k := range last {
		if _, ok := h[k]; !ok {
			r.Header.Del(k)
		}
	}
	for k, vs := range h {
		r.Header[engine.CanonicalHeaderKey(k)] = slices.Clone(vs)
	}
}

func sameHeader(a, b engine.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		if !slices.Equal(va, b[k]) {
			return false
		}
	}
	return true
}
