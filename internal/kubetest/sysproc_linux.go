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
// the signal. It gives up after timeout, or with errGone once the process
// has exited (a zombie, or exited is closed).
func waitStopped(pid int, timeout time.Duration, exited <-chan struct{}) error {
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
		select {
		case <-exited:
			return errGone
		case <-tick.C:
		}
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
	if zombie(pid) {
		return false, errGone
	}
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			return false, nil // a thread that just exited: look again
		}
		s, err := procState(p, b)
		if err != nil {
			return false, err
		}
		if s != 'T' && s != 't' {
			return false, nil
		}
	}
	return true, nil
}

// procState returns the state field of the stat file p that holds b. The
// state follows the command name in parentheses, which may itself hold
// spaces or parentheses.
func procState(p string, b []byte) (byte, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, fmt.Errorf("kubetest: %s: unexpected %q", p, b)
	}
	return b[i+2], nil
}

// zombie reports whether process pid has exited but is not yet reaped:
// its main thread is a zombie and no other thread is left. A process
// whose state cannot be read is not a zombie.
func zombie(pid int) bool {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	if err != nil || len(tasks) != 1 {
		return false
	}
	p := fmt.Sprintf("/proc/%d/stat", pid)
	b, err := os.ReadFile(p)
	if err != nil {
		return false
	}
	s, err := procState(p, b)
	return err == nil && (s == 'Z' || s == 'X')
}

// processGone reports whether process pid has exited: exited is closed,
// or the process is a zombie, which still takes a signal.
func processGone(pid int, exited <-chan struct{}) bool {
	select {
	case <-exited:
		return true
	default:
		return zombie(pid)
	}
}
