// Package trace reads real metric traces, such as a CloudWatch or
// Prometheus export or a monitoring system's CSV dump, into the
// provider.Sample values the rest of the SDK works on.
//
// It exists so that a host can replay its own history: load a CPU or
// request trace, feed it to the in-memory cloud (memory.Cloud.Replay, or a
// fleet file whose metrics name CSV files), to a detector or to a forecast
// backtest, and see what the library would have decided on the days it
// already knows. provider.Resample puts the samples on a regular grid
// (provider.Series) with explicit gaps.
//
//	cpu, err := trace.ReadCSVFile("testdata/nab/ec2_cpu_utilization_c6585a.csv",
//		trace.CSVOptions{Scale: 0.01}) // percent to fraction
//	if err != nil { ... }                 // names the line and column that was wrong
//	_ = cloud.Replay("i-1", provider.MetricCPU, cpu, cloud.Now())
//
// # Format
//
// ReadCSV reads one time column and one value column, found by their
// header names (by default the layout of the Numenta Anomaly Benchmark:
// "timestamp" and "value"; spaces around a name or a field are ignored). Times are RFC 3339, "YYYY-MM-DD HH:MM:SS" with
// or without a zone offset, "YYYY-MM-DD HH:MM" or Unix seconds; times
// without a zone are read in CSVOptions.Location (UTC by default), and
// one its clocks skip (a daylight-saving change) is an error. A row
// with an empty value is a gap and is left out (its time is checked like
// any other's), as are a row whose every field is empty and a row
// CSVOptions.SkipRow drops. Rows must be
// strictly increasing in time and values finite: anything else is an
// error matching provider.ErrInvalid that names the line and the column,
// never a silently reordered or misread row. A UTF-8 byte-order mark at the start is skipped.
//
// # Untrusted input
//
// A trace file may be named by someone else (a fleet file, a setting), so
// reading one is bounded: ReadCSVFile and ReadCSVFS read only regular
// files (a directory, /dev/zero, a named pipe or a /proc file is refused
// before it is read), a file larger than CSVOptions.MaxBytes (default 256
// MiB) is refused, and a line longer than CSVOptions.MaxLineBytes (default
// 1 MiB) stops the read with an error naming it. Errors quote the input
// only sparingly: a first line that is plainly a header of column names as
// a short escaped excerpt, a bad field only when it is plainly a time or a
// number, and nothing of anything else, so a mistaken path to a credentials
// file does not print them. Which paths may be read at all is the
// caller's to decide: ReadCSVFS with an (*os.Root).FS confines them to a
// directory.
package trace
