package safefile_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/safefile"
	"github.com/idlescale/idlescale/provider"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "a.csv")
	require.NoError(t, os.WriteFile(path, []byte("0123456789"), 0o600))
	f, err := safefile.Open(path, "f", 10)
	require.NoError(t, err)
	b, err := io.ReadAll(f)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	assert.Equal(t, "0123456789", string(b))

	for _, tt := range []struct {
		path string
		max  int64
	}{{path, 9}, {dir, 1 << 20}, {"/dev/zero", 1 << 20}, {"/proc/self/environ", 1 << 20}} {
		_, err := safefile.Open(tt.path, "f", tt.max)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, tt.path)
		assert.Equal(t, "f", ie.Field)
	}
	_, err = safefile.Open(filepath.Join(dir, "missing"), "f", 1)
	require.ErrorIs(t, err, os.ErrNotExist)

	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	defer root.Close()
	f, err = safefile.OpenFS(root.FS(), "a.csv", "f", 10)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}
