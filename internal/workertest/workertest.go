// Package workertest builds the Cloudflare Workers build of the backend
// (cmd/worker) and runs it in local workerd on loopback, for the server's
// worker tests and bench/worker.
//
// A build directory has the layout `make worker` gives worker/:
// workerd.capnp beside build/ (worker.mjs, the glue from worker/glue; the
// toolchain's wasm_exec.js; and app.wasm).
package workertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// BuildFlags are the go build flags of the worker, as the Makefile's worker
// target uses them. Turning inlining off (-l) shrinks the gzipped module by
// about half a megabyte, which the Workers size limits count.
var BuildFlags = []string{"-trimpath", "-gcflags=all=-l", "-ldflags=-s -w"}

// Root is the module root: the nearest directory from the working directory
// up that holds go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("workertest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Build writes the worker into dir: the glue and app.wasm into dir/build,
// and a copy of worker/workerd.capnp into dir. goBin is the go command.
func Build(ctx context.Context, goBin, root, dir string) error {
	return BuildProgram(ctx, goBin, root, dir, "./cmd/worker")
}

// BuildProgram is Build with another Go program (a package path relative
// to root) in app.wasm: one that serves through cmd/worker/glue.
func BuildProgram(ctx context.Context, goBin, root, dir, pkg string) error {
	build := filepath.Join(dir, "build")
	if err := os.RemoveAll(build); err != nil {
		return fmt.Errorf("workertest: %w", err)
	}
	if err := os.MkdirAll(build, 0o755); err != nil {
		return fmt.Errorf("workertest: %w", err)
	}
	goroot, err := exec.CommandContext(ctx, goBin, "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("workertest: go env GOROOT: %w", err)
	}
	// wasm_exec.js must come from the toolchain that builds app.wasm.
	for src, dst := range map[string]string{
		filepath.Join(root, "worker", "glue", "worker.mjs"):                             "worker.mjs",
		filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"): "wasm_exec.js",
	} {
		if err := copyFile(src, filepath.Join(build, dst)); err != nil {
			return err
		}
	}
	args := append([]string{"build"}, BuildFlags...)
	args = append(args, "-o", filepath.Join(build, "app.wasm"), pkg)
	gobuild := exec.CommandContext(ctx, goBin, args...)
	gobuild.Dir = root
	gobuild.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := gobuild.CombinedOutput(); err != nil {
		return fmt.Errorf("workertest: go build %s: %w\n%s", pkg, err, out)
	}
	src := filepath.Join(root, "worker", "workerd.capnp")
	dst := filepath.Join(dir, "workerd.capnp")
	if filepath.Clean(src) == filepath.Clean(dst) {
		return nil
	}
	return copyFile(src, dst)
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("workertest: %w", err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		return fmt.Errorf("workertest: %w", err)
	}
	return nil
}

// Workerd is the workerd binary: $OSSUP_WORKERD, or the one npm installed
// into worker/node_modules from worker/package-lock.json.
func Workerd(root string) (string, error) {
	if p := os.Getenv("OSSUP_WORKERD"); p != "" {
		return p, nil
	}
	p := filepath.Join(root, "worker", "node_modules", ".bin", "workerd")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("workertest: workerd is not installed (%w); run make deps (npm ci --prefix worker)", err)
	}
	return p, nil
}

// Worker is a running workerd serving one build.
type Worker struct {
	// URL is the worker's origin, http://127.0.0.1:<port>.
	URL string
	// Started is when the workerd process was started.
	Started time.Time

	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error
}

// Start runs workerd on the build in dir with env as its whole environment:
// the worker's bindings (worker/workerd.capnp reads every setting from it).
// It listens on a fresh loopback port, opened here and handed to workerd, so
// the port is known before workerd starts and no other process can take it.
func Start(workerd, dir string, env map[string]string) (*Worker, error) {
	return StartArgs(workerd, dir, env)
}

// StartArgs is Start with more arguments for workerd serve (e.g. its
// inspector, for a profile).
func StartArgs(workerd, dir string, env map[string]string, args ...string) (*Worker, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("workertest: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("workertest: %w", err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		return nil, fmt.Errorf("workertest: %w", err)
	}
	defer f.Close()
	w := &Worker{URL: "http://" + ln.Addr().String(), out: &lockedBuffer{}, done: make(chan struct{})}
	// The listener is descriptor 3 in the child (the first of ExtraFiles).
	w.cmd = exec.Command(workerd, append([]string{"serve", filepath.Join(dir, "workerd.capnp"), "--socket-fd", "http=3"}, args...)...)
	w.cmd.Dir = dir
	w.cmd.ExtraFiles = []*os.File{f}
	w.cmd.Stdout, w.cmd.Stderr = w.out, w.out
	dieWithParent(w.cmd)
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.cmd.Env = []string{}
	for _, k := range keys {
		w.cmd.Env = append(w.cmd.Env, k+"="+env[k])
	}
	w.Started = time.Now()
	if err := w.cmd.Start(); err != nil {
		return nil, fmt.Errorf("workertest: start workerd: %w", err)
	}
	go func() {
		w.err = w.cmd.Wait()
		close(w.done)
	}()
	return w, nil
}

// Ready waits until GET /healthz answers 200 and returns how long after the
// start that was: workerd's start-up, the module's compilation and the first
// run of the Go program.
func (w *Worker) Ready(ctx context.Context) (time.Duration, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		select {
		case <-w.done:
			return 0, fmt.Errorf("workertest: workerd exited: %v\n%s", w.err, w.Output())
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.URL+"/healthz", nil)
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(w.Started), nil
			}
			err = fmt.Errorf("/healthz answered %s", resp.Status)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("workertest: worker not ready: %w (last: %v)\n%s", ctx.Err(), err, w.Output())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Pid is workerd's process id.
func (w *Worker) Pid() int { return w.cmd.Process.Pid }

// Output is what workerd printed so far: its own messages and the worker's
// console (the Go program's stdout and stderr).
func (w *Worker) Output() string { return w.out.String() }

// Close stops workerd: SIGTERM, then SIGKILL after five seconds.
func (w *Worker) Close() error {
	select {
	case <-w.done:
		return nil
	default:
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.done
	}
	return nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
