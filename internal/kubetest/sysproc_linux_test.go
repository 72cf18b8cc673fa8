package kubetest

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestZombie: a child that exited and is not yet reaped still takes a
// signal, so Resume asks /proc whether it is a zombie before continuing it.
func TestZombie(t *testing.T) {
	t.Parallel()
	assert.False(t, zombie(os.Getpid()), "a running process")
	assert.False(t, processGone(os.Getpid(), make(chan struct{})))
	cmd := exec.Command("true")
	require.NoError(t, cmd.Start())
	// Wait for the child to exit and leave it unreaped (WNOWAIT): a zombie
	// until cmd.Wait.
	const pPID = 1
	var info [128]byte // siginfo_t
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(cmd.Process.Pid),
			uintptr(unsafe.Pointer(&info)), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		if errno != syscall.EINTR {
			require.Zero(t, errno)
			break
		}
	}
	assert.True(t, zombie(cmd.Process.Pid), "an exited child not yet reaped")
	assert.True(t, processGone(cmd.Process.Pid, make(chan struct{})))
	require.NoError(t, cmd.Wait())
	assert.False(t, zombie(cmd.Process.Pid), "a reaped child has no /proc entry")
}
