package trace_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/trace"
)

// ReadCSVFS refuses a nil file system and invalid limits before opening
// anything; a file over MaxBytes is an error naming the file and the
// field; a missing column quotes the header cut at a rune boundary.
func TestReadCSVFSBadInput(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"cpu.csv":  {Data: []byte("timestamp,value\n2026-01-01T00:00:00Z,0.5\n")},
		"wide.csv": {Data: []byte("timestamp," + strings.Repeat("x"+strings.Repeat("é", 29)+",", 3) + "value\n2026-01-01T00:00:00Z,1,2,3,0.5\n")},
	}
	var ie *provider.InvalidError
	_, err := trace.ReadCSVFS(nil, "cpu.csv", trace.CSVOptions{})
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "csv.fs", ie.Field)
	_, err = trace.ReadCSVFS(fsys, "cpu.csv", trace.CSVOptions{MaxBytes: -1})
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "csv.max_bytes", ie.Field)
	_, err = trace.ReadCSVFS(fsys, "cpu.csv", trace.CSVOptions{MaxBytes: 10})
	require.ErrorAs(t, err, &ie)
	assert.True(t, strings.HasPrefix(err.Error(), "cpu.csv: "), err.Error())
	s, err := trace.ReadCSVFS(fsys, "cpu.csv", trace.CSVOptions{})
	require.NoError(t, err)
	assert.Len(t, s, 1)

	_, err = trace.ReadCSVFS(fsys, "wide.csv", trace.CSVOptions{ValueColumn: "cpu"})
	require.ErrorAs(t, err, &ie)
	msg := err.Error()
	assert.Contains(t, msg, "…", "the header is cut")
	assert.NotContains(t, msg, "\\x", "at a rune boundary: no broken UTF-8 to escape")
	assert.Contains(t, msg, `"timestamp,xéé`)
	_, quoted, ok := strings.Cut(msg, `not in header "`)
	require.True(t, ok, msg)
	quoted, _, _ = strings.Cut(quoted, `…"`)
	assert.LessOrEqual(t, len(quoted), 96, "at most 96 bytes of the header")
	assert.Greater(t, len(quoted), 90)
}
