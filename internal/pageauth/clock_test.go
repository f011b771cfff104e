package pageauth

import (
	"context"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/engine"
)

type fixedClock struct{ t time.Time }

func (f fixedClock) Now() time.Time                         { return f.t }
func (f fixedClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// TestClockLearnsBackendTime: a browser clock 10 min behind or 2 h ahead is
// corrected from the serverTime of a backend answer; jitter below 2 s is
// left alone.
func TestClockLearnsBackendTime(t *testing.T) {
	server := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	for _, off := range []time.Duration{-10 * time.Minute, 2 * time.Hour} {
		c := &Clock{Base: fixedClock{server.Add(off)}}
		c.Learn(server)
		if got := c.Now(); !got.Equal(server) {
			t.Fatalf("browser off by %s: corrected to %s, want %s", off, got, server)
		}
		c.Learn(server.Add(time.Second))
		if c.Offset() != -off {
			t.Fatalf("a 1 s difference moved the offset to %s", c.Offset())
		}
	}
}

// TestTransportReportsServerTime: successful backend answers with a
// serverTime reach OnServerTime; errors and answers without one do not.
func TestTransportReportsServerTime(t *testing.T) {
	var got []time.Time
	for _, c := range []struct {
		status int
		body   string
		want   bool
	}{
		{200, `{"ticket":"x","serverTime":"2026-12-02T12:00:00.123Z"}`, true},
		{200, `{"ticket":"x"}`, false},
		{503, `{"error":{"code":"unavailable"},"serverTime":"2026-12-02T12:00:00Z"}`, false},
		{200, `not json`, false},
	} {
		got = nil
		tr := &Transport{Next: answer{c.status, c.body}, OnServerTime: func(st time.Time) { got = append(got, st) }}
		if _, err := tr.Do(context.Background(), newRequest()); err != nil {
			t.Fatal(err)
		}
		if (len(got) == 1) != c.want {
			t.Fatalf("%d %s: reported %v", c.status, c.body, got)
		}
	}
}

type answer struct {
	status int
	body   string
}

func (a answer) Do(context.Context, *engine.Request) (*engine.Response, error) {
	return &engine.Response{Status: a.status, Body: []byte(a.body)}, nil
}
