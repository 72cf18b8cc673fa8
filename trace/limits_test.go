package trace_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/trace"
)

// zeros is an endless stream of zero bytes, like /dev/zero.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	z.n += int64(len(p))
	return len(p), nil
}

// TestReadCSVFileRefusesSpecialFiles checks that only regular files are
// read: a device, a directory and a /proc file fail at once with an error
// naming the path, never by reading them.
func TestReadCSVFileRefusesSpecialFiles(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/dev/zero", "/dev/null", "/dev/urandom", t.TempDir(), "/proc/self/environ", "/proc/self/status"} {
		_, err := trace.ReadCSVFile(path, trace.CSVOptions{})
		require.ErrorIs(t, err, provider.ErrInvalid, path)
		assert.Contains(t, err.Error(), path)
		for _, kv := range os.Environ() {
			if _, v, _ := strings.Cut(kv, "="); len(v) >= 8 {
				assert.NotContains(t, err.Error(), v, "the error quotes the environment")
			}
		}
	}
}

// TestReadCSVLineCapBoundsMemory feeds an endless line (what /dev/zero
// gives) and checks that reading stops at the line cap with an error
// naming the line, having read and allocated little. It does not run in
// parallel so that the allocation count is its own.
func TestReadCSVLineCapBoundsMemory(t *testing.T) {
	for _, tt := range []struct {
		name   string
		header string
	}{{"in the header", ""}, {"in a row", "timestamp,value\n"}} {
		z := &zeros{}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := trace.ReadCSV(io.MultiReader(strings.NewReader(tt.header), z), trace.CSVOptions{})
		runtime.ReadMemStats(&after)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, tt.name)
		assert.Contains(t, ie.Field, "csv line", tt.name)
		assert.Contains(t, ie.Reason, "longer than", tt.name)
		assert.Less(t, z.n, int64(trace.DefaultMaxLineBytes+1<<20), "%s: read far past the cap", tt.name)
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8*trace.DefaultMaxLineBytes), "%s: allocated far past the cap", tt.name)
	}
}

// distinctRows returns n CSV rows of the value 1 a minute apart, in order.
func distinctRows(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(time.Date(2014, 1, 1, 0, i, 0, 0, time.UTC).Format(time.DateTime) + ",1\n")
	}
	return b.String()
}

func TestReadCSVLimits(t *testing.T) {
	t.Parallel()
	row := "2014-01-01 00:00:00,1\n"
	tests := []struct {
		name  string
		give  string
		opts  trace.CSVOptions
		field string
	}{
		{"long line", "timestamp,value\n" + strings.Repeat("9", 200) + ",1\n", trace.CSVOptions{MaxLineBytes: 100}, "csv line 2"},
		{"long header", strings.Repeat("h", 200) + ",value\n", trace.CSVOptions{MaxLineBytes: 100}, "csv line 1"},
		{"line just over", "timestamp,value\n" + row, trace.CSVOptions{MaxLineBytes: len(row) - 1}, "csv line 2"},
		{"large file", "timestamp,value\n" + distinctRows(50), trace.CSVOptions{MaxBytes: 500}, "csv"},
		{"negative line cap", "timestamp,value\n", trace.CSVOptions{MaxLineBytes: -1}, "csv.max_line_bytes"},
		{"negative size cap", "timestamp,value\n", trace.CSVOptions{MaxBytes: -1}, "csv.max_bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := trace.ReadCSV(strings.NewReader(tt.give), tt.opts)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
			if tt.opts.MaxBytes > 0 {
				assert.Contains(t, ie.Reason, "MaxBytes", "the size cap, not another error of the rows")
			}
		})
	}
	// The large file's rows are read whole under a cap they fit in: the
	// case above fails on its size alone.
	got, err := trace.ReadCSV(strings.NewReader("timestamp,value\n"+distinctRows(50)), trace.CSVOptions{})
	require.NoError(t, err)
	assert.Len(t, got, 50)
	// At the caps exactly, the input is read.
	in := "timestamp,value\n" + row
	got, err = trace.ReadCSV(strings.NewReader(in), trace.CSVOptions{MaxLineBytes: len(row), MaxBytes: int64(len(in))})
	require.NoError(t, err)
	assert.Len(t, got, 1)
}

// TestReadCSVFileSizeCap checks that a file larger than MaxBytes fails
// before it is read, naming the path and the limit.
func TestReadCSVFileSizeCap(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "big.csv")
	var rows strings.Builder
	rows.WriteString("timestamp,value\n")
	for i := range 100 { // gaps, in order
		rows.WriteString(time.Date(2014, 1, 1, 0, i, 0, 0, time.UTC).Format(time.DateTime) + ",\n")
	}
	require.NoError(t, os.WriteFile(path, []byte(rows.String()), 0o600))
	_, err := trace.ReadCSVFile(path, trace.CSVOptions{MaxBytes: 1000})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "csv", ie.Field)
	assert.Contains(t, err.Error(), path)
	_, err = trace.ReadCSVFile(path, trace.CSVOptions{})
	require.NoError(t, err)
}

// TestReadCSVHeaderErrorQuotesNoContent checks that a first line that is
// not plainly a CSV header is never quoted in the error, and that one that
// is shows as a short, escaped excerpt.
func TestReadCSVHeaderErrorQuotesNoContent(t *testing.T) {
	t.Parallel()
	for _, give := range []string{
		"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n",
		"PATH=/usr/bin\x00AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCY\x00",
		"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
		"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n",
		"\x7fELF\x02\x01\x01\x00\x00\x00",
	} {
		_, err := trace.ReadCSV(strings.NewReader(give), trace.CSVOptions{})
		require.ErrorIs(t, err, provider.ErrInvalid)
		first, _, _ := strings.Cut(give, "\n")
		for _, part := range strings.FieldsFunc(first, func(r rune) bool { return r == ':' || r == '=' || r == ',' || r == '\x00' || r == ' ' }) {
			if len(part) >= 6 && part != "timestamp" {
				assert.NotContains(t, err.Error(), part, "the error quotes the file")
			}
		}
	}
	// A plain header is quoted (short and escaped) so the user sees which
	// columns the file has.
	_, err := trace.ReadCSV(strings.NewReader("time,cpu_percent\n"), trace.CSVOptions{})
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Contains(t, err.Error(), `"time,cpu_percent"`)
	wide := strings.Repeat("column_name,", 40) + "last\n"
	_, err = trace.ReadCSV(strings.NewReader(wide), trace.CSVOptions{})
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Less(t, len(err.Error()), 300, "the excerpt is short")
}

// TestReadCSVRowErrorsQuoteNoContent checks that a bad field is quoted
// only when it is plainly a time or a number.
func TestReadCSVRowErrorsQuoteNoContent(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		give  string
		shown bool
	}{
		{"timestamp,value\n2014-13-45 00:00:00,1\n", true},
		{"timestamp,value\n2014-01-01 00:00:00,NaN\n", true},
		{"timestamp,value\n2014-01-01 00:00:00,1e999\n", true},
		{"timestamp,value\nAKIAIOSFODNN7EXAMPLE,1\n", false},
		{"timestamp,value\n2014-01-01 00:00:00,hunter2-secret\n", false},
		{"timestamp,value\n2014-01-01 00:00:00,\"correct horse battery\"\n", false},
	} {
		_, err := trace.ReadCSV(strings.NewReader(tt.give), trace.CSVOptions{})
		require.ErrorIs(t, err, provider.ErrInvalid, tt.give)
		lines := strings.Split(tt.give, "\n")
		fields := strings.Split(lines[1], ",")
		bad := fields[0]
		if strings.HasPrefix(bad, "2014-01-01") {
			bad = strings.Trim(fields[1], `"`)
		}
		if tt.shown {
			assert.Contains(t, err.Error(), bad)
		} else {
			assert.NotContains(t, err.Error(), bad)
			assert.Contains(t, err.Error(), "not shown")
		}
	}
}

// TestReadCSVByteOrderMark checks that a UTF-8 byte-order mark at the
// start, as spreadsheet exports write it, is accepted.
func TestReadCSVByteOrderMark(t *testing.T) {
	t.Parallel()
	in := "\ufefftimestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,2\n"
	got, err := trace.ReadCSV(strings.NewReader(in), trace.CSVOptions{})
	require.NoError(t, err)
	assert.Len(t, got, 2)
	got, err = trace.ReadCSV(bytes.NewReader([]byte("\ufeff\"timestamp\",\"value\"\r\n2014-01-01 00:00:00,1\r\n")), trace.CSVOptions{})
	require.NoError(t, err)
	assert.Len(t, got, 1)
	// Only at the start: a mark inside a value is an error.
	_, err = trace.ReadCSV(strings.NewReader("timestamp,value\n2014-01-01 00:00:00,\ufeff1\n"), trace.CSVOptions{})
	require.ErrorIs(t, err, provider.ErrInvalid)
}
