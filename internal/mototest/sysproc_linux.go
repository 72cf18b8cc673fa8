package mototest

import "syscall"

// sysProcAttr puts the server in its own process group (Close kills the
// group) and has the kernel kill it if the test binary dies without
// calling Close, for example on a panic.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
