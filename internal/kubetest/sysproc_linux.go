package kubetest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// sysProcAttr has the kernel kill the API server if the test binary dies
// without calling Stop (a panic or a test timeout), so no server outlives
// its test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// waitStopped returns once every thread of process pid is stopped (state
// T in /proc/pid/task/*/stat), so that a paused server answers nothing
// from then on: SIGSTOP is delivered to each thread asynchronously, and on
// a loaded host a thread could still answer a request sent right after
// the signal. It gives up after timeout.
func waitStopped(pid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		stopped, err := allThreadsStopped(pid)
		if err != nil || stopped {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kubetest: process %d not stopped within %v", pid, timeout)
		}
		<-tick.C
	}
}

func allThreadsStopped(pid int) (bool, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil {
		return false, fmt.Errorf("kubetest: threads of process %d: %w", pid, err)
	}
	if len(tasks) == 0 {
		return false, fmt.Errorf("kubetest: process %d has no threads in /proc", pid)
	}
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			return false, nil // a thread that just exited: look again
		}
		// The state follows the command name in parentheses, which may
		// itself hold spaces or parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) {
			return false, fmt.Errorf("kubetest: %s: unexpected %q", p, b)
		}
		if s := b[i+2]; s != 'T' && s != 't' {
			return false, nil
		}
	}
	return true, nil
}
