package monitor_test

import (
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
)

// A write the file system cut short (a full disk; here the file size
// limit) leaves no part of its batch in the file: the Log passes the
// batch again, and a partial line left in front of it made one line of
// the two, at which ReadEvents stopped, hiding every event after it.
// The limit is the process's, so the test runs in a child process.
func TestFileSinkPartialWriteLeavesNoPartialLine(t *testing.T) {
	t.Parallel()
	const child = "IDLESCALE_TEST_PARTIAL_WRITE"
	if os.Getenv(child) == "" {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestFileSinkPartialWriteLeavesNoPartialLine$", "-test.v")
		cmd.Env = append(os.Environ(), child+"="+t.TempDir())
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Contains(t, string(out), "--- PASS", "%s", out)
		return
	}
	path := filepath.Join(os.Getenv(child), "events.jsonl")
	fs, err := monitor.NewFileSink(monitor.FileConfig{Path: path})
	require.NoError(t, err)
	l, err := monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("file", fs))
	require.NoError(t, err)
	require.NoError(t, l.Record(t.Context(), ev(monitor.KindAction, "i-1", 0)))
	st, err := os.Stat(path)
	require.NoError(t, err)

	var old syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old))
	signal.Ignore(syscall.SIGXFSZ) // EFBIG instead of a signal
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: uint64(st.Size()) + 20, Max: old.Max}))
	err = l.Record(t.Context(), ev(monitor.KindAction, "i-2", 0))
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old))
	require.ErrorIs(t, err, monitor.ErrSink, "the write was cut short")

	require.NoError(t, l.Record(t.Context(), ev(monitor.KindAction, "i-3", 0)), "the backlog and the new event are written")
	require.NoError(t, fs.Close())
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	got, err := monitor.ReadEvents(f)
	require.NoError(t, err)
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ResourceID)
	}
	assert.Equal(t, []string{"i-1", "i-2", "i-3"}, ids)
}
