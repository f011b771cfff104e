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
// multipart upload is aborted and its checkpoint removed.
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
	u := env.engine(fastOptions(store)).Start(context.Background(), openSource(t, path))
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

// TestSupersedeSparesOthers: a fresh upload abandons only checkpoints of an
// older version of its file that nothing drives: not a newer one, not one
// of another name, not one Options.InUse claims.
func TestSupersedeSparesOthers(t *testing.T) {
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
		res, err := wait(t, env.engine(o).Start(context.Background(), openSource(t, p)))
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
	upload("x.bin", modified.Add(-time.Hour), fastOptions(store))
	kept("an older file of the same name")
	upload("y.bin", modified.Add(time.Hour), fastOptions(store))
	kept("a newer file of another name")
	busy := fastOptions(store)
	var asked []string
	busy.InUse = func(_ context.Context, id string) bool { asked = append(asked, id); return true }
	upload("x.bin", modified.Add(time.Hour), busy)
	kept("a newer file of the same name while another tab drives the old one")
	if !slices.Equal(asked, []string{oldID}) {
		t.Fatalf("InUse asked for %v, want [%s]", asked, oldID)
	}
	upload("x.bin", modified.Add(time.Hour), fastOptions(store))
	if ids := env.multipartUploads(); len(ids) != 0 {
		t.Fatalf("a newer version did not abandon the old upload: %v", ids)
	}
	if _, err := store.Load(context.Background(), oldID); err == nil {
		t.Fatal("the old checkpoint is still there")
	}
}
