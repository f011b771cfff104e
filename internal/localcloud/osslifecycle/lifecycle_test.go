package osslifecycle

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/localcloud/ossstore"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestExpiresAt follows the example of OSS's documentation: written at
// 23:00 on 2022-10-27 (UTC+8) = 15:00 UTC, rounded up to 2022-10-28 00:00
// UTC, 30 days later is 2022-11-27 00:00 UTC.
func TestExpiresAt(t *testing.T) {
	for _, tc := range []struct {
		modified string
		days     int
		want     string
	}{
		{"2022-10-27T23:00:00+08:00", 30, "2022-11-27T00:00:00Z"},
		{"2022-10-27T15:00:00Z", 1, "2022-10-29T00:00:00Z"},
		{"2022-10-28T00:00:00Z", 1, "2022-10-29T00:00:00Z"}, // already a midnight: not rounded
		{"2022-10-28T00:00:00.001Z", 1, "2022-10-30T00:00:00Z"},
		{"2024-02-28T12:00:00Z", 1, "2024-03-01T00:00:00Z"}, // leap day counted
	} {
		if got := ExpiresAt(tc.days, utc(tc.modified)); !got.Equal(utc(tc.want)) {
			t.Errorf("ExpiresAt(%d, %s) = %s, want %s", tc.days, tc.modified, got, tc.want)
		}
	}
}

func TestDue(t *testing.T) {
	modified := utc("2022-10-27T15:00:00Z")
	a := ossstore.LifecycleAction{Days: 1}
	if Due(a, modified, utc("2022-10-28T23:59:59Z")) {
		t.Error("due a second before the rounded day ends")
	}
	if !Due(a, modified, utc("2022-10-29T00:00:00Z")) {
		t.Error("not due at the rounded expiry")
	}
	before := ossstore.LifecycleAction{CreatedBefore: utc("2022-10-28T00:00:00Z")}
	if !Due(before, modified, modified) {
		t.Error("CreatedBefore: an older object is not due")
	}
	if Due(before, utc("2022-10-28T00:00:00Z"), utc("2030-01-01T00:00:00Z")) {
		t.Error("CreatedBefore: an object of exactly that time is due (OSS: including this time, not deleted)")
	}
	date := ossstore.LifecycleAction{Date: utc("2022-11-01T00:00:00Z")}
	if Due(date, modified, utc("2022-10-31T23:59:59Z")) || !Due(date, utc("2022-12-01T00:00:00Z"), utc("2022-11-01T00:00:00Z")) {
		t.Error("Date: not due exactly from that date on, whatever the object's time")
	}
}

func TestAppliesTo(t *testing.T) {
	ten, hundred := int64(10), int64(100)
	tag := ossstore.Tag{Key: "k", Value: "v"}
	rule := ossstore.LifecycleRule{
		Prefix: "logs/", Tags: []ossstore.Tag{tag},
		Not:             []ossstore.LifecycleNot{{Prefix: "logs/keep/"}, {Prefix: "logs/x/", Tag: &ossstore.Tag{Key: "hold", Value: "1"}}},
		SizeGreaterThan: &ten, SizeLessThan: &hundred,
	}
	obj := func(key string, size int64, tags ...ossstore.Tag) *ossstore.ObjectInfo {
		return &ossstore.ObjectInfo{Key: key, Size: size, Attrs: ossstore.Attrs{Tags: tags}}
	}
	hold := ossstore.Tag{Key: "hold", Value: "1"}
	for _, tc := range []struct {
		o    *ossstore.ObjectInfo
		want bool
	}{
		{obj("logs/a", 50, tag), true},
		{obj("other/a", 50, tag), false},
		{obj("logs/a", 50), false},              // missing tag
		{obj("logs/a", 10, tag), false},         // not greater than 10
		{obj("logs/a", 100, tag), false},        // not less than 100
		{obj("logs/keep/a", 50, tag), false},    // Not by prefix
		{obj("logs/x/a", 50, tag), true},        // Not needs its tag too
		{obj("logs/x/a", 50, tag, hold), false}, // Not by prefix and tag
	} {
		if got := AppliesTo(rule, tc.o); got != tc.want {
			t.Errorf("AppliesTo(%s size %d tags %v) = %v, want %v", tc.o.Key, tc.o.Size, tc.o.Tags, got, tc.want)
		}
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestReplacedObjectSurvives: the runner's decision is taken again on the
// version current under the object's lock, so an object rewritten after it
// became due is not deleted on the strength of its older version.
func TestReplacedObjectSurvives(t *testing.T) {
	clk := &clock{t: utc("2030-01-01T12:00:00Z")}
	s, err := ossstore.Open(t.TempDir(), ossstore.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateBucket("b-1"); err != nil {
		t.Fatal(err)
	}
	rule := ossstore.LifecycleRule{ID: "r", Enabled: true, Expiration: &ossstore.LifecycleAction{Days: 1}}
	if err := s.UpdateBucket("b-1", func(b *ossstore.Bucket) error { b.Lifecycle = []ossstore.LifecycleRule{rule}; return nil }); err != nil {
		t.Fatal(err)
	}
	put := func(key string) {
		if _, err := s.PutObject("b-1", key, bytes.NewReader([]byte(key)), int64(len(key)), nil, ossstore.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	put("k")
	put("other")
	clk.add(3 * 24 * time.Hour)
	now := clk.now()
	listed, err := s.HeadObject("b-1", "k")
	if err != nil {
		t.Fatal(err)
	}
	due := func(o *ossstore.ObjectInfo) bool {
		return AppliesTo(rule, o) && Due(*rule.Expiration, o.LastModified, now)
	}
	if !due(listed) {
		t.Fatal("the listed version is not due")
	}
	put("k") // rewritten after the runner listed it
	deleted, err := s.ExpireObject("b-1", "k", due)
	if err != nil || deleted {
		t.Fatalf("ExpireObject of the rewritten key: deleted %v, %v", deleted, err)
	}
	rep, err := New(s, clk.now, nil).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.ExpiredObjects) != 1 || rep.ExpiredObjects[0].Key != "other" {
		t.Fatalf("run expired %+v, want only other", rep.ExpiredObjects)
	}
	if _, err := s.HeadObject("b-1", "k"); err != nil {
		t.Fatalf("rewritten object gone: %v", err)
	}
}

// TestStartStop: background runs apply the rules and Stop waits for them.
func TestStartStop(t *testing.T) {
	clk := &clock{t: utc("2030-01-01T12:00:00Z")}
	s, err := ossstore.Open(t.TempDir(), ossstore.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateBucket("b-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateBucket("b-1", func(b *ossstore.Bucket) error {
		b.Lifecycle = []ossstore.LifecycleRule{{ID: "r", Enabled: true, Expiration: &ossstore.LifecycleAction{Days: 1}}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObject("b-1", "k", bytes.NewReader(nil), 0, nil, ossstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	clk.add(3 * 24 * time.Hour)
	r := New(s, clk.now, nil)
	r.Start(10 * time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := s.HeadObject("b-1", "k"); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("background runs did not expire the object in 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.Stop()
	r.Stop() // idempotent
	r.Start(time.Millisecond)
	if r.stop != nil {
		t.Error("Start after Stop started again")
	}
}
