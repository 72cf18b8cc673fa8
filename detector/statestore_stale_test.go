package detector_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
)

// TestFileStateStoreRemovesStaleTempFiles: a process that crashed in the
// middle of a Save left its temporary file, and nothing removed it: a
// store restarted after every crash grew its directory by a file each
// time. NewFileStateStore removes the temporary files a Save makes
// (.tmp- and digits, regular files) modified more than an hour before,
// and nothing else: not one just written (a Save in flight, by another
// store on the directory), not a directory or a file of another name,
// not a state, however old.
func TestFileStateStoreRemovesStaleTempFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := detector.NewFileStateStore(dir)
	require.NoError(t, err)
	require.NoError(t, s.Save(t.Context(), "i-1", []byte("state of i-1")))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	stateFile := entries[0].Name()

	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	write := func(name string, stale bool) {
		t.Helper()
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte("half a state"), 0o600))
		if stale {
			require.NoError(t, os.Chtimes(p, old, old))
		}
	}
	write(".tmp-1234567", true)
	write(".tmp-42", true)
	write(".tmp-7654321", false) // a Save in flight
	write(".tmp-notes", true)
	write("notes.txt", true)
	require.NoError(t, os.Mkdir(filepath.Join(dir, ".tmp-999"), 0o700))
	require.NoError(t, os.Chtimes(filepath.Join(dir, ".tmp-999"), old, old))
	require.NoError(t, os.Chtimes(filepath.Join(dir, stateFile), old, old))

	s, err = detector.NewFileStateStore(dir)
	require.NoError(t, err)
	var names []string
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{stateFile, ".tmp-7654321", ".tmp-notes", "notes.txt", ".tmp-999"}, names)
	got, err := s.Load(t.Context(), "i-1")
	require.NoError(t, err)
	assert.Equal(t, "state of i-1", string(got))
}

// TestFileStateStoreStaleTempAge: a temporary file is stale an hour after
// its last write on the file system's clock: one written two hours
// before is removed, one written half an hour before (a slow Save of
// another store on the directory) is kept, and so is an old ".tmp-",
// a name without the digits its Saves put after the prefix.
func TestFileStateStoreStaleTempAge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe")
	require.NoError(t, os.WriteFile(probe, nil, 0o600))
	fi, err := os.Stat(probe)
	require.NoError(t, err)
	fsNow := fi.ModTime()
	for name, age := range map[string]time.Duration{".tmp-1": 2 * time.Hour, ".tmp-2": 30 * time.Minute, ".tmp-": 2 * time.Hour} {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte("half a state"), 0o600))
		require.NoError(t, os.Chtimes(p, fsNow.Add(-age), fsNow.Add(-age)))
	}
	_, err = detector.NewFileStateStore(dir)
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, ".tmp-1"))
	require.ErrorIs(t, err, os.ErrNotExist, "two hours old: removed")
	_, err = os.Stat(filepath.Join(dir, ".tmp-2"))
	require.NoError(t, err, "half an hour old: kept")
	_, err = os.Stat(filepath.Join(dir, ".tmp-"))
	require.NoError(t, err, "not a name a Save makes: kept")
}
