//go:build unix

package localcloud

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// The crash tests run the local cloud in a child process (this test binary
// re-executed into TestCrashHelperProcess) and kill it with SIGKILL, either
// from the store's step hook at an exact point or from the parent at a random
// moment, while the real OSS SDK talks to it. A fresh child on the same data
// directory must then show each interrupted call either not applied or
// applied whole, and an upload whose Complete did not commit must still be
// completable.

const (
	envCrashDir  = "OSSUP_CRASH_CHILD_DATADIR"
	envCrashOSS  = "OSSUP_CRASH_CHILD_OSS_ADDR"
	envCrashSTS  = "OSSUP_CRASH_CHILD_STS_ADDR"
	envCrashStep = "OSSUP_CRASH_CHILD_STEP" // "step" or "step#n": die at its n-th occurrence
	crashReady   = "ossup-crash-child-ready"
)

// TestCrashHelperProcess is the child process of the crash tests; run
// directly (without the environment the parent sets) it does nothing.
func TestCrashHelperProcess(t *testing.T) {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		return
	}
	cl, err := Start(Config{
		DataDir:   dir,
		OSSAddr:   os.Getenv(envCrashOSS),
		STSAddr:   os.Getenv(envCrashSTS),
		StoreStep: crashHook(os.Getenv(envCrashStep)),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child: start:", err)
		os.Exit(3)
	}
	fmt.Println(crashReady)
	// The parent holds the other end of stdin: EOF means it is gone, and the
	// child must not outlive it.
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = cl.Close()
	os.Exit(0)
}

// crashHook returns a StoreStep hook that SIGKILLs the process at the n-th
// occurrence of the step named in spec ("step" or "step#n").
func crashHook(spec string) func(string) {
	if spec == "" {
		return nil
	}
	name, nth := spec, int64(1)
	if i := strings.LastIndexByte(spec, '#'); i >= 0 {
		name = spec[:i]
		n, err := strconv.ParseInt(spec[i+1:], 10, 64)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "crash child: bad step spec %q\n", spec)
			os.Exit(3)
		}
		nth = n
	}
	var seen atomic.Int64
	return func(step string) {
		if step == name && seen.Add(1) == nth {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			// Nothing may run past the step, even if delivery lags.
			time.Sleep(time.Hour)
		}
	}
}

// crashEnv is one data directory and the fixed loopback addresses its
// successive child processes listen on.
type crashEnv struct {
	dir, ossAddr, stsAddr string
}

func newCrashEnv(t *testing.T) *crashEnv {
	return &crashEnv{dir: t.TempDir(), ossAddr: freeAddr(t), stsAddr: freeAddr(t)}
}

// freeAddr returns a loopback address that was free a moment ago, which the
// successive children rebind after each kill (Go listeners set
// SO_REUSEADDR). It lies below the kernel's ephemeral range when it can, so
// that no outgoing connection takes the port while a child is down.
var (
	usedPortsMu sync.Mutex
	usedPorts   = map[int]bool{}
)

func freeAddr(t *testing.T) string {
	t.Helper()
	lo := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				lo = n
			}
		}
	}
	usedPortsMu.Lock()
	defer usedPortsMu.Unlock()
	for range 100 {
		if lo <= 20000 {
			break
		}
		port := 20000 + rand.IntN(lo-20000)
		if usedPorts[port] {
			continue // handed to another environment of this process
		}
		usedPorts[port] = true
		if ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			ln.Close()
			return ln.Addr().String()
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	return ln.Addr().String()
}

// child is a running local cloud process.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	exited chan struct{} // closed once Wait has returned; state is set then
	state  *os.ProcessState
	stderr syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// readyWriter closes ready when the child prints the ready line.
type readyWriter struct {
	once  sync.Once
	ready chan struct{}
	buf   syncBuffer
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), crashReady+"\n") {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

// start runs a child on the environment's directory and addresses; step, if
// set, is where it kills itself. The child is killed at test end.
func (e *crashEnv) start(t *testing.T, step string) (*child, *oss.Client) {
	t.Helper()
	c := &child{exited: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^TestCrashHelperProcess$", "-test.count=1")
	c.cmd.Env = append(os.Environ(),
		envCrashDir+"="+e.dir, envCrashOSS+"="+e.ossAddr, envCrashSTS+"="+e.stsAddr, envCrashStep+"="+step)
	out := &readyWriter{ready: make(chan struct{})}
	c.cmd.Stdout = out
	c.cmd.Stderr = &c.stderr
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	go func() {
		_ = c.cmd.Wait()
		c.state = c.cmd.ProcessState
		close(c.exited)
	}()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.exited
	})
	select {
	case <-out.ready:
	case <-c.exited:
		t.Fatalf("child exited before it was ready (%v): %s%s", c.state, out.buf.String(), c.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("child not ready after 30s: %s%s", out.buf.String(), c.stderr.String())
	}
	cfg := &Cloud{OSSEndpoint: "http://" + e.ossAddr, Config: Config{
		Region: DevRegion, AccessKeyID: DevAccessKeyID, AccessKeySecret: DevAccessKeySecret,
	}}
	// A fresh client per child: no pooled connection to a dead process, and
	// no retry that could replay a request against the restarted one.
	return c, rootClient(cfg, func(oc *oss.Config) {
		oc.WithRetryMaxAttempts(1).WithConnectTimeout(5 * time.Second).WithReadWriteTimeout(30 * time.Second)
	})
}

// kill SIGKILLs the child from outside and waits for it.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill child: %v", err)
	}
	c.wait(t)
}

// wait waits for the child to exit and asserts SIGKILL ended it.
func (c *child) wait(t *testing.T) {
	t.Helper()
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("child still running 15s after the crash point")
	}
	ws, ok := c.state.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not by SIGKILL; stderr: %s", c.state, c.stderr.String())
	}
}

// expectCrash asserts the call failed on the transport (the server died
// before answering) and that the child died at its step.
func expectCrash(t *testing.T, c *child, step string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("the call succeeded: step %s was never reached", step)
	}
	var se *oss.ServiceError
	if errors.As(err, &se) {
		t.Fatalf("the call got a service answer instead of a dead connection: %v", err)
	}
	c.wait(t)
}

// outcome says how an interrupted call shows after the restart.
type outcome string

const (
	notApplied outcome = "not applied" // the state before the call, intact
	applied    outcome = "applied"     // the call took effect whole
)

func md5ETag(b []byte) string {
	sum := md5.Sum(b)
	return `"` + strings.ToUpper(hex.EncodeToString(sum[:])) + `"`
}

func isCode(err error, code string) bool {
	var se *oss.ServiceError
	return errors.As(err, &se) && se.Code == code
}

// getObject reads key whole; the SDK verifies the body's CRC64 against the
// header on the way.
func getObject(c *oss.Client, key string) ([]byte, *oss.GetObjectResult, error) {
	res, err := c.GetObject(context.Background(), &oss.GetObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return b, res, err
}

// checkObject asserts Head and Get both give exactly want, with its CRC64.
func checkObject(t *testing.T, c *oss.Client, key string, want []byte, typ string) {
	t.Helper()
	checkHead(t, c, key, want, typ)
	got, res, err := getObject(c, key)
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	checkGot(t, key, got, res, want)
}

func checkGot(t *testing.T, key string, got []byte, res *oss.GetObjectResult, want []byte) {
	t.Helper()
	crc := strconv.FormatUint(crcOf(want), 10)
	if sha(got) != sha(want) || oss.ToString(res.HashCRC64) != crc {
		t.Fatalf("GetObject %s: %d bytes (sha256 %x) crc %s; want %d bytes (sha256 %x) crc %s", key,
			len(got), sha(got), oss.ToString(res.HashCRC64), len(want), sha(want), crc)
	}
}

// checkHead asserts HeadObject describes exactly want.
func checkHead(t *testing.T, c *oss.Client, key string, want []byte, typ string) {
	t.Helper()
	head, err := c.HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
	if err != nil {
		t.Fatalf("HeadObject %s: %v", key, err)
	}
	crc := strconv.FormatUint(crcOf(want), 10)
	if head.ContentLength != int64(len(want)) || oss.ToString(head.HashCRC64) != crc || oss.ToString(head.ObjectType) != typ {
		t.Fatalf("HeadObject %s: %d bytes crc %s type %s; want %d bytes crc %s type %s", key,
			head.ContentLength, oss.ToString(head.HashCRC64), oss.ToString(head.ObjectType), len(want), crc, typ)
	}
	got, res, err := getObject(c, key)
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	if sha(got) != sha(want) || oss.ToString(res.HashCRC64) != crc {
		t.Fatalf("GetObject %s: %d bytes (sha256 %x) crc %s; want %d bytes (sha256 %x) crc %s", key,
			len(got), sha(got), oss.ToString(res.HashCRC64), len(want), sha(want), crc)
	}
}

// checkCompleteOutcome checks the state after a crash during the Complete of
// parts into key, which held old (nil: nothing) before: either the whole new
// object and no upload, or the old state and an upload that still has every
// part. With finish, it then completes such an upload and checks the bytes.
func checkCompleteOutcome(t *testing.T, c *oss.Client, key, id string, parts []sentPart, old []byte, finish bool) outcome {
	t.Helper()
	want := concat(parts)
	got, res, err := getObject(c, key)
	switch {
	case err == nil && bytes.Equal(got, want):
		checkGot(t, key, got, res, want)
		checkHead(t, c, key, want, "Multipart")
		_, err := listAllParts(c, key, id)
		serviceError(t, err, 404, "NoSuchUpload")
		return applied
	case err == nil && old != nil && bytes.Equal(got, old):
		checkGot(t, key, got, res, old)
	case err != nil && old == nil && isCode(err, "NoSuchKey"):
	case err != nil:
		t.Fatalf("GetObject after the crash: %v", err)
	default:
		t.Fatalf("torn object after the crash: %d bytes (sha256 %x); want %d (sha256 %x) or the old %d", len(got), sha(got), len(want), sha(want), len(old))
	}
	listed, err := listAllParts(c, key, id)
	if err != nil {
		t.Fatalf("object not completed, and ListParts fails: %v", err)
	}
	if len(listed) != len(parts) {
		t.Fatalf("object not completed, and ListParts shows %d parts, want %d", len(listed), len(parts))
	}
	for i := range parts {
		checkListedPart(t, listed[i], parts[i])
	}
	if finish {
		finishUpload(t, c, key, id, parts)
	}
	return notApplied
}

// finishUpload completes an upload and checks the object and that the upload
// is gone.
func finishUpload(t *testing.T, c *oss.Client, key, id string, parts []sentPart) {
	t.Helper()
	want := concat(parts)
	res, err := completeParts(context.Background(), c, key, id, parts)
	if err != nil {
		t.Fatalf("Complete after the crash: %v", err)
	}
	if oss.ToString(res.HashCRC64) != strconv.FormatUint(crcOf(want), 10) {
		t.Fatalf("Complete after the crash: CRC %s, want %d", oss.ToString(res.HashCRC64), crcOf(want))
	}
	checkObject(t, c, key, want, "Multipart")
	_, err = listAllParts(c, key, id)
	serviceError(t, err, 404, "NoSuchUpload")
}

func putObject(ctx context.Context, c *oss.Client, key string, data []byte) error {
	_, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), Body: bytes.NewReader(data)})
	return err
}

func mustPut(t *testing.T, c *oss.Client, key string, data []byte) {
	t.Helper()
	if err := putObject(context.Background(), c, key, data); err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
}

// crashScenario performs a call that the child dies in at step, restarts the
// cloud and returns how the call shows; it fails the test on anything else.
type crashScenario func(t *testing.T, e *crashEnv, step string) outcome

// crashComplete: Complete of a 3-part upload, over an existing object or not.
func crashComplete(overwrite bool) crashScenario {
	return func(t *testing.T, e *crashEnv, step string) outcome {
		ctx := context.Background()
		ch, c := e.start(t, step)
		const key = "crash/complete ü.bin"
		var old []byte
		if overwrite {
			old = randomBytes(200_000, 100)
			mustPut(t, c, key, old)
		}
		id := initiate(t, c, key, nil)
		parts := []sentPart{
			mustUploadPart(t, c, key, id, 1, randomBytes(150_000, 101)),
			mustUploadPart(t, c, key, id, 2, randomBytes(110_000, 102)),
			mustUploadPart(t, c, key, id, 4, randomBytes(30_000, 103)),
		}
		_, err := completeParts(ctx, c, key, id, parts)
		expectCrash(t, ch, step, err)
		_, c = e.start(t, "")
		return checkCompleteOutcome(t, c, key, id, parts, old, true)
	}
}

// crashPart: UploadPart of a new part 3, or of a replacement of part 2.
func crashPart(replace bool) crashScenario {
	return func(t *testing.T, e *crashEnv, step string) outcome {
		ctx := context.Background()
		ch, c := e.start(t, step+"#3") // the third UploadPart dies
		const key = "crash/part.bin"
		id := initiate(t, c, key, nil)
		parts := []sentPart{
			mustUploadPart(t, c, key, id, 1, randomBytes(150_000, 201)),
			mustUploadPart(t, c, key, id, 2, randomBytes(120_000, 202)),
		}
		next := sentPart{Number: 3, Data: randomBytes(60_000, 203)}
		if replace {
			next = sentPart{Number: 2, Data: randomBytes(130_000, 204)}
		}
		next.ETag = md5ETag(next.Data)
		_, err := uploadPart(ctx, c, key, id, next.Number, next.Data)
		expectCrash(t, ch, step, err)
		_, c = e.start(t, "")

		listed, err := listAllParts(c, key, id)
		if err != nil {
			t.Fatalf("ListParts after the crash: %v", err)
		}
		got := outcome("")
		switch {
		case replace && len(listed) == 2:
			checkListedPart(t, listed[0], parts[0])
			if oss.ToString(listed[1].ETag) == next.ETag {
				checkListedPart(t, listed[1], next)
				got, parts[1] = applied, next
			} else {
				checkListedPart(t, listed[1], parts[1])
				got = notApplied
			}
		case !replace && len(listed) == 2:
			checkListedPart(t, listed[0], parts[0])
			checkListedPart(t, listed[1], parts[1])
			got = notApplied
		case !replace && len(listed) == 3:
			checkListedPart(t, listed[0], parts[0])
			checkListedPart(t, listed[1], parts[1])
			checkListedPart(t, listed[2], next)
			got, parts = applied, append(parts, next)
		default:
			t.Fatalf("ListParts after the crash: %d parts: %+v", len(listed), listed)
		}
		if got == notApplied {
			// The client never saw an answer, so it sends the part again.
			p := mustUploadPart(t, c, key, id, next.Number, next.Data)
			if replace {
				parts[1] = p
			} else {
				parts = append(parts, p)
			}
		}
		res, err := completeParts(ctx, c, key, id, parts)
		if err != nil {
			t.Fatalf("Complete after the crash: %v", err)
		}
		if oss.ToString(res.HashCRC64) != strconv.FormatUint(crcOf(concat(parts)), 10) {
			t.Fatalf("Complete after the crash: CRC %s, want %d", oss.ToString(res.HashCRC64), crcOf(concat(parts)))
		}
		checkObject(t, c, key, concat(parts), "Multipart")
		return got
	}
}

// crashPut: PutObject over an existing object.
func crashPut(t *testing.T, e *crashEnv, step string) outcome {
	ch, c := e.start(t, step+"#2") // the first Put creates the old version
	const key = "crash/put.bin"
	old, next := randomBytes(180_000, 301), randomBytes(250_000, 302)
	mustPut(t, c, key, old)
	err := putObject(context.Background(), c, key, next)
	expectCrash(t, ch, step, err)
	_, c = e.start(t, "")
	got, _, err := getObject(c, key)
	if err != nil {
		t.Fatalf("GetObject after the crash: %v", err)
	}
	switch {
	case bytes.Equal(got, old):
		checkObject(t, c, key, old, "Normal")
		return notApplied
	case bytes.Equal(got, next):
		checkObject(t, c, key, next, "Normal")
		return applied
	}
	t.Fatalf("torn object after the crash: %d bytes; want %d (old) or %d (new)", len(got), len(old), len(next))
	return ""
}

// crashInitiate: InitiateMultipartUpload; the client never learns the id,
// so it looks for the upload in ListMultipartUploads.
func crashInitiate(t *testing.T, e *crashEnv, step string) outcome {
	ch, c := e.start(t, step)
	const key = "crash/initiate.bin"
	_, err := c.InitiateMultipartUpload(context.Background(), &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
	expectCrash(t, ch, step, err)
	_, c = e.start(t, "")
	res, err := c.ListMultipartUploads(context.Background(), &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(DevBucket), Prefix: oss.Ptr("crash/")})
	if err != nil {
		t.Fatalf("ListMultipartUploads after the crash: %v", err)
	}
	switch len(res.Uploads) {
	case 0:
		return notApplied
	case 1:
		id := oss.ToString(res.Uploads[0].UploadId)
		if k := oss.ToString(res.Uploads[0].Key); k != key {
			t.Fatalf("upload for key %q, want %q", k, key)
		}
		if listed, err := listAllParts(c, key, id); err != nil || len(listed) != 0 {
			t.Fatalf("ListParts of the new upload: %v parts, err %v", len(listed), err)
		}
		data := randomBytes(50_000, 401)
		p := mustUploadPart(t, c, key, id, 1, data)
		if _, err := completeParts(context.Background(), c, key, id, []sentPart{p}); err != nil {
			t.Fatalf("Complete of the recovered upload: %v", err)
		}
		checkObject(t, c, key, data, "Multipart")
		return applied
	}
	t.Fatalf("%d uploads after one interrupted Initiate", len(res.Uploads))
	return ""
}

// crashAbort: AbortMultipartUpload of a 2-part upload.
func crashAbort(t *testing.T, e *crashEnv, step string) outcome {
	ch, c := e.start(t, step)
	const key = "crash/abort.bin"
	id := initiate(t, c, key, nil)
	parts := []sentPart{
		mustUploadPart(t, c, key, id, 1, randomBytes(150_000, 501)),
		mustUploadPart(t, c, key, id, 2, randomBytes(10_000, 502)),
	}
	_, err := c.AbortMultipartUpload(context.Background(), &oss.AbortMultipartUploadRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key), UploadId: oss.Ptr(id)})
	expectCrash(t, ch, step, err)
	_, c = e.start(t, "")
	listed, err := listAllParts(c, key, id)
	if isCode(err, "NoSuchUpload") {
		return applied
	}
	if err != nil || len(listed) != len(parts) {
		t.Fatalf("after an interrupted Abort: %d parts, err %v", len(listed), err)
	}
	for i := range parts {
		checkListedPart(t, listed[i], parts[i])
	}
	return notApplied
}

// crashDelete: DeleteObject.
func crashDelete(t *testing.T, e *crashEnv, step string) outcome {
	ch, c := e.start(t, step)
	const key = "crash/delete.bin"
	data := randomBytes(120_000, 601)
	mustPut(t, c, key, data)
	_, err := c.DeleteObject(context.Background(), &oss.DeleteObjectRequest{Bucket: oss.Ptr(DevBucket), Key: oss.Ptr(key)})
	expectCrash(t, ch, step, err)
	_, c = e.start(t, "")
	_, _, err = getObject(c, key)
	if isCode(err, "NoSuchKey") {
		return applied
	}
	checkObject(t, c, key, data, "Normal")
	return notApplied
}

// crashCase is a scenario killed at one step, with the outcome that step's
// place before or after the documented commit point implies.
type crashCase struct {
	name, step string
	run        crashScenario
	want       outcome
}

// TestCrashAtStoreSteps kills the local cloud at every step the store
// reports, through the real SDK, and checks that a restart shows the
// interrupted call either not applied or applied whole, matching the commit
// point the store documents.
func TestCrashAtStoreSteps(t *testing.T) {
	cases := []crashCase{
		{"put", "put:written", crashPut, notApplied},
		{"put", "put:linked", crashPut, notApplied},
		{"put", "put:committed", crashPut, applied},
		{"initiate", "initiate:committed", crashInitiate, applied},
		{"new-part", "part:written", crashPart(false), notApplied},
		{"new-part", "part:linked", crashPart(false), notApplied},
		{"new-part", "part:committed", crashPart(false), applied},
		{"replace-part", "part:written", crashPart(true), notApplied},
		{"replace-part", "part:linked", crashPart(true), notApplied},
		{"replace-part", "part:committed", crashPart(true), applied},
		{"complete-new", "complete:linked", crashComplete(false), notApplied},
		{"complete-new", "complete:committed", crashComplete(false), applied},
		{"complete-new", "complete:done", crashComplete(false), applied},
		{"complete-overwrite", "complete:linked", crashComplete(true), notApplied},
		{"complete-overwrite", "complete:committed", crashComplete(true), applied},
		{"complete-overwrite", "complete:done", crashComplete(true), applied},
		{"abort", "abort:removed", crashAbort, applied},
		{"delete", "delete:committed", crashDelete, applied},
	}

	// Every step the store documents must be exercised here.
	doc, err := os.ReadFile("ossstore/doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^//\t([a-z]+:[a-z]+)\s`).FindAllSubmatch(doc, -1) {
		step := string(m[1])
		if !slices.ContainsFunc(cases, func(c crashCase) bool { return c.step == step }) {
			t.Errorf("documented store step %s has no crash case", step)
		}
	}

	for _, tc := range cases {
		t.Run(tc.name+"/"+tc.step, func(t *testing.T) {
			t.Parallel()
			got := tc.run(t, newCrashEnv(t), tc.step)
			t.Logf("killed at %s: %s", tc.step, got)
			if got != tc.want {
				t.Errorf("killed at %s: call %s after restart, but the store documents it as %s", tc.step, got, tc.want)
			}
		})
	}
}

// uploadAll uploads parts with a few concurrent workers until done or ctx
// ends, calling ack for each acknowledged part.
func uploadAll(ctx context.Context, c *oss.Client, key, id string, parts []sentPart, workers int, ack func(sentPart)) {
	jobs := make(chan sentPart)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				if got, err := uploadPart(ctx, c, key, id, p.Number, p.Data); err == nil {
					ack(got)
				}
			}
		}()
	}
	for _, p := range parts {
		if ctx.Err() != nil {
			break
		}
		jobs <- p
	}
	close(jobs)
	wg.Wait()
}

// noise returns n reproducible pseudo-random bytes, fast even under the race
// detector (randomBytes writes byte by byte, which it instruments).
func noise(n int, seed uint64) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b)
	return b
}

// manyParts splits data into parts of size bytes (the last one shorter).
func manyParts(data []byte, size int) []sentPart {
	var parts []sentPart
	for off, n := 0, int32(1); off < len(data); off, n = off+size, n+1 {
		end := min(off+size, len(data))
		parts = append(parts, sentPart{Number: n, Data: data[off:end], ETag: md5ETag(data[off:end])})
	}
	return parts
}

// TestCrashRandomlyDuringComplete kills the process from outside at a random
// moment while a Complete of many parts is in flight.
func TestCrashRandomlyDuringComplete(t *testing.T) {
	const (
		seed     = 20240611
		rounds   = 10
		partSize = 100 * 1024
		nParts   = 100
	)
	rng := rand.New(rand.NewPCG(seed, seed))
	e := newCrashEnv(t)
	const key = "crash/random-complete.bin"
	ctx := context.Background()

	prepare := func(c *oss.Client, round int) (string, []sentPart) {
		id := initiate(t, c, key, nil)
		parts := manyParts(noise(nParts*partSize-partSize/2, uint64(seed+round)), partSize)
		var mu sync.Mutex
		acked := make(map[int32]sentPart)
		uploadAll(ctx, c, key, id, parts, 8, func(p sentPart) {
			mu.Lock()
			acked[p.Number] = p
			mu.Unlock()
		})
		for i, p := range parts {
			a, ok := acked[p.Number]
			if !ok || a.CRC != crcOf(p.Data) || a.ETag != p.ETag {
				t.Fatalf("round %d: part %d not acknowledged intact", round, p.Number)
			}
			parts[i] = a
		}
		return id, parts
	}

	// Calibrate: how long a Complete of this size takes here, end to end.
	ch, c := e.start(t, "")
	id, parts := prepare(c, -1)
	began := time.Now()
	if _, err := completeParts(ctx, c, key, id, parts); err != nil {
		t.Fatalf("calibration Complete: %v", err)
	}
	took := time.Since(began)
	old := concat(parts)
	t.Logf("a %d-part Complete takes %v", nParts, took)

	// An upload whose Complete did not take is killed again in the next
	// round: it must stay completable through any number of crashes.
	id, parts = "", nil
	counts := map[outcome]int{}
	for round := range rounds {
		if id == "" {
			id, parts = prepare(c, round)
		}
		delay := time.Duration(rng.Int64N(int64(took)*3/2 + 1))
		done := make(chan error, 1)
		go func() {
			_, err := completeParts(ctx, c, key, id, parts)
			done <- err
		}()
		time.Sleep(delay)
		ch.kill(t)
		err := <-done
		ch, c = e.start(t, "")
		got := checkCompleteOutcome(t, c, key, id, parts, old, false)
		if err == nil && got != applied {
			t.Fatalf("round %d: Complete was acknowledged but is gone after the crash", round)
		}
		t.Logf("round %d: killed %v after sending Complete of upload %s (acknowledged: %v): %s", round, delay, id, err == nil, got)
		counts[got]++
		if got == applied {
			old, id = concat(parts), ""
		}
	}
	if id != "" {
		finishUpload(t, c, key, id, parts)
	}
	t.Logf("outcomes over %d rounds: %v", rounds, counts)
}

// TestCrashRandomlyDuringUploadParts kills the process from outside while
// parts stream in concurrently, and checks that every acknowledged part
// survived and every other part is either absent or whole.
func TestCrashRandomlyDuringUploadParts(t *testing.T) {
	const (
		seed   = 7_100_042
		rounds = 3
	)
	rng := rand.New(rand.NewPCG(seed, seed))
	e := newCrashEnv(t)
	ctx := context.Background()
	var last *child
	for round := range rounds {
		if last != nil {
			last.kill(t) // the data directory admits one process at a time
		}
		key := fmt.Sprintf("crash/random-parts-%d.bin", round)
		ch, c := e.start(t, "")
		id := initiate(t, c, key, nil)
		var parts []sentPart
		for n := int32(1); n <= 400; n++ {
			data := noise(100*1024+rng.IntN(64*1024), uint64(seed+round*1000)+uint64(n))
			parts = append(parts, sentPart{Number: n, Data: data, ETag: md5ETag(data)})
		}
		var mu sync.Mutex
		acked := make(map[int32]sentPart)
		wctx, cancel := context.WithCancel(ctx)
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			uploadAll(wctx, c, key, id, parts, 6, func(p sentPart) {
				mu.Lock()
				acked[p.Number] = p
				mu.Unlock()
			})
		}()
		delay := 100*time.Millisecond + time.Duration(rng.Int64N(int64(400*time.Millisecond)))
		time.Sleep(delay)
		ch.kill(t)
		cancel() // only after the kill, so no request is abandoned on a live server
		<-finished

		last, c = e.start(t, "")
		listed, err := listAllParts(c, key, id)
		if err != nil {
			t.Fatalf("round %d: ListParts after the crash: %v", round, err)
		}
		var kept []sentPart
		unacked := 0
		for _, lp := range listed {
			if lp.PartNumber < 1 || int(lp.PartNumber) > len(parts) {
				t.Fatalf("round %d: unknown part %d listed", round, lp.PartNumber)
			}
			p := parts[lp.PartNumber-1]
			checkListedPart(t, lp, p) // whole, acknowledged or not
			if a, ok := acked[p.Number]; ok {
				if a.ETag != p.ETag || a.CRC != crcOf(p.Data) {
					t.Fatalf("round %d: part %d acknowledged with etag %s crc %d", round, p.Number, a.ETag, a.CRC)
				}
			} else {
				unacked++
			}
			kept = append(kept, p)
		}
		for n := range acked {
			if !slices.ContainsFunc(listed, func(lp oss.Part) bool { return lp.PartNumber == n }) {
				t.Fatalf("round %d: acknowledged part %d lost", round, n)
			}
		}
		t.Logf("round %d: killed after %v: %d parts acknowledged, %d more found whole, %d listed in all", round, delay, len(acked), unacked, len(listed))
		if len(kept) == 0 {
			continue
		}
		// The data behind the records is whole too: assemble and read back.
		if _, err := completeParts(ctx, c, key, id, kept); err != nil {
			t.Fatalf("round %d: Complete of the surviving parts: %v", round, err)
		}
		checkObject(t, c, key, concat(kept), "Multipart")
	}
}
