//go:build unix

package ossstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
)

// The crash tests run each mutating operation in a child process (this test
// binary re-executed into TestHelperProcess) that SIGKILLs itself at one
// OnStep point, or in the middle of the body. The parent then reopens the
// store and checks it is exactly in the state before or after the operation's
// commit point, with nothing torn, nothing lost and no garbage left.

const crashEnv = "OSSSTORE_CRASH_SPEC"

type crashSpec struct {
	Dir, Op, Step, UploadID string
}

// Scenario data, shared by parent and child.
var (
	objV1  = gen(1, 200_000) // "obj" before the operation
	objV2  = gen(2, 300_000) // "obj" written by the child
	partA  = gen(10, 150_000)
	partB  = gen(12, 160_000) // part 1 rewritten by the child
	part2  = gen(11, 120_000)
	part3  = gen(13, 7_000)
	upKey  = "multi/part file ü"
	newKey = "new"
)

// crashOps lists each operation with its steps and its commit step.
var crashOps = []struct {
	op     string
	steps  []string
	commit string
}{
	{"put", []string{"put:written", "put:linked", "put:committed"}, "put:committed"},
	{"put-midbody", []string{"midbody"}, ""},
	{"part", []string{"part:written", "part:linked", "part:committed"}, "part:committed"},
	{"part-new", []string{"part:written", "part:linked", "part:committed"}, "part:committed"},
	{"part-midbody", []string{"midbody"}, ""},
	{"complete", []string{"complete:linked", "complete:committed", "complete:done"}, "complete:committed"},
	{"abort", []string{"abort:removed"}, "abort:removed"},
	{"delete", []string{"delete:committed"}, "delete:committed"},
	{"initiate", []string{"initiate:committed"}, "initiate:committed"},
}

// documentedSteps is the list in the package documentation.
var documentedSteps = []string{
	"put:written", "put:linked", "put:committed", "initiate:committed",
	"part:written", "part:linked", "part:committed",
	"complete:linked", "complete:committed", "complete:done",
	"abort:removed", "delete:committed",
}

func TestCrashStepsCoverDocumentedList(t *testing.T) {
	var covered []string
	for _, c := range crashOps {
		covered = append(covered, c.steps...)
	}
	for _, s := range documentedSteps {
		if !slices.Contains(covered, s) {
			t.Errorf("step %s has no crash test", s)
		}
	}
}

// killingReader yields the body and SIGKILLs the process halfway through.
type killingReader struct {
	r    io.Reader
	left int
}

func (k *killingReader) Read(p []byte) (int, error) {
	if k.left <= 0 {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
	if len(p) > k.left {
		p = p[:k.left]
	}
	n, err := k.r.Read(p)
	k.left -= n
	return n, err
}

// TestHelperProcess is the child of the crash tests; run directly it does
// nothing.
func TestHelperProcess(t *testing.T) {
	raw := os.Getenv(crashEnv)
	if raw == "" {
		return
	}
	var c crashSpec
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	s, err := Open(c.Dir, Options{OnStep: func(step string) {
		if step == c.Step {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	half := func(b []byte) io.Reader { return &killingReader{r: bytes.NewReader(b), left: len(b) / 2} }
	switch c.Op {
	case "put":
		_, err = s.PutObject("bkt", "obj", bytes.NewReader(objV2), int64(len(objV2)), nil, PutOptions{})
	case "put-midbody":
		_, err = s.PutObject("bkt", "obj", half(objV2), int64(len(objV2)), nil, PutOptions{})
	case "part":
		_, err = s.UploadPart("bkt", upKey, c.UploadID, 1, bytes.NewReader(partB), int64(len(partB)), nil)
	case "part-new":
		_, err = s.UploadPart("bkt", upKey, c.UploadID, 3, bytes.NewReader(part3), -1, nil)
	case "part-midbody":
		_, err = s.UploadPart("bkt", upKey, c.UploadID, 1, half(partB), int64(len(partB)), nil)
	case "complete":
		_, err = s.CompleteUpload("bkt", upKey, c.UploadID, []CompletePart{
			{1, md5Hex(partA)}, {2, md5Hex(part2)}, {3, md5Hex(part3)}}, CompleteOptions{})
	case "abort":
		err = s.AbortUpload("bkt", upKey, c.UploadID)
	case "delete":
		err = s.DeleteObject("bkt", "obj")
	case "initiate":
		_, err = s.InitiateUpload("bkt", newKey, nil, Attrs{})
	default:
		err = fmt.Errorf("unknown op %q", c.Op)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Fprintf(os.Stderr, "step %s was never reached\n", c.Step)
	os.Exit(3)
}

// crashSetup builds the starting state: "obj" = objV1, an object at upKey,
// and an upload of upKey with parts 1 (partA) and 2 (part2), plus part 3 for
// the complete scenario. It returns the upload id.
func crashSetup(t *testing.T, dir, op string) string {
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateBucket("bkt"); err != nil {
		t.Fatal(err)
	}
	put(t, s, "obj", objV1)
	put(t, s, upKey, objV1)
	up, err := s.InitiateUpload("bkt", upKey, nil, Attrs{})
	if err != nil {
		t.Fatal(err)
	}
	uploadPart(t, s, upKey, up.UploadID, 1, partA)
	uploadPart(t, s, upKey, up.UploadID, 2, part2)
	if op == "complete" {
		uploadPart(t, s, upKey, up.UploadID, 3, part3)
	}
	return up.UploadID
}

func runCrashChild(t *testing.T, spec crashSpec) {
	raw, _ := json.Marshal(spec)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+string(raw))
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("child exited cleanly; output:\n%s", out)
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed at %s: %v; output:\n%s", spec.Step, err, out)
	}
}

func TestCrash(t *testing.T) {
	for _, c := range crashOps {
		for i, step := range c.steps {
			committed := c.commit != "" && i >= slices.Index(c.steps, c.commit)
			t.Run(c.op+"/"+step, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				id := crashSetup(t, dir, c.op)
				runCrashChild(t, crashSpec{Dir: dir, Op: c.op, Step: step, UploadID: id})
				s := openStore(t, dir)
				assertClean(t, s, "bkt")
				verifyCrash(t, s, c.op, id, committed)
				assertClean(t, s, "bkt")
			})
		}
	}
}

// verifyCrash checks the reopened store is in the state before the
// operation's commit (committed false) or after it, and still works.
func verifyCrash(t *testing.T, s *Store, op, id string, committed bool) {
	wantObject := func(key string, want []byte, etag string) {
		t.Helper()
		got, info := readObject(t, s, key)
		if !bytes.Equal(got, want) || info.ETag != etag {
			t.Fatalf("%q: %d bytes etag %s, want %d bytes etag %s", key, len(got), info.ETag, len(want), etag)
		}
	}
	// wantParts checks the upload lists exactly these parts, whole, and that
	// it completes to their concatenation.
	wantParts := func(parts ...[]byte) {
		t.Helper()
		listed, _, err := s.ListParts("bkt", upKey, id, 0, 0)
		if err != nil {
			t.Fatalf("ListParts: %v", err)
		}
		if len(listed) != len(parts) {
			t.Fatalf("%d parts listed, want %d", len(listed), len(parts))
		}
		var list []CompletePart
		for i, p := range listed {
			if p.Number != i+1 || p.ETag != md5Hex(parts[i]) || p.Size != int64(len(parts[i])) || p.CRC64 != crcOf(parts[i]) {
				t.Fatalf("part %d = %+v, not the expected body", i+1, p)
			}
			list = append(list, CompletePart{p.Number, p.ETag})
		}
		info, err := s.CompleteUpload("bkt", upKey, id, list, CompleteOptions{})
		if err != nil {
			t.Fatalf("CompleteUpload: %v", err)
		}
		if info.ETag != multipartETag(parts...) {
			t.Fatalf("etag %s, want %s", info.ETag, multipartETag(parts...))
		}
		wantObject(upKey, bytes.Join(parts, nil), info.ETag)
	}
	wantUploads := func(n int) {
		t.Helper()
		res, err := s.ListUploads("bkt", ListUploadsQuery{})
		if err != nil || len(res.Uploads) != n {
			t.Fatalf("ListUploads: %d uploads (%v), want %d", len(res.Uploads), err, n)
		}
	}

	switch op {
	case "put", "put-midbody":
		if committed {
			wantObject("obj", objV2, md5Hex(objV2))
		} else {
			wantObject("obj", objV1, md5Hex(objV1))
		}
		wantParts(partA, part2)
	case "part", "part-midbody":
		if committed {
			wantParts(partB, part2)
		} else {
			wantParts(partA, part2)
		}
	case "part-new":
		if committed {
			wantParts(partA, part2, part3)
		} else {
			wantParts(partA, part2)
		}
	case "complete":
		if committed {
			wantObject(upKey, bytes.Join([][]byte{partA, part2, part3}, nil), multipartETag(partA, part2, part3))
			wantUploads(0)
			_, _, err := s.ListParts("bkt", upKey, id, 0, 0)
			wantErr(t, err, 404, "NoSuchUpload")
		} else {
			wantObject(upKey, objV1, md5Hex(objV1))
			wantUploads(1)
			wantParts(partA, part2, part3)
		}
	case "abort":
		wantUploads(0)
		_, _, err := s.ListParts("bkt", upKey, id, 0, 0)
		wantErr(t, err, 404, "NoSuchUpload")
	case "delete":
		_, err := s.HeadObject("bkt", "obj")
		wantErr(t, err, 404, "NoSuchKey")
		wantParts(partA, part2)
	case "initiate":
		res, _ := s.ListUploads("bkt", ListUploadsQuery{Prefix: newKey})
		if len(res.Uploads) != 1 {
			t.Fatalf("initiated upload missing: %+v", res.Uploads)
		}
	}
}

// TestCompleteLinksParts checks Complete does not copy: the object's part
// files are the uploaded part files themselves (same inodes).
func TestCompleteLinksParts(t *testing.T) {
	s, _ := newStore(t)
	up, _ := s.InitiateUpload("bkt", "k", nil, Attrs{})
	uploadPart(t, s, "k", up.UploadID, 1, partA)
	uploadPart(t, s, "k", up.UploadID, 2, part2)
	var inodes []uint64
	for n := 1; n <= 2; n++ {
		rec, err := s.readPart(s.uploadDir("bkt", up.UploadID), n)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(s.uploadDir("bkt", up.UploadID) + "/" + rec.File)
		if err != nil {
			t.Fatal(err)
		}
		inodes = append(inodes, fi.Sys().(*syscall.Stat_t).Ino)
	}
	if _, err := s.CompleteUpload("bkt", "k", up.UploadID, nil, CompleteOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.readObject("bkt", "k")
	if err != nil {
		t.Fatal(err)
	}
	for i, seg := range rec.segments(s.blobsDir("bkt")) {
		fi, err := os.Stat(seg.path)
		if err != nil {
			t.Fatal(err)
		}
		if ino := fi.Sys().(*syscall.Stat_t).Ino; ino != inodes[i] {
			t.Fatalf("part %d was copied (inode %d, uploaded as %d)", i+1, ino, inodes[i])
		}
	}
}
