package ossstore

import (
	"reflect"
	"sync"
	"testing"
)

func TestBucketLifecycle(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	if _, err := s.Bucket("bkt"); err == nil {
		t.Fatal("Bucket on an empty store succeeded")
	} else {
		wantErr(t, err, 404, "NoSuchBucket")
	}
	if err := s.CreateBucket("bkt"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.CreateBucket("bkt"), 409, "BucketAlreadyExists")
	for _, bad := range []string{"ab", "-abc", "abc-", "ABC", "a_b", "../x", "a/b", string(make([]byte, 64))} {
		wantErr(t, s.CreateBucket(bad), 400, "InvalidBucketName")
	}
	b, err := s.Bucket("bkt")
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "bkt" || b.Created.IsZero() || b.CORS != nil {
		t.Fatalf("bucket = %+v", b)
	}

	rules := []CORSRule{
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PUT", "GET"}, AllowedHeaders: []string{"*"}, ExposeHeaders: []string{"ETag", "x-oss-request-id"}, MaxAgeSeconds: 600},
		{AllowedOrigins: []string{"http://a.example"}, AllowedMethods: []string{"POST"}},
	}
	if err := s.PutBucketCORS("bkt", rules); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.PutBucketCORS("nope", rules), 404, "NoSuchBucket")
	rules[0].AllowedOrigins[0] = "mutated" // the store must hold its own copy
	b, _ = s.Bucket("bkt")
	if b.CORS[0].AllowedOrigins[0] != "*" || len(b.CORS) != 2 || b.CORS[0].MaxAgeSeconds != 600 {
		t.Fatalf("CORS = %+v", b.CORS)
	}
	b.CORS[1].AllowedMethods[0] = "mutated"
	b2, _ := s.Bucket("bkt")
	if b2.CORS[1].AllowedMethods[0] != "POST" {
		t.Fatal("Bucket returned the store's own CORS slices")
	}

	// Everything survives a restart.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, dir)
	b3, err := s2.Bucket("bkt")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b3, b2) || !b3.Created.Equal(b2.Created) {
		t.Fatalf("after restart bucket = %+v, want %+v", b3, b2)
	}
	if err := s2.PutBucketCORS("bkt", nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := s2.Bucket("bkt"); b.CORS != nil {
		t.Fatalf("CORS after removal = %+v", b.CORS)
	}
	wantErr(t, s2.CreateBucket("bkt"), 409, "BucketAlreadyExists")
}

func TestCreateBucketRace(t *testing.T) {
	s := openStore(t, t.TempDir())
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.CreateBucket("race") }()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			wantErr(t, err, 409, "BucketAlreadyExists")
		}
	}
	if ok != 1 {
		t.Fatalf("%d creations succeeded, want 1", ok)
	}
}

func TestOpenIsExclusive(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	if s2, err := Open(dir, Options{}); err == nil {
		s2.Close()
		t.Fatal("second Open of an open store succeeded")
	}
	s.Close()
	s3, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s3.Close()
	if err := s.CreateBucket("after-close"); err == nil {
		t.Fatal("CreateBucket on a closed store succeeded")
	}
}
