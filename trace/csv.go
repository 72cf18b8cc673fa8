package trace

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// CSVOptions says how to read a trace from CSV. The zero value reads the
// NAB layout: a header row, the time in column "timestamp" and the value in
// column "value", times without a zone taken as UTC.
type CSVOptions struct {
	// TimeColumn is the header name of the time column. Default:
	// "timestamp".
	TimeColumn string `json:"time_column,omitempty" yaml:"time_column,omitempty"`
	// ValueColumn is the header name of the value column. Default: "value".
	ValueColumn string `json:"value_column,omitempty" yaml:"value_column,omitempty"`
	// Location is the time zone of times written without one. Default: UTC.
	Location *time.Location `json:"-" yaml:"-"`
	// Scale multiplies every value, for example 0.01 to turn a percentage
	// into a fraction. Default (0): 1.
	Scale float64 `json:"scale,omitempty" yaml:"scale,omitempty"`
	// SkipRow, when set, drops the rows for which it returns true; it gets
	// the row's fields by header name. Use it to drop rows flagged as
	// outages. A dropped row becomes a gap.
	SkipRow func(field func(name string) string) bool `json:"-" yaml:"-"`
}

// timeLayouts are tried in order; the first that parses wins.
var timeLayouts = []string{
	"2006-01-02 15:04:05Z07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04",
}

// ReadCSV reads a metric trace from CSV. Rows whose value field is empty are
// gaps and are left out of the result. Times are RFC 3339, "YYYY-MM-DD
// HH:MM:SS" (with or without a zone offset) or Unix seconds. The samples must
// be strictly increasing in time: an unsorted or duplicate timestamp is an
// error naming its line, as is a value that is not a finite number (also
// after scaling by CSVOptions.Scale). A nil r is an error.
func ReadCSV(r io.Reader, opts CSVOptions) ([]provider.Sample, error) {
	if r == nil {
		return nil, provider.Invalid("csv.reader", nil, "must not be nil")
	}
	timeCol := cmpOr(opts.TimeColumn, "timestamp")
	valueCol := cmpOr(opts.ValueColumn, "value")
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	scale := opts.Scale
	if scale == 0 {
		scale = 1
	}
	if math.IsNaN(scale) || math.IsInf(scale, 0) {
		return nil, provider.Invalid("csv.scale", scale, "must be finite")
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, provider.Invalid("csv", "", "is empty: want a header row")
		}
		return nil, fmt.Errorf("csv: header: %w", err)
	}
	header = slices.Clone(header)
	ti, vi := slices.Index(header, timeCol), slices.Index(header, valueCol)
	if ti < 0 {
		return nil, provider.Invalid("csv.time_column", timeCol, "not in header "+strings.Join(header, ","))
	}
	if vi < 0 {
		return nil, provider.Invalid("csv.value_column", valueCol, "not in header "+strings.Join(header, ","))
	}
	var out []provider.Sample
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("csv: line %d: %w", line, err)
		}
		if len(rec) != len(header) {
			return nil, provider.Invalid(fmt.Sprintf("csv line %d", line), len(rec), fmt.Sprintf("has that many fields; the header has %d", len(header)))
		}
		if opts.SkipRow != nil && opts.SkipRow(func(name string) string {
			if i := slices.Index(header, name); i >= 0 {
				return rec[i]
			}
			return ""
		}) {
			continue
		}
		raw := strings.TrimSpace(rec[vi])
		if raw == "" {
			continue
		}
		t, err := parseTime(strings.TrimSpace(rec[ti]), loc)
		if err != nil {
			return nil, provider.Invalid(fmt.Sprintf("csv line %d %s", line, timeCol), rec[ti], err.Error())
		}
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, provider.Invalid(fmt.Sprintf("csv line %d %s", line, valueCol), raw, "must be a finite number")
		}
		if v *= scale; math.IsInf(v, 0) {
			return nil, provider.Invalid(fmt.Sprintf("csv line %d %s", line, valueCol), raw, fmt.Sprintf("times csv.scale %v is not a finite number", scale))
		}
		if n := len(out); n > 0 {
			prev := out[n-1].Time
			if t.Equal(prev) {
				return nil, provider.Invalid(fmt.Sprintf("csv line %d %s", line, timeCol), rec[ti], "duplicate timestamp")
			}
			if t.Before(prev) {
				return nil, provider.Invalid(fmt.Sprintf("csv line %d %s", line, timeCol), rec[ti], "before the previous row (rows must be sorted by time)")
			}
		}
		out = append(out, provider.Sample{Time: t, Value: v})
	}
	return out, nil
}

// ReadCSVFile opens path and calls ReadCSV. Errors from ReadCSV are
// prefixed with path; a file that cannot be opened returns the *fs.PathError
// of os.Open.
func ReadCSVFile(path string, opts CSVOptions) ([]provider.Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := ReadCSV(f, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func parseTime(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty time")
	}
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	if sec, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(sec) && !math.IsInf(sec, 0) && math.Abs(sec) < 1e11 {
		whole, frac := math.Modf(sec)
		return time.Unix(int64(whole), int64(frac*1e9)).In(loc), nil
	}
	return time.Time{}, errors.New("want RFC 3339, YYYY-MM-DD HH:MM:SS or Unix seconds")
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
