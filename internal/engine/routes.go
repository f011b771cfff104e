package engine

import (
	"context"
	"net/url"
	"sync"
)

// routes remembers which (method, origin) pairs have answered since the
// Engine started. A browser cannot tell a network drop from a CORS refusal:
// both are a fetch with no response. Once a route has answered, its CORS
// rule is proven, so a later failure on it is the network and worth
// Options.Patience; a route that never answered may be refused by
// CORS, and is reported after the usual attempts so a misconfigured bucket
// shows its diagnosis within seconds.
type routes struct{ seen sync.Map }

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
		if _, ok := t.rs.seen.Load(key); ok {
			return nil, &provenRouteError{err}
		}
		return nil, err
	}
	t.rs.seen.Store(key, struct{}{})
	return resp, nil
}
