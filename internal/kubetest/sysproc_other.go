//go:build !linux

package kubetest

import "syscall"

// sysProcAttr is empty where the kernel cannot kill a child with its
// parent; Stop still stops the server.
func sysProcAttr() *syscall.SysProcAttr { return nil }
