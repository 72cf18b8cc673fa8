package trace_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/trace"
)

func TestReadCSVRealTraces(t *testing.T) {
	t.Parallel()
	s, err := trace.ReadCSVFile("../testdata/nab/ec2_cpu_utilization_825cc2.csv", trace.CSVOptions{})
	require.NoError(t, err)
	assert.Len(t, s, 4032)
	assert.Equal(t, time.Date(2014, 4, 10, 0, 4, 0, 0, time.UTC), s[0].Time)

	// NASA: outage rows have empty fields (gaps); rows flagged as outages
	// can also be skipped explicitly.
	nasa, err := trace.ReadCSVFile("../testdata/nasa-http/nasa_traffic_5m.csv", trace.CSVOptions{
		ValueColumn: "request_count",
		SkipRow:     func(field func(string) string) bool { return field("is_outage") == "1" },
	})
	require.NoError(t, err)
	assert.Len(t, nasa, 17856-453, "the 453 outage rows are gaps")
	_, off := nasa[0].Time.Zone()
	assert.Equal(t, -4*3600, off, "the offset in the file is kept")

	// The DST-damaged NAB file has duplicate timestamps: a clear error.
	_, err = trace.ReadCSVFile("../testdata/nab/ec2_network_in_5abac7.csv", trace.CSVOptions{})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "csv line 2120 timestamp", ie.Field)
	assert.Contains(t, err.Error(), "duplicate timestamp")
}

func TestReadCSVBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give string
		opts trace.CSVOptions
		want string
	}{
		{"empty", "", trace.CSVOptions{}, "is empty"},
		{"missing time column", "time,value\n", trace.CSVOptions{}, `csv.time_column "timestamp"`},
		{"missing value column", "timestamp,v\n", trace.CSVOptions{}, `csv.value_column "value"`},
		{"value column twice", "timestamp,value,value\n2014-01-01 00:00:00,1,2\n", trace.CSVOptions{}, `csv.value_column "value": names columns 2 and 3`},
		{"time column twice", "timestamp,value,x,timestamp\n2014-01-01 00:00:00,1,2,2015-01-01 00:00:00\n", trace.CSVOptions{}, `csv.time_column "timestamp": names columns 1 and 4`},
		{"time column is the value column", "t,value\n2014-01-01 00:00:00,1\n", trace.CSVOptions{TimeColumn: "value"}, `csv.value_column "value": is the time column too`},
		{"bad time", "timestamp,value\nyesterday,1\n", trace.CSVOptions{}, "csv line 2 timestamp"},
		{"zero time", "timestamp,value\n0001-01-01 00:00:00,1\n", trace.CSVOptions{}, `csv line 2 timestamp "0001-01-01 00:00:00": is time.Time's zero`},
		{"zero time in a zone", "timestamp,value\n0001-01-01T01:00:00+01:00,1\n", trace.CSVOptions{}, "csv line 2 timestamp"},
		{"zero time read in a location", "timestamp,value\n0000-12-31 23:00,1\n", trace.CSVOptions{Location: time.FixedZone("UTC-1", -3600)}, "csv line 2 timestamp"},
		{"zero time as Unix seconds", "timestamp,value\n-62135596800,1\n", trace.CSVOptions{}, `csv line 2 timestamp "-62135596800": is time.Time's zero`},
		{"NaN value", "timestamp,value\n2014-01-01 00:00:00,NaN\n", trace.CSVOptions{}, "csv line 2 value"},
		{"Inf value", "timestamp,value\n2014-01-01 00:00:00,+Inf\n", trace.CSVOptions{}, "must be a finite number"},
		{"text value", "timestamp,value\n2014-01-01 00:00:00,high\n", trace.CSVOptions{}, "csv line 2 value"},
		{"unsorted", "timestamp,value\n2014-01-01 00:05:00,1\n2014-01-01 00:00:00,1\n", trace.CSVOptions{}, "rows must be sorted"},
		{"ragged", "timestamp,value\n2014-01-01 00:00:00\n", trace.CSVOptions{}, "csv line 2"},
		{"scaled past float64", "timestamp,value\n2014-01-01 00:00:00,1e300\n", trace.CSVOptions{Scale: 1e10}, "csv line 2 value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := trace.ReadCSV(strings.NewReader(tt.give), tt.opts)
			require.ErrorIs(t, err, provider.ErrInvalid)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestReadCSVErrorsNameTheLine: an error names the line of the input the
// bad field is on, also after blank lines (which CSV skips) and after a
// quoted field that spans lines; it named the record's number instead.
func TestReadCSVErrorsNameTheLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, give, field string
	}{
		{"blank lines", "timestamp,value\n\n\n2014-01-01 00:00:00,high\n", "csv line 4 value"},
		{"CRLF and a blank line", "timestamp,value\r\n2014-01-01 00:00:00,1\r\n\r\n2014-01-01 00:00:00,1\r\n", "csv line 4 timestamp"},
		{"a quoted field over two lines", "timestamp,value,note\n2014-01-01 00:00:00,1,\"a\nb\"\n2014-01-01 00:05:00,high,c\n", "csv line 4 value"},
		{"a value on the record's second line", "timestamp,note,value\n2014-01-01 00:00:00,\"a\nb\",high\n", "csv line 3 value"},
		{"unsorted after a blank line", "timestamp,value\n2014-01-01 00:05:00,1\n\n2014-01-01 00:00:00,1\n", "csv line 4 timestamp"},
		{"ragged after a blank line", "timestamp,value\n\n2014-01-01 00:00:00\n", "csv line 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := trace.ReadCSV(strings.NewReader(tt.give), trace.CSVOptions{})
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	// A CSV syntax error names its line once, the right one.
	_, err := trace.ReadCSV(strings.NewReader("timestamp,value\n\n\n2014-01-01 00:00:00,1\"\n"), trace.CSVOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 4")
	assert.NotContains(t, err.Error(), "line 2")
}

// TestReadCSVMalformedIsInvalid: input that is not well-formed CSV (a
// stray quote in a row or in the header) is bad input like a bad value,
// an error matching provider.ErrInvalid naming its line and column; it
// matched nothing a caller could tell from a failing reader.
func TestReadCSVMalformedIsInvalid(t *testing.T) {
	t.Parallel()
	for give, field := range map[string]string{
		"timestamp,value\n2014-01-01 00:00:00,1\"\n":              "csv line 2",
		"timestamp,value\n2014-01-01 00:00:00,\"1\"x\n":           "csv line 2",
		"timestamp,value\n2014-01-01 00:00:00,\"1\n":              "csv line 2",
		"time\"stamp,value\n":                                     "csv line 1",
		"timestamp,value\n2014-01-01 00:00:00,1\n\n2014-\"01,2\n": "csv line 4",
	} {
		_, err := trace.ReadCSV(strings.NewReader(give), trace.CSVOptions{})
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "%q", give)
		assert.Equal(t, field, ie.Field, "%q", give)
		assert.NotContains(t, err.Error(), "2014", "the input is not quoted")
	}
}

// TestReadCSVRejectsNil checks that a nil io.Reader is an error naming the
// argument, not a nil-pointer panic.
func TestReadCSVRejectsNil(t *testing.T) {
	t.Parallel()
	_, err := trace.ReadCSV(nil, trace.CSVOptions{})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "csv.reader", ie.Field)
}

func TestReadCSVFormats(t *testing.T) {
	t.Parallel()
	in := "ts,cpu\n1700000000,50\n2023-11-14T22:14:00Z,25\n2023-11-14 22:15:00+00:00,10\n2023-11-14 22:16:00,0\n"
	got, err := trace.ReadCSV(strings.NewReader(in), trace.CSVOptions{TimeColumn: "ts", ValueColumn: "cpu", Scale: 0.01})
	require.NoError(t, err)
	require.Len(t, got, 4)
	assert.Equal(t, time.Unix(1700000000, 0).UTC(), got[0].Time.UTC())
	assert.InDelta(t, 0.5, got[0].Value, 1e-12)
	assert.InDelta(t, 0.1, got[2].Value, 1e-12)
}

func FuzzReadCSV(f *testing.F) {
	f.Add("timestamp,value\n2014-02-14 14:30:00,0.132\n2014-02-14 14:35:00,0.134\n")
	f.Add("timestamp,value\n1700000000,1\n1700000000,2\n")
	f.Add("timestamp,value\n\"2014\n")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := trace.ReadCSV(strings.NewReader(in), trace.CSVOptions{})
		if err != nil {
			return
		}
		if err := provider.ValidateSamples(got); err != nil {
			t.Fatalf("ReadCSV accepted samples that do not validate: %v", err)
		}
	})
}

// A gap row (an empty value) is a row like the others: its time must
// parse and follow the previous row's. It was left out before its time
// was read, so a gap with a malformed, repeated or earlier time (a file
// whose rows are out of order) passed silently.
func TestReadCSVGapRowsAreChecked(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, give, want string }{
		{"malformed time", "timestamp,value\n2014-01-01 00:00:00,1\nyesterday,\n2014-01-01 00:10:00,2\n", "csv line 3 timestamp"},
		{"earlier than the previous row", "timestamp,value\n2014-01-01 00:05:00,1\n2014-01-01 00:00:00,\n2014-01-01 00:10:00,2\n", "csv line 3 timestamp"},
		{"repeats the previous row", "timestamp,value\n2014-01-01 00:05:00,1\n2014-01-01 00:05:00,\n", "duplicate timestamp"},
		{"repeated by the next row", "timestamp,value\n2014-01-01 00:05:00,\n2014-01-01 00:05:00,1\n", "csv line 3 timestamp"},
		{"a later row before the gap", "timestamp,value\n2014-01-01 00:10:00,\n2014-01-01 00:05:00,1\n", "rows must be sorted"},
	} {
		_, err := trace.ReadCSV(strings.NewReader(tt.give), trace.CSVOptions{})
		require.ErrorIs(t, err, provider.ErrInvalid, tt.name)
		assert.Contains(t, err.Error(), tt.want, tt.name)
	}
	s, err := trace.ReadCSV(strings.NewReader("timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,\n2014-01-01 00:10:00,2\n"), trace.CSVOptions{})
	require.NoError(t, err)
	assert.Len(t, s, 2, "a gap in order is left out")
}

// Unix seconds with a decimal fraction are read to the nanosecond they
// write: through a float64, 1700000000.123 read as
// 1700000000.122999906, so a millisecond export did not match
// time.UnixMilli and two rows a few hundred nanoseconds apart could
// merge or swap.
func TestReadCSVFractionalUnixSeconds(t *testing.T) {
	t.Parallel()
	in := "timestamp,value\n1700000000.123,1\n1700000000.123456789,2\n1700000001.5,3\n-1.25,4\n"
	_, err := trace.ReadCSV(strings.NewReader(in), trace.CSVOptions{})
	require.ErrorContains(t, err, "csv line 5 timestamp", "-1.25 is before the previous rows")
	got, err := trace.ReadCSV(strings.NewReader(strings.Replace(in, "-1.25,4\n", "", 1)), trace.CSVOptions{})
	require.NoError(t, err)
	require.Len(t, got, 3)
	for i, want := range []time.Time{
		time.UnixMilli(1700000000123),
		time.Unix(1700000000, 123456789),
		time.Unix(1700000001, 500000000),
	} {
		assert.True(t, want.Equal(got[i].Time), "row %d: %s, want %s", i, got[i].Time.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
	}
	neg, err := trace.ReadCSV(strings.NewReader("timestamp,value\n-1.25,4\n-0.5,5\n1.7e9,6\n"), trace.CSVOptions{})
	require.NoError(t, err)
	require.Len(t, neg, 3)
	assert.True(t, time.Unix(-2, 750000000).Equal(neg[0].Time), neg[0].Time.Format(time.RFC3339Nano))
	assert.True(t, time.Unix(0, -500000000).Equal(neg[1].Time), neg[1].Time.Format(time.RFC3339Nano))
	assert.True(t, time.Unix(1.7e9, 0).Equal(neg[2].Time), "an exponent is still read")
}

// A nil pointer as the reader (a nil *strings.Reader) is refused like a
// nil one: it is not a nil io.Reader, and its first Read panicked.
func TestReadCSVRejectsNilPointerReader(t *testing.T) {
	t.Parallel()
	var err error
	require.NotPanics(t, func() { _, err = trace.ReadCSV((*strings.Reader)(nil), trace.CSVOptions{}) })
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "csv.reader", ie.Field)
}

// A record whose every field is empty (a spreadsheet's trailing ",,"
// rows) holds no time and no value: it is skipped like a blank line, as
// it was before gap rows' times were checked, while a gap row with a time
// is still ordered like the others.
func TestReadCSVSkipsRowsWithEveryFieldEmpty(t *testing.T) {
	t.Parallel()
	in := "timestamp,value\n2014-01-01 00:00:00,1\n,\n2014-01-01 00:05:00,\n2014-01-01 00:10:00,2\n,\n , \n"
	got, err := trace.ReadCSV(strings.NewReader(in), trace.CSVOptions{})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, time.Date(2014, 1, 1, 0, 10, 0, 0, time.UTC), got[1].Time)
	_, err = trace.ReadCSV(strings.NewReader("timestamp,value\n2014-01-01 00:05:00,1\n,\n2014-01-01 00:00:00,\n"), trace.CSVOptions{})
	require.ErrorIs(t, err, provider.ErrInvalid, "a gap with a time is still ordered")
	assert.ErrorContains(t, err, "csv line 4 timestamp")
}
