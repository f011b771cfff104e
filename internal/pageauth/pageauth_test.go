package pageauth

import (
	"context"
	"errors"
	"testing"

	"github.com/ossup/ossup/internal/engine"
)

// backend answers 200 to one token, 401 to any other, and records what
// each request carried.
type backend struct {
	good string
	seen []*engine.Request
}

func (b *backend) Do(_ context.Context, r *engine.Request) (*engine.Response, error) {
	c := *r
	c.Header = r.Header.Clone()
	b.seen = append(b.seen, &c)
	if r.Header.Get("Authorization") == "Bearer "+b.good {
		return &engine.Response{Status: 200}, nil
	}
	return &engine.Response{Status: 401}, nil
}

func bearer(tok string) engine.Header { return engine.Header{"Authorization": {"Bearer " + tok}} }

func newRequest() *engine.Request {
	return &engine.Request{Method: "POST", URL: "https://api.example/api/v1/uploads", Header: engine.Header{"Content-Type": {"application/json"}}}
}

// TestAskedBeforeEachCall: with a headers function, every call carries its
// current answer, and the credentials mode the page settled.
func TestAskedBeforeEachCall(t *testing.T) {
	b := &backend{good: "t1"}
	tok := "t1"
	asks := 0
	tr := &Transport{Next: b, Ask: func(context.Context, bool) (engine.Header, error) { asks++; return bearer(tok), nil }}
	tr.Set(true, true)
	for _, want := range []string{"t1", "t2"} {
		tok, b.good = want, want
		resp, err := tr.Do(context.Background(), newRequest())
		if err != nil || resp.Status != 200 {
			t.Fatalf("%s: %v %v", want, resp, err)
		}
		got := b.seen[len(b.seen)-1]
		if got.Header.Get("Authorization") != "Bearer "+want || !got.Credentials || got.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("request carried %v credentials=%v", got.Header, got.Credentials)
		}
	}
	if asks != 2 {
		t.Fatalf("asked %d times for 2 calls", asks)
	}
}

// TestRetriedOnceAfter401: a 401 asks again; a different answer is tried at
// once and the call succeeds without the engine seeing the 401.
func TestRetriedOnceAfter401(t *testing.T) {
	b := &backend{good: "fresh"}
	var after []bool
	tr := &Transport{Next: b, Ask: func(_ context.Context, after401 bool) (engine.Header, error) {
		after = append(after, after401)
		if after401 {
			return bearer("fresh"), nil
		}
		return bearer("stale"), nil
	}}
	tr.Set(false, true)
	resp, err := tr.Do(context.Background(), newRequest())
	if err != nil || resp.Status != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	if len(b.seen) != 2 || len(after) != 2 || after[0] || !after[1] {
		t.Fatalf("%d requests, asks %v", len(b.seen), after)
	}
	if b.seen[0].Credentials || b.seen[1].Credentials {
		t.Fatal("credentials sent though the page settled on none")
	}
}

// TestSameAnswerAfter401: the same headers (or a failing function) after a
// 401 are not retried: the engine gets the 401 and waits for new headers.
func TestSameAnswerAfter401(t *testing.T) {
	for name, ask := range map[string]func(context.Context, bool) (engine.Header, error){
		"same": func(context.Context, bool) (engine.Header, error) { return bearer("stale"), nil },
		"failing": func(_ context.Context, after401 bool) (engine.Header, error) {
			if after401 {
				return nil, errors.New("sign-in needed")
			}
			return bearer("stale"), nil
		},
	} {
		b := &backend{good: "fresh"}
		tr := &Transport{Next: b, Ask: ask}
		tr.Set(false, true)
		resp, err := tr.Do(context.Background(), newRequest())
		if err != nil || resp.Status != 401 || len(b.seen) != 1 {
			t.Fatalf("%s: %v %v after %d requests", name, resp, err, len(b.seen))
		}
	}
}

// TestFailingFunctionKeepsLast: a function failing before a call leaves
// the headers it answered last, and drops keys a later answer omits.
func TestFailingFunctionKeepsLast(t *testing.T) {
	b := &backend{good: "t1"}
	n := 0
	tr := &Transport{Next: b, Ask: func(context.Context, bool) (engine.Header, error) {
		n++
		switch n {
		case 1:
			h := bearer("t1")
			h.Set("X-Tenant", "a")
			return h, nil
		case 2:
			return nil, errors.New("offline")
		}
		return bearer("t1"), nil
	}}
	tr.Set(false, true)
	r := newRequest()
	if _, err := tr.Do(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	r2 := newRequest()
	r2.Header = b.seen[0].Header.Clone() // the engine's copy of the last headers
	if resp, _ := tr.Do(context.Background(), r2); resp.Status != 200 {
		t.Fatalf("a failing function before the call lost the last headers: %v", b.seen[1].Header)
	}
	r3 := newRequest()
	r3.Header = b.seen[1].Header.Clone()
	if _, err := tr.Do(context.Background(), r3); err != nil {
		t.Fatal(err)
	}
	if b.seen[2].Header.Get("X-Tenant") != "" {
		t.Fatalf("a key the function no longer answers stayed: %v", b.seen[2].Header)
	}
}

// TestPushedHeaders: without a function nothing is asked; the engine's
// headers (SetHeaders) go out unchanged.
func TestPushedHeaders(t *testing.T) {
	b := &backend{good: "t1"}
	tr := &Transport{Next: b, Ask: func(context.Context, bool) (engine.Header, error) {
		t.Fatal("asked without a function")
		return nil, nil
	}}
	tr.Set(true, false)
	r := newRequest()
	r.Header.Set("Authorization", "Bearer t1")
	if resp, err := tr.Do(context.Background(), r); err != nil || resp.Status != 200 || !b.seen[0].Credentials {
		t.Fatalf("%v %v", resp, err)
	}
}
