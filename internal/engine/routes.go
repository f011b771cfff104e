package engine

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ossup/ossup/internal/checkpoint"
)

// routes remembers which (method, origin) pairs have answered since the
// Engine started. A browser cannot tell a network drop from a CORS refusal:
// both are a fetch with no response. Once a route has answered, its CORS
// rule is proven, so a later failure on it is the network and worth
// Options.Patience; a route that never answered may be refused by
// CORS, and is reported after the usual attempts so a misconfigured bucket
// shows its diagnosis within seconds.
type routes struct {
	seen sync.Map
	// store, when set, keeps the proven routes across page loads, so a
	// resume on flaky Wi-Fi right after a reload gets the full patience
	// instead of a CORS diagnosis after a few attempts.
	store   RouteStore
	timeout time.Duration
	loaded  chan struct{} // closed once the stored routes are in seen
}

// RouteStore keeps the routes (method and origin) proven to pass CORS.
type RouteStore interface {
	Load(ctx context.Context) ([]string, error)
	Save(ctx context.Context, route string) error
}

// KVRoutes is a RouteStore in kv under keys "route/<route>" (beside the
// checkpoints, whose keys never start so).
func KVRoutes(kv checkpoint.KV) RouteStore { return kvRoutes{kv} }

type kvRoutes struct{ kv checkpoint.KV }

const routePrefix = "route/"

func (k kvRoutes) Load(ctx context.Context) ([]string, error) {
	items, err := k.kv.Scan(ctx, routePrefix)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, strings.TrimPrefix(it.Key, routePrefix))
	}
	return out, nil
}

func (k kvRoutes) Save(ctx context.Context, route string) error {
	return k.kv.Put(ctx, routePrefix+route, []byte("1"))
}

// newRoutes starts loading the stored routes, if any.
func newRoutes(store RouteStore, timeout time.Duration) *routes {
	rs := &routes{store: store, timeout: timeout, loaded: make(chan struct{})}
	if store == nil {
		close(rs.loaded)
		return rs
	}
	go func() {
		defer close(rs.loaded)
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if rl, err := store.Load(ctx); err == nil {
			for _, r := range rl {
				rs.seen.Store(r, struct{}{})
			}
		}
	}()
	return rs
}

// proven reports whether route answered before (in this page or, with a
// store, an earlier one).
func (rs *routes) proven(route string) bool {
	if _, ok := rs.seen.Load(route); ok {
		return true
	}
	select {
	case <-rs.loaded:
	case <-time.After(time.Second):
	}
	_, ok := rs.seen.Load(route)
	return ok
}

// answered records that route answered.
func (rs *routes) answered(route string) {
	if _, known := rs.seen.LoadOrStore(route, struct{}{}); known || rs.store == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), rs.timeout)
		defer cancel()
		_ = rs.store.Save(ctx, route) // best effort: costs patience after a reload only
	}()
}

func routeOf(r *Request) string {
	u, err := url.Parse(r.URL)
	if err != nil {
		return r.Method + " " + r.URL
	}
	return r.Method + " " + u.Scheme + "://" + u.Host
}

// provenRouteError is a transport failure on a route that answered before.
type provenRouteError struct{ err error }

func (e *provenRouteError) Error() string { return e.err.Error() }
func (e *provenRouteError) Unwrap() error { return e.err }

// routeTransport records the routes that answer and marks failures on
// proven ones.
type routeTransport struct {
	t  Transport
	rs *routes
}

func (t routeTransport) Do(ctx context.Context, r *Request) (*Response, error) {
	key := routeOf(r)
	resp, err := t.t.Do(ctx, r)
	if err != nil {
		if t.rs.proven(key) {
			return nil, &provenRouteError{err}
		}
		return nil, err
	}
	t.rs.answered(key)
	return resp, nil
}
