package ossstore

import (
	"slices"
	"sort"
	"testing"
)

type listed struct{ key, id string }

func TestListUploads(t *testing.T) {
	s, _ := newStore(t)
	var all []listed
	for _, k := range []string{"b", "a/1", "a/2", "a/sub/x", "c", "a", "b", "d/e/f", "é"} {
		up, err := s.InitiateUpload("bkt", k, nil, Attrs{})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, listed{k, up.UploadID})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].key != all[j].key {
			return all[i].key < all[j].key
		}
		return all[i].id < all[j].id
	})
	list := func(q ListUploadsQuery) *ListUploadsResult {
		t.Helper()
		res, err := s.ListUploads("bkt", q)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	got := func(res *ListUploadsResult) []listed {
		var l []listed
		for _, u := range res.Uploads {
			if u.Bucket != "bkt" || u.Initiated.IsZero() {
				t.Fatalf("upload = %+v", u)
			}
			l = append(l, listed{u.Key, u.UploadID})
		}
		return l
	}

	res := list(ListUploadsQuery{})
	if !slices.Equal(got(res), all) || res.IsTruncated || res.CommonPrefixes != nil {
		t.Fatalf("full listing = %v, want %v", got(res), all)
	}
	last := all[len(all)-1]
	if res.NextKeyMarker != last.key || res.NextUploadIDMarker != last.id {
		t.Fatalf("next markers = %q %q", res.NextKeyMarker, res.NextUploadIDMarker)
	}

	// Paging by two with the returned markers visits everything once, in order.
	for _, page := range []int{1, 2, 3, 1000} {
		var seen []listed
		q := ListUploadsQuery{MaxUploads: page}
		for {
			res := list(q)
			seen = append(seen, got(res)...)
			if len(res.Uploads) > page {
				t.Fatalf("page of %d has %d uploads", page, len(res.Uploads))
			}
			if !res.IsTruncated {
				break
			}
			q.KeyMarker, q.UploadIDMarker = res.NextKeyMarker, res.NextUploadIDMarker
		}
		if !slices.Equal(seen, all) {
			t.Fatalf("paging by %d gave %v, want %v", page, seen, all)
		}
	}

	// The two uploads of "b", in id order.
	var bs []listed
	for _, u := range all {
		if u.key == "b" {
			bs = append(bs, u)
		}
	}
	// key-marker alone: keys strictly after it.
	res = list(ListUploadsQuery{KeyMarker: "b"})
	if g := got(res); len(g) == 0 || g[0].key != "c" {
		t.Fatalf("after key b: %v", g)
	}
	// With an upload-id-marker: later ids of the same key, then later keys.
	res = list(ListUploadsQuery{KeyMarker: "b", UploadIDMarker: bs[0].id})
	if g := got(res); len(g) < 2 || g[0] != bs[1] || g[1].key != "c" {
		t.Fatalf("after b/%s: %v", bs[0].id, g)
	}
	res = list(ListUploadsQuery{KeyMarker: "b", UploadIDMarker: bs[1].id})
	if g := got(res); g[0].key != "c" {
		t.Fatalf("after the last id of b: %v", g)
	}
	// An upload-id-marker without key-marker is ignored.
	if g := got(list(ListUploadsQuery{UploadIDMarker: "FFFF"})); !slices.Equal(g, all) {
		t.Fatalf("upload-id-marker alone: %v", g)
	}

	// Prefix.
	res = list(ListUploadsQuery{Prefix: "a/"})
	if g := got(res); len(g) != 3 || g[0].key != "a/1" || g[2].key != "a/sub/x" {
		t.Fatalf("prefix a/: %v", g)
	}

	// Delimiter: "a/" and "d/" roll up; each counts as one entry.
	res = list(ListUploadsQuery{Delimiter: "/"})
	if !slices.Equal(res.CommonPrefixes, []string{"a/", "d/"}) {
		t.Fatalf("common prefixes = %v", res.CommonPrefixes)
	}
	var keys []string
	for _, u := range res.Uploads {
		keys = append(keys, u.Key)
	}
	if !slices.Equal(keys, []string{"a", "b", "b", "c", "é"}) {
		t.Fatalf("keys with delimiter = %v", keys)
	}
	res = list(ListUploadsQuery{Prefix: "a/", Delimiter: "/"})
	if !slices.Equal(res.CommonPrefixes, []string{"a/sub/"}) || len(res.Uploads) != 2 {
		t.Fatalf("prefix a/ delimiter /: %v %v", got(res), res.CommonPrefixes)
	}

	// Paging with a delimiter: a page can end on a common prefix, and the
	// next page must not repeat it.
	var seenKeys, seenPrefixes []string
	q := ListUploadsQuery{Delimiter: "/", MaxUploads: 1}
	for {
		res := list(q)
		if len(res.Uploads)+len(res.CommonPrefixes) != 1 && res.IsTruncated {
			t.Fatalf("page has %d entries", len(res.Uploads)+len(res.CommonPrefixes))
		}
		for _, u := range res.Uploads {
			seenKeys = append(seenKeys, u.Key)
		}
		seenPrefixes = append(seenPrefixes, res.CommonPrefixes...)
		if len(res.CommonPrefixes) == 1 && (res.NextKeyMarker != res.CommonPrefixes[0] || res.NextUploadIDMarker != "") {
			t.Fatalf("markers after a prefix: %q %q", res.NextKeyMarker, res.NextUploadIDMarker)
		}
		if !res.IsTruncated {
			break
		}
		q.KeyMarker, q.UploadIDMarker = res.NextKeyMarker, res.NextUploadIDMarker
	}
	if !slices.Equal(seenKeys, keys) || !slices.Equal(seenPrefixes, []string{"a/", "d/"}) {
		t.Fatalf("paged with delimiter: %v %v", seenKeys, seenPrefixes)
	}

	// Aborted and completed uploads disappear; unknown buckets fail.
	if err := s.AbortUpload("bkt", all[0].key, all[0].id); err != nil {
		t.Fatal(err)
	}
	if g := got(list(ListUploadsQuery{})); !slices.Equal(g, all[1:]) {
		t.Fatalf("after abort: %v", g)
	}
	_, err := s.ListUploads("nobkt", ListUploadsQuery{})
	wantErr(t, err, 404, "NoSuchBucket")
	if res := list(ListUploadsQuery{Prefix: "zzz"}); len(res.Uploads) != 0 || res.IsTruncated || res.NextKeyMarker != "" {
		t.Fatalf("empty listing = %+v", res)
	}
}

func TestListUploadsMaxDefault(t *testing.T) {
	s, _ := newStore(t)
	for range 1001 {
		if _, err := s.InitiateUpload("bkt", "k", nil, Attrs{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, max := range []int{0, -5, 5000} {
		res, err := s.ListUploads("bkt", ListUploadsQuery{MaxUploads: max})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Uploads) != 1000 || !res.IsTruncated {
			t.Fatalf("max %d: %d uploads, truncated %v", max, len(res.Uploads), res.IsTruncated)
		}
	}
}
