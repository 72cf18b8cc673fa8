package trace_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/trace"
)

// A header written with spaces around its names ("timestamp, value", as
// people and some exports write CSV) finds its columns, as the rows'
// times and values are read with the spaces around them trimmed: it was
// refused with an error saying that the first line "is not a CSV header
// of column names", which it is, and without showing it. SkipRow finds
// its fields by the trimmed names too.
func TestReadCSVHeaderNamesAreTrimmed(t *testing.T) {
	t.Parallel()
	in := "timestamp, value , outage\n2024-01-01 00:00:00, 1, 0\n2024-01-01 00:05:00, 2, 1\n2024-01-01 00:10:00, 3, 0\n"
	got, err := trace.ReadCSV(strings.NewReader(in), trace.CSVOptions{
		SkipRow: func(field func(string) string) bool { return strings.TrimSpace(field("outage")) == "1" },
	})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, time.Date(2024, 1, 1, 0, 10, 0, 0, time.UTC), got[1].Time)
	assert.InDelta(t, 3.0, got[1].Value, 1e-12)

	_, err = trace.ReadCSV(strings.NewReader("timestamp, value, value\n2024-01-01 00:00:00,1,2\n"), trace.CSVOptions{})
	require.ErrorContains(t, err, `csv.value_column "value": names columns 2 and 3`, "a name twice, once with a space")
}
