package browser

import (
	"fmt"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// proc is a process this package started in a process group of its own,
// so that stopping it also stops what it started (Firefox's content
// processes, WebKitWebDriver's MiniBrowser and its web processes).
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's, valid once done is closed
}

// startProc starts cmd in a new process group. The kernel kills it if the
// thread that started it ends (Pdeathsig), so it starts from a goroutine
// locked to its thread until the process exits (go.dev/issue/27505): a test
// binary that dies (a timeout panic) leaves no browser behind.
func startProc(cmd *exec.Cmd) (*proc, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	p := &proc{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	return p, nil
}

// pid is the process's id, which is also its process group's.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// kill sends SIGKILL to the whole process group and waits, at most 10 s,
// for the leader to exit. Members that outlive their leader get the signal
// too: they are in the group whatever their parent became.
func (p *proc) kill() error {
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit 10 s after SIGKILL", p.cmd.Path, p.pid())
	}
	// The leader is gone; kill stragglers again (a child forking just as
	// the first signal arrived) until none is left.
	return killGroup(p.pid())
}

// exited waits up to d for the process to exit by itself.
func (p *proc) exited(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// killGroup sends SIGKILL to process group pgid and waits, at most 5 s,
// until the group is gone (its members exited and were reaped).
func killGroup(pgid int) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil {
			return nil // ESRCH: no process left in the group
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process group %d still has processes 5 s after SIGKILL", pgid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
