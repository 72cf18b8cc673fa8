//go:build !linux

package kubetest

import (
	"syscall"
	"time"
)

// sysProcAttr is empty where the kernel cannot kill a child with its
// parent; Stop still stops the server.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// waitStopped cannot see a process's state here; Pause returns once the
// signal is sent.
func waitStopped(int, time.Duration) error { return nil }
