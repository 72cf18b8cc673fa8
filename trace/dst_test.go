package trace_test

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the DST rules of America/New_York on any machine

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/trace"
)

// A time without a zone that CSVOptions.Location's clocks never show
// (02:30 on the night clocks spring forward) is an error naming its
// line: it was read as another time, 01:30 EST, an hour before the
// clock it names, without a word, so a row was misread as the package
// doc says none is. The times around the change, and the hour the clocks
// show twice in autumn (read as its first), are read as before.
func TestReadCSVTimeSkippedByDaylightSavingIsAnError(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	opts := trace.CSVOptions{Location: ny}

	for _, skipped := range []string{"2024-03-10 02:30:00", "2024-03-10T02:00:00", "2024-03-10 02:59"} {
		in := "timestamp,value\n2024-03-10 00:00:00,1\n" + skipped + ",2\n2024-03-10 04:00:00,3\n"
		_, err := trace.ReadCSV(strings.NewReader(in), opts)
		require.ErrorIs(t, err, provider.ErrInvalid, skipped)
		require.ErrorContains(t, err, "csv line 3 timestamp", skipped)
		require.ErrorContains(t, err, "America/New_York", skipped)
	}

	in := "timestamp,value\n2024-03-10 01:59:59,1\n2024-03-10 03:00:00,2\n2024-11-03 01:30:00,3\n2024-11-03 02:30:00,4\n"
	got, err := trace.ReadCSV(strings.NewReader(in), opts)
	require.NoError(t, err)
	require.Len(t, got, 4)
	assert.Equal(t, time.Date(2024, 3, 10, 6, 59, 59, 0, time.UTC), got[0].Time.UTC())
	assert.Equal(t, time.Date(2024, 3, 10, 7, 0, 0, 0, time.UTC), got[1].Time.UTC())
	assert.Equal(t, time.Date(2024, 11, 3, 5, 30, 0, 0, time.UTC), got[2].Time.UTC(), "the repeated hour read as its first (EDT)")
	assert.Equal(t, time.Date(2024, 11, 3, 7, 30, 0, 0, time.UTC), got[3].Time.UTC())

	// A zone written in the time is taken as it is.
	got, err = trace.ReadCSV(strings.NewReader("timestamp,value\n2024-03-10 02:30:00-05:00,1\n"), opts)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2024, 3, 10, 7, 30, 0, 0, time.UTC), got[0].Time.UTC())
}

// A trace written in local time without zones through the night the
// clocks fall back (01:00 to 01:59 shown twice) is refused, as a time
// without a zone is read as its first showing, with an error that says
// so: it said "before the previous row (rows must be sorted by time)" of
// rows that are sorted, or "duplicate timestamp" of times that are not
// duplicates, naming the wrong cause and not the cure (write the zone).
// The same rows with their offsets are read.
func TestReadCSVRepeatedHourErrorSaysWhy(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	opts := trace.CSVOptions{Location: ny}
	for _, in := range []string{
		"timestamp,value\n2024-11-03 00:30:00,1\n2024-11-03 01:00:00,2\n2024-11-03 01:30:00,3\n2024-11-03 01:00:00,4\n",
		"timestamp,value\n2024-11-03 00:30:00,1\n2024-11-03 01:30:00,2\n2024-11-03 01:30:00,3\n",
	} {
		_, err := trace.ReadCSV(strings.NewReader(in), opts)
		require.ErrorIs(t, err, provider.ErrInvalid)
		require.ErrorContains(t, err, "csv line ")
		require.ErrorContains(t, err, "the clocks of America/New_York show it twice", in)
	}
	// Not in the repeated hour: the plain causes.
	for in, want := range map[string]string{
		"timestamp,value\n2024-11-03 03:00:00,1\n2024-11-03 02:30:00,2\n": "before the previous row (rows must be sorted by time)",
		"timestamp,value\n2024-11-03 03:00:00,1\n2024-11-03 03:00:00,2\n": "duplicate timestamp",
	} {
		_, err := trace.ReadCSV(strings.NewReader(in), opts)
		require.ErrorContains(t, err, want)
		assert.NotContains(t, err.Error(), "twice")
	}
	got, err := trace.ReadCSV(strings.NewReader("timestamp,value\n2024-11-03 01:30:00-04:00,1\n2024-11-03 01:00:00-05:00,2\n"), opts)
	require.NoError(t, err)
	assert.Len(t, got, 2)
}
