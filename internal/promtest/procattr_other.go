//go:build !linux

package promtest

import "os/exec"

// dieWithParent does nothing where the kernel cannot tie a child's life to
// its parent's; Stop still ends the processes.
func dieWithParent(*exec.Cmd) {}
