//go:build unix

package memory_test

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// TestFleetCSVRefusesFIFO checks that a named pipe inside the fleet's
// directory is refused at once instead of blocking the load.
func TestFleetCSVRefusesFIFO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "pipe.csv"), 0o600))
	c, _ := newCloud(t)
	err := c.LoadFleetFile(writeFleet(t, dir, "pipe.csv"))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "fleet.resources[0].metrics[0].csv", ie.Field)
}
