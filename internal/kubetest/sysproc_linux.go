package kubetest

import "syscall"

// sysProcAttr has the kernel kill the API server if the test binary dies
// without calling Stop (a panic or a test timeout), so no server outlives
// its test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
