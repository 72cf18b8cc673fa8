//go:build unix

package trace_test

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/trace"
)

// TestReadCSVFileRefusesFIFO checks that a named pipe is refused without
// being opened: opening one for reading blocks until a writer comes.
func TestReadCSVFileRefusesFIFO(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "pipe.csv")
	require.NoError(t, syscall.Mkfifo(path, 0o600))
	_, err := trace.ReadCSVFile(path, trace.CSVOptions{})
	require.ErrorIs(t, err, provider.ErrInvalid)
}
