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
