package monitor_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
)

// TestFileSinkOpensPastAPartialLastLine: a host that crashed in the
// middle of a write (or a disk that filled before it could truncate)
// leaves the file's last line cut short, without its newline. The sink
// opened it to append, and its next batch's first event was written
// onto that fragment: one line of the two, unreadable, at which
// ReadEvents stopped, hiding every event recorded after the restart. The
// sink now takes the fragment (an event never wholly written) back when
// it opens the file, as it does a write of its own cut short.
func TestFileSinkOpensPastAPartialLastLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	first := ev(monitor.KindAction, "i-1", 0)
	first.Seq = 1
	b, err := json.Marshal(first)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(append(b, '\n'), `{"seq":2,"time":"2026-`...), 0o644))

	fs, err := monitor.NewFileSink(monitor.FileConfig{Path: path})
	require.NoError(t, err)
	next := ev(monitor.KindAction, "i-2", time.Minute)
	next.Seq = 3
	require.NoError(t, fs.Write(t.Context(), []monitor.Event{next}))
	require.NoError(t, fs.Close())

	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	got, err := monitor.ReadEvents(f)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "i-1", got[0].ResourceID)
	assert.Equal(t, "i-2", got[1].ResourceID)
}

// TestFileSinkKeepsAWholeEventWithoutItsNewline: a write cut short just
// before its newline left the last event whole, and ReadEvents reads it;
// opening the sink took it back with the fragments, losing an event the
// trail had recorded. A last line that is a whole JSON value is kept and
// its line ended.
func TestFileSinkKeepsAWholeEventWithoutItsNewline(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	first := ev(monitor.KindAction, "i-1", 0)
	first.Seq = 1
	b, err := json.Marshal(first)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))

	fs, err := monitor.NewFileSink(monitor.FileConfig{Path: path})
	require.NoError(t, err)
	next := ev(monitor.KindAction, "i-2", time.Minute)
	next.Seq = 2
	require.NoError(t, fs.Write(t.Context(), []monitor.Event{next}))
	require.NoError(t, fs.Close())

	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	got, err := monitor.ReadEvents(f)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "i-1", got[0].ResourceID)
	assert.Equal(t, "i-2", got[1].ResourceID)
}
