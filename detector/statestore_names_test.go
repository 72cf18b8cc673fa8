package detector_test

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
)

// TestFileStateStoreReadsStatesSavedUnderHexNames: a FileStateStore reads
// the state a version before 99288fa saved, under the hex encoding of the
// ID, for every ID whose file name that encoding could hold: up to 124
// bytes (248 hex digits and ".state", 254 bytes). (A review found IDs of
// 120 to 124 bytes named by their SHA-256 from then on: the state saved
// before the upgrade was not found, every such resource read its whole
// history again, and the old file stayed behind for good.)
func TestFileStateStoreReadsStatesSavedUnderHexNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := detector.NewFileStateStore(dir)
	require.NoError(t, err)
	for n := 118; n <= 124; n++ {
		id := strings.Repeat("d", n-1) + "x"
		name := hex.EncodeToString([]byte(id)) + ".state"
		require.LessOrEqual(t, len(name), 255)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("saved before"), 0o600), "%d bytes", n)
		got, err := s.Load(t.Context(), id)
		require.NoError(t, err, "%d bytes: the saved state is found", n)
		assert.Equal(t, "saved before", string(got), "%d bytes", n)
	}
}
