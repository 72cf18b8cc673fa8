package trace

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/internal/safefile"
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
	// Location is the time zone of times written without one. A time its
	// clocks skip (02:30 on the night they spring forward) is an error;
	// one they show twice is read as the first, so a trace without zones
	// that runs through the repeated hour is refused as out of order,
	// with an error saying so. Default: UTC.
	Location *time.Location `json:"-" yaml:"-"`
	// Scale multiplies every value, for example 0.01 to turn a percentage
	// into a fraction. Default (0): 1.
	Scale float64 `json:"scale,omitempty" yaml:"scale,omitempty"`
	// SkipRow, when set, drops the rows for which it returns true; it gets
	// the row's fields by header name (spaces around it ignored). Use it to drop rows flagged as
	// outages. A dropped row becomes a gap.
	SkipRow func(field func(name string) string) bool `json:"-" yaml:"-"`
	// MaxLineBytes is the longest line read, in bytes, its line ending
	// included. Reading stops at a longer line with an error naming it, so
	// input without line endings (a device, a binary file) cannot take
	// unbounded memory. Must be ≥ 0; 0 means the default. Default:
	// DefaultMaxLineBytes (1 MiB).
	MaxLineBytes int `json:"max_line_bytes,omitempty" yaml:"max_line_bytes,omitempty"`
	// MaxBytes is the most bytes read; a larger input is an error (a file
	// is refused before it is read). Must be ≥ 0; 0 means the default.
	// Default: DefaultMaxBytes (256 MiB, about eight million rows).
	MaxBytes int64 `json:"max_bytes,omitempty" yaml:"max_bytes,omitempty"`
}

// The defaults of CSVOptions' limits.
const (
	DefaultMaxLineBytes = 1 << 20   // CSVOptions.MaxLineBytes' default: 1 MiB
	DefaultMaxBytes     = 256 << 20 // CSVOptions.MaxBytes' default: 256 MiB
)

// limits validates the caps of opts and returns them with the defaults
// applied.
func (opts CSVOptions) limits() (maxLine int, maxBytes int64, err error) {
	switch {
	case opts.MaxLineBytes < 0:
		return 0, 0, provider.Invalid("csv.max_line_bytes", opts.MaxLineBytes, "must be ≥ 0 (0 means 1 MiB)")
	case opts.MaxBytes < 0:
		return 0, 0, provider.Invalid("csv.max_bytes", opts.MaxBytes, "must be ≥ 0 (0 means 256 MiB)")
	}
	maxLine, maxBytes = opts.MaxLineBytes, opts.MaxBytes
	if maxLine == 0 {
		maxLine = DefaultMaxLineBytes
	}
	if maxBytes == 0 {
		maxBytes = DefaultMaxBytes
	}
	return maxLine, maxBytes, nil
}

// timeLayouts are tried in order; the first that parses wins.
var timeLayouts = []string{
	"2006-01-02 15:04:05Z07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04",
}

// ReadCSV reads a metric trace from CSV. The time and value columns are
// found by their header names (spaces around a name are ignored, as
// around a time or a value), which must each name one column. Rows whose
// value field is empty are gaps and are left out of the result; their
// times are read and ordered like the others' (a row whose every field is
// empty is skipped like a blank line). Times are RFC 3339, "YYYY-MM-DD
// HH:MM:SS" (with or without a zone offset) or Unix seconds; a time
// without a zone that CSVOptions.Location's clocks skip is an error. The samples must
// be strictly increasing in time: an unsorted or duplicate timestamp is an
// error naming its line, as is a value that is not a finite number (also
// after scaling by CSVOptions.Scale) and input that is not well-formed
// CSV (a stray quote); these match provider.ErrInvalid. A UTF-8 byte-order mark at the start
// is skipped. A line longer than CSVOptions.MaxLineBytes or an input longer
// than CSVOptions.MaxBytes is an error, found without reading further. A
// nil r (or a nil pointer) is an error.
//
// Errors quote little of the input: a first line that is plainly a CSV
// header (short names of letters, digits and a few punctuation marks) is
// shown as a short, escaped excerpt when a column is missing, any other
// first line is not shown at all, and a bad time or value is shown only
// when it is plainly one (digits and the punctuation of times and
// numbers, NaN, Inf), else only by its length.
func ReadCSV(r io.Reader, opts CSVOptions) ([]provider.Sample, error) {
	if nilcheck.Is(r) { // a nil *strings.Reader too: its Read panics
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
	maxLine, maxBytes, err := opts.limits()
	if err != nil {
		return nil, err
	}
	lr := &limitReader{r: r, maxLine: maxLine, maxBytes: maxBytes, line: 1}
	br := bufio.NewReader(lr)
	if bom, err := br.Peek(len(byteOrderMark)); err == nil && string(bom) == byteOrderMark {
		_, _ = br.Discard(len(byteOrderMark))
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, provider.Invalid("csv", "", "is empty: want a header row")
		}
		if le := lr.limitError(); le != nil {
			return nil, le
		}
		return nil, csvError(err)
	}
	header = slices.Clone(header)
	for i, h := range header { // as the fields of the rows are read
		header[i] = strings.TrimSpace(h)
	}
	ti, vi := slices.Index(header, timeCol), slices.Index(header, valueCol)
	if ti < 0 {
		return nil, provider.Invalid("csv.time_column", timeCol, notInHeader(header))
	}
	if vi < 0 {
		return nil, provider.Invalid("csv.value_column", valueCol, notInHeader(header))
	}
	if ti == vi {
		return nil, provider.Invalid("csv.value_column", valueCol, "is the time column too")
	}
	for _, c := range []struct {
		field, name string
		i           int
	}{{"csv.time_column", timeCol, ti}, {"csv.value_column", valueCol, vi}} {
		if j := slices.Index(header[c.i+1:], c.name); j >= 0 {
			return nil, provider.Invalid(c.field, c.name, fmt.Sprintf("names columns %d and %d of the header: which one to read is not clear", c.i+1, c.i+j+2))
		}
	}
	var out []provider.Sample
	var prev time.Time // the time of the previous row, gaps included
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if le := lr.limitError(); le != nil {
			return nil, le
		}
		if err != nil {
			return nil, csvError(err)
		}
		// The line of the record's start: blank lines are skipped and a
		// quoted field may span lines, so records are not lines.
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			return nil, provider.Invalid(fmt.Sprintf("csv line %d", line), len(rec), fmt.Sprintf("has that many fields; the header has %d", len(header)))
		}
		// A record of empty fields only (a spreadsheet's trailing ",,"
		// rows) has no time to order: it is a blank line.
		if !slices.ContainsFunc(rec, func(f string) bool { return strings.TrimSpace(f) != "" }) {
			continue
		}
		if opts.SkipRow != nil && opts.SkipRow(func(name string) string {
			if i := slices.Index(header, name); i >= 0 {
				return rec[i]
			}
			return ""
		}) {
			continue
		}
		tline, _ := cr.FieldPos(ti)
		vline, _ := cr.FieldPos(vi)
		t, err := parseTime(strings.TrimSpace(rec[ti]), loc)
		if err != nil {
			return nil, provider.Invalid(fmt.Sprintf("csv line %d %s", tline, timeCol), shown(rec[ti]), err.Error())
		}
		// A gap row is a row too: its time must follow the previous one.
		if !prev.IsZero() && !t.After(prev) {
			why := "before the previous row (rows must be sorted by time)"
			if t.Equal(prev) {
				why = "duplicate timestamp"
			}
			if shownTwice(strings.TrimSpace(rec[ti]), t, loc) {
				why += fmt.Sprintf(": the clocks of %s show it twice (daylight saving ends) and a time without a zone is read as the first; write the times with their zone offset", loc)
			}
			return nil, provider.Invalid(fmt.Sprintf("csv line %d %s", tline, timeCol), shown(rec[ti]), why)
		}
		prev = t
		raw := strings.TrimSpace(rec[vi])
		if raw == "" {
			continue
		}
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, provider.Invalid(fmt.Sprintf("csv line %d %s", vline, valueCol), shown(raw), "must be a finite number")
		}
		if v *= scale; math.IsInf(v, 0) {
			return nil, provider.Invalid(fmt.Sprintf("csv line %d %s", vline, valueCol), shown(raw), fmt.Sprintf("times csv.scale %v is not a finite number", scale))
		}
		out = append(out, provider.Sample{Time: t, Value: v})
	}
	return out, nil
}

// csvError returns the error of a failed csv.Reader.Read: for input that
// is not well-formed CSV (a *csv.ParseError) an error matching
// provider.ErrInvalid naming the line and column, else err, prefixed.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return provider.Invalid(fmt.Sprintf("csv line %d", pe.Line), fmt.Sprintf("column %d", pe.Column), pe.Err.Error())
	}
	return fmt.Errorf("csv: %w", err)
}

// ReadCSVFile reads the trace in the file at path with ReadCSV. Only a
// regular file is read: a directory, a device (/dev/zero), a named pipe or
// socket, an empty file (files under /proc report no size) and a file
// larger than CSVOptions.MaxBytes are refused before they are read, with an
// error matching provider.ErrInvalid for field "csv". Errors are prefixed
// with path; a file that cannot be found or opened returns the
// *fs.PathError of os.Stat or os.Open.
func ReadCSVFile(path string, opts CSVOptions) ([]provider.Sample, error) {
	_, maxBytes, err := opts.limits()
	if err != nil {
		return nil, err
	}
	f, err := safefile.Open(path, "csv", maxBytes)
	return readOpened(f, err, path, opts)
}

// ReadCSVFS is ReadCSVFile for the file name of fsys. Whether name may
// reach outside a root is fsys's to decide: an (*os.Root).FS refuses
// absolute names, ".." that climbs out and symbolic links that leave it;
// an os.DirFS refuses the first two but follows symbolic links. A nil
// fsys is an error.
func ReadCSVFS(fsys fs.FS, name string, opts CSVOptions) ([]provider.Sample, error) {
	if fsys == nil {
		return nil, provider.Invalid("csv.fs", nil, "must not be nil")
	}
	_, maxBytes, err := opts.limits()
	if err != nil {
		return nil, err
	}
	f, err := safefile.OpenFS(fsys, name, "csv", maxBytes)
	return readOpened(f, err, name, opts)
}

func readOpened(f io.ReadCloser, err error, name string, opts CSVOptions) ([]provider.Sample, error) {
	var ie *provider.InvalidError
	switch {
	case errors.As(err, &ie):
		return nil, fmt.Errorf("%s: %w", name, err)
	case err != nil:
		return nil, err
	}
	defer f.Close()
	s, err := ReadCSV(f, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

const byteOrderMark = "\ufeff"

// shown returns a bad field as an error may quote it: as it is when it is
// plainly a time or a number (at most 40 bytes of digits, spaces and
// + - . : / T Z e E, or NaN or Inf), else only its length.
func shown(s string) string {
	if plainValue(s) {
		return s
	}
	return fmt.Sprintf("(%d bytes, not shown)", len(s))
}

func plainValue(s string) bool {
	switch strings.ToLower(strings.TrimLeft(strings.TrimSpace(s), "+-")) {
	case "nan", "inf", "infinity":
		return true
	}
	if s == "" || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789 +-.:/TZeE", rune(s[i])) {
			return false
		}
	}
	return true
}

// excerpt returns s cut to at most n bytes (at a rune boundary), with "…"
// when it was cut.
func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// notInHeader says that a column is not in header, quoting the header only
// when it is plainly one.
func notInHeader(header []string) string {
	if plainHeader(header) {
		return "not in header " + strconv.Quote(excerpt(strings.Join(header, ","), 96))
	}
	return fmt.Sprintf("not in the first line, which is not a CSV header of column names (%d fields; not shown)", len(header))
}

// plainHeader reports whether header looks like column names: at most 256
// fields, each 1 to 64 bytes that start with a letter, a digit or "_" and
// hold only letters, digits, spaces and _ - . % ( ) /. A first line that
// is anything else is not quoted in errors: it may be a file that is not
// CSV at all (a password file, an environment, a key).
func plainHeader(header []string) bool {
	if len(header) == 0 || len(header) > 256 {
		return false
	}
	for _, h := range header {
		if h == "" || len(h) > 64 {
			return false
		}
		for i, r := range h {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_':
			case i > 0 && strings.ContainsRune(" -.%()/", r):
			default:
				return false
			}
		}
	}
	return true
}

// limitReader passes r through, counting bytes and line lengths; past a
// limit it fails, and keeps failing, with an error limitError turns into
// an *provider.InvalidError.
type limitReader struct {
	r        io.Reader
	maxLine  int
	maxBytes int64

	total   int64
	lineLen int
	line    int // the line being read, from 1
	err     error
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i := 0; i < n; i++ {
		l.total++
		l.lineLen++
		switch {
		case l.total > l.maxBytes:
			l.err = provider.Invalid("csv", fmt.Sprintf("over %d bytes", l.maxBytes), "is larger than CSVOptions.MaxBytes")
		case l.lineLen > l.maxLine:
			l.err = provider.Invalid(fmt.Sprintf("csv line %d", l.line), fmt.Sprintf("over %d bytes", l.maxLine),
				"is longer than CSVOptions.MaxLineBytes (input without line endings, such as a device or a binary file, is not CSV)")
		case p[i] == '\n':
			l.line++
			l.lineLen = 0
			continue
		default:
			continue
		}
		return i, l.err
	}
	return n, err
}

// limitError returns the *provider.InvalidError of a limit that was
// exceeded, or nil.
func (l *limitReader) limitError() error { return l.err }

func parseTime(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty time")
	}
	for _, layout := range timeLayouts {
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			continue
		}
		// A time without a zone that loc's clocks skip (a daylight-saving
		// change) is read by Go as another: refuse it.
		if !strings.Contains(layout, "Z07") {
			if w, _ := time.Parse(layout, s); !sameClock(t, w) {
				return time.Time{}, fmt.Errorf("is not a time of %s: its clocks skip it (daylight saving)", loc)
			}
		}
		return notZero(t)
	}
	if t, ok := decimalSeconds(s); ok {
		return notZero(t.In(loc))
	}
	if sec, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(sec) && !math.IsInf(sec, 0) && math.Abs(sec) < 1e11 {
		whole, frac := math.Modf(sec)
		return notZero(time.Unix(int64(whole), int64(frac*1e9)).In(loc))
	}
	return time.Time{}, errors.New("want RFC 3339, YYYY-MM-DD HH:MM:SS or Unix seconds")
}

// shownTwice reports whether s, read as t, is a time without a zone that
// loc's clocks show twice (the hour repeated when daylight saving ends).
func shownTwice(s string, t time.Time, loc *time.Location) bool {
	zoneless := false
	for _, layout := range timeLayouts {
		if _, err := time.Parse(layout, s); err == nil {
			zoneless = !strings.Contains(layout, "Z07")
			break
		}
	}
	if !zoneless {
		return false
	}
	for _, d := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
		if sameClock(t.Add(d).In(loc), t) {
			return true
		}
	}
	return false
}

// sameClock reports whether a and b show the same date and clock time,
// each in its own location.
func sameClock(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	ah, amin, as := a.Clock()
	bh, bmin, bs := b.Clock()
	return ay == by && am == bm && ad == bd && ah == bh && amin == bmin && as == bs
}

// decimalSeconds reads s as Unix seconds written in decimal without an
// exponent (an optional sign, digits, and a fraction of which the first 9
// digits count), to the nanosecond it writes: a float64 has no room for
// the nanoseconds of today's seconds. ok is false for any other form, and
// for 1e11 seconds or more.
func decimalSeconds(s string) (t time.Time, ok bool) {
	whole, frac, _ := strings.Cut(s, ".")
	digits := strings.TrimLeft(whole, "+-")
	if len(whole)-len(digits) > 1 || digits == "" && frac == "" {
		return time.Time{}, false
	}
	for _, part := range []string{digits, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return time.Time{}, false
			}
		}
	}
	sec := int64(0)
	if digits != "" {
		var err error
		if sec, err = strconv.ParseInt(digits, 10, 64); err != nil || sec >= 1e11 {
			return time.Time{}, false
		}
	}
	ns := int64(0)
	for i := range 9 {
		ns *= 10
		if i < len(frac) {
			ns += int64(frac[i] - '0')
		}
	}
	if strings.HasPrefix(whole, "-") {
		sec, ns = -sec, -ns
	}
	return time.Unix(sec, ns), true
}

// notZero returns t, or an error when t is time.Time's zero instant (also
// written as Unix seconds, -62135596800), which marks a time not set.
func notZero(t time.Time) (time.Time, error) {
	if t.IsZero() {
		return time.Time{}, errors.New("is time.Time's zero, which marks a time not set")
	}
	return t, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
