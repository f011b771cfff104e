//go:build !js

package engine

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/checkpoint"
)

// TestResumeModifiedFile: the file is edited in place (new content, new
// modification time) after a crash. Its checkpoint id changed, so there is
// nothing to resume; the upload starts over, and the earlier version's
// multipart upload, proven to be this file's (Options.EarlierVersions, a
// kept file handle in the browser), is aborted and its checkpoint removed.
func TestResumeModifiedFile(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	store := checkpoint.NewMemoryStore()
	path, _ := writeFile(t, "edited.bin", 8<<20, 6)
	old := crashMidway(t, env, store, path, 2<<20)

	_, data := writeFile(t, "unused.bin", 8<<20, 7)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.UnixMilli(old.File.LastModified).Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	o := fastOptions(store)
	o.EarlierVersions = func(context.Context, string) []string { return []string{checkpoint.ID(old.File)} }
	u := env.engine(o).start(context.Background(), openSource(t, path))
	if u.ID() == checkpoint.ID(old.File) {
		t.Fatal("the edited file has the old checkpoint id")
	}
	res, err := wait(t, u)
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
	if ids := env.multipartUploads(); len(ids) != 0 {
		t.Fatalf("old upload %s not aborted: %v", old.UploadID, ids)
	}
	if pending, err := Pending(context.Background(), store); err != nil || len(pending) != 0 {
		t.Fatalf("checkpoints left: %+v %v", pending, err)
	}
}

// TestSupersedeNeedsProof: a fresh upload discards another checkpoint only
// when Options.EarlierVersions proves it is an earlier version of the same
// file, and nothing drives it (Options.InUse). A newer file of the same
// name and type is no proof: two DSC_0001.JPG from two cards, or two
// video.mp4 from two folders, must not abort each other's interrupted
// uploads (before, any older record of the same name was aborted).
func TestSupersedeNeedsProof(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	store := checkpoint.NewMemoryStore()
	path, _ := writeFile(t, "x.bin", 8<<20, 8)
	old := crashMidway(t, env, store, path, 1<<20)
	oldID := checkpoint.ID(old.File)
	modified := time.UnixMilli(old.File.LastModified)

	// Small files (one PutObject) named and dated as each case needs.
	upload := func(name string, mtime time.Time, o Options) {
		t.Helper()
		p, data := writeFile(t, name, 1000, 9)
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		res, err := wait(t, env.engine(o).start(context.Background(), openSource(t, p)))
		if err != nil {
			t.Fatal(err)
		}
		env.checkObject(res, data)
	}
	kept := func(when string) {
		t.Helper()
		if ids := env.multipartUploads(); !slices.Equal(ids, []string{old.UploadID}) {
			t.Fatalf("%s: open uploads %v, want %s", when, ids, old.UploadID)
		}
		if _, err := store.Load(context.Background(), oldID); err != nil {
			t.Fatalf("%s: checkpoint gone: %v", when, err)
		}
	}
	upload("x.bin", modified.Add(time.Hour), fastOptions(store))
	kept("a newer file of the same name, without proof")
	proven := func(o Options) Options {
		o.EarlierVersions = func(context.Context, string) []string { return []string{oldID} }
		return o
	}
	busy := proven(fastOptions(store))
	var asked []string
	busy.InUse = func(_ context.Context, id string) bool { asked = append(asked, id); return true }
	upload("x.bin", modified.Add(2*time.Hour), busy)
	kept("a proven earlier version while another tab drives it")
	if !slices.Equal(asked, []string{oldID}) {
		t.Fatalf("InUse asked for %v, want [%s]", asked, oldID)
	}
	upload("x.bin", modified.Add(3*time.Hour), proven(fastOptions(store)))
	if ids := env.multipartUploads(); len(ids) != 0 {
		t.Fatalf("a proven newer version did not discard the old upload: %v", ids)
	}
	if _, err := store.Load(context.Background(), oldID); err == nil {
		t.Fatal("the old checkpoint is still there")
	}
}
