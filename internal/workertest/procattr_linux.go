package workertest

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill workerd if the process that started it
// dies first (a test binary killed on timeout, a bench interrupted), so no
// workerd outlives its test.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
