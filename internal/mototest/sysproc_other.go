//go:build unix && !linux

package mototest

import "syscall"

// sysProcAttr puts the server in its own process group; Close kills the
// group.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
