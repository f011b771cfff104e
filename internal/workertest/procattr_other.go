//go:build !linux

package workertest

import "os/exec"

// dieWithParent has no portable equivalent outside Linux; Close stops
// workerd there.
func dieWithParent(*exec.Cmd) {}
