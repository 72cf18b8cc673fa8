package detector

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFileStateStoreSyncsBeforeAndAfterRename: a Save syncs the
// temporary file, with the whole new state in it, before the rename (a
// power loss after an unsynced rename may leave the state's name on an
// empty or torn file), then the directory after the rename (or the
// rename itself may be lost). A failed sync of the file fails the Save
// and keeps the old state, with no temporary file left.
func TestFileStateStoreSyncsBeforeAndAfterRename(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	s, err := NewFileStateStore(dir)
	require.NoError(t, err)
	require.NoError(t, s.Save(ctx, "i-1", []byte("old")))

	var synced []string // what each sync saw: the file synced, its content, the state's
	s.sync = func(f *os.File) error {
		fi, err := f.Stat()
		require.NoError(t, err)
		state, err := os.ReadFile(s.path("i-1"))
		require.NoError(t, err)
		if fi.IsDir() {
			synced = append(synced, "dir "+filepath.Base(f.Name())+", state "+string(state))
			return f.Sync()
		}
		b, err := os.ReadFile(f.Name())
		require.NoError(t, err)
		synced = append(synced, "file "+string(b)+", state "+string(state))
		return f.Sync()
	}
	require.NoError(t, s.Save(ctx, "i-1", []byte("new")))
	assert.Equal(t, []string{"file new, state old", "dir " + filepath.Base(dir) + ", state new"}, synced)

	eio := errors.New("input/output error")
	s.sync = func(f *os.File) error {
		if fi, err := f.Stat(); err == nil && !fi.IsDir() {
			return eio
		}
		return f.Sync()
	}
	require.ErrorIs(t, s.Save(ctx, "i-1", []byte("lost")), eio)
	got, err := s.Load(ctx, "i-1")
	require.NoError(t, err)
	assert.Equal(t, "new", string(got), "the old state kept")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasPrefix(e.Name(), ".tmp-"), "temporary file left: %s", e.Name())
	}
}

// TestFileStateStoreDirectorySyncUnsupported: a file system that cannot
// sync a directory (EINVAL or ENOTSUP from fsync on it: some FUSE and
// network file systems) has renamed the state durably as far as it can;
// Save succeeds there, as it did before it synced the directory, where a
// failed sync of the file still fails it.
func TestFileStateStoreDirectorySyncUnsupported(t *testing.T) {
	t.Parallel()
	for name, errno := range map[string]error{"EINVAL": syscall.EINVAL, "unsupported": errors.ErrUnsupported} {
		dir := t.TempDir()
		s, err := NewFileStateStore(dir)
		require.NoError(t, err)
		s.sync = func(f *os.File) error {
			if fi, err := f.Stat(); err == nil && fi.IsDir() {
				return &os.PathError{Op: "sync", Path: f.Name(), Err: errno}
			}
			return f.Sync()
		}
		require.NoError(t, s.Save(t.Context(), "i-1", []byte("state")), name)
		got, err := s.Load(t.Context(), "i-1")
		require.NoError(t, err, name)
		assert.Equal(t, "state", string(got), name)
	}
}
