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
func waitStopped(int, time.Duration, <-chan struct{}) error { return nil }

// processGone reports whether exited is closed: a zombie cannot be told
// here.
func processGone(_ int, exited <-chan struct{}) bool {
	select {
	case <-exited:
		return true
	default:
		return false
	}
}
