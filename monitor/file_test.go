package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/provider"
)

func TestFileSinkRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	fs, err := monitor.NewFileSink(monitor.FileConfig{Path: path, Sync: true})
	require.NoError(t, err)
	l, err := monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("file", fs))
	require.NoError(t, err)
	e := ev(monitor.KindBlocked, `i-<script>"x"`, 0)
	e.Rules = []string{"backup", "business_hours"}
	e.Cost = &monitor.CostChange{Before: 0.096}
	require.NoError(t, l.Record(t.Context(), e, ev(monitor.KindAction, "i-2", time.Second)))
	require.NoError(t, fs.Close())
	require.NoError(t, fs.Close(), "a second close is fine")
	require.ErrorIs(t, fs.Write(t.Context(), []monitor.Event{e}), monitor.ErrClosed)

	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	got, err := monitor.ReadEvents(f)
	require.NoError(t, err)
	want, _ := l.Query(monitor.Query{})
	assert.Equal(t, want, got)

	// Appends to an existing file.
	fs, err = monitor.NewFileSink(monitor.FileConfig{Path: path})
	require.NoError(t, err)
	require.NoError(t, fs.Write(t.Context(), want[:1]))
	require.NoError(t, fs.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(string(data), "\n"))
}

func TestFileSinkRotates(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	one := ev(monitor.KindVerdict, "i-1", 0)
	one.Seq = 1
	b, err := json.Marshal(one)
	require.NoError(t, err)
	line := append(b, '\n')
	// Room for two lines per file, two rotated files kept.
	fs, err := monitor.NewFileSink(monitor.FileConfig{Path: path, MaxBytes: int64(2 * len(line)), MaxFiles: 2})
	require.NoError(t, err)
	for i := range 7 {
		e := one
		e.Seq = uint64(i + 1)
		require.NoError(t, fs.Write(t.Context(), []monitor.Event{e}))
	}
	require.NoError(t, fs.Close())
	files := fs.Files()
	require.Equal(t, []string{path + ".2", path + ".1", path}, files, "oldest first")
	var seqs []uint64
	for _, name := range files {
		data, err := os.ReadFile(name)
		require.NoError(t, err)
		evs, err := monitor.ReadEvents(bytes.NewReader(data))
		require.NoError(t, err)
		assert.LessOrEqual(t, len(data), 2*len(line), name)
		for _, e := range evs {
			seqs = append(seqs, e.Seq)
		}
	}
	assert.Equal(t, []uint64{3, 4, 5, 6, 7}, seqs, "seven events two per file: four files, the oldest (1, 2) removed")
	_, err = os.Stat(path + ".3")
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestFileSinkBadInput(t *testing.T) {
	t.Parallel()
	var ie *provider.InvalidError
	for _, c := range []struct {
		give  monitor.FileConfig
		field string
	}{
		{monitor.FileConfig{}, "path"},
		{monitor.FileConfig{Path: "x", MaxBytes: -1}, "max_bytes"},
		{monitor.FileConfig{Path: "x", MaxFiles: -1}, "max_files"},
	} {
		_, err := monitor.NewFileSink(c.give)
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, c.field, ie.Field)
	}
	_, err := monitor.NewFileSink(monitor.FileConfig{Path: filepath.Join(t.TempDir(), "no", "such", "dir", "f")})
	require.ErrorIs(t, err, os.ErrNotExist)

	evs, err := monitor.ReadEvents(strings.NewReader(`{"time":"2026-03-02T10:00:00Z","kind":"run","source":"x"}` + "\n\n{nope\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 3")
	assert.Len(t, evs, 1, "the events before the bad line")
	_, err = monitor.ReadEvents(strings.NewReader(`{"time":"2026-03-02T10:00:00Z","kind":"run"}`))
	require.ErrorIs(t, err, provider.ErrInvalid, "an event without a source is refused")
}

// A sink whose file cannot be written keeps its events in the backlog and
// delivers them once it can.
func TestFileSinkFailureIsRetried(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	fs, err := monitor.NewFileSink(monitor.FileConfig{Path: path})
	require.NoError(t, err)
	var closed bool
	sink := monitor.SinkFunc(func(ctx context.Context, evs []monitor.Event) error {
		if closed {
			return os.ErrClosed
		}
		return fs.Write(ctx, evs)
	})
	l, err := monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("file", sink))
	require.NoError(t, err)
	closed = true
	require.ErrorIs(t, l.Record(t.Context(), ev(monitor.KindRun, "", 0)), monitor.ErrSink)
	closed = false
	require.NoError(t, l.Record(t.Context(), ev(monitor.KindRun, "", time.Second)))
	require.NoError(t, fs.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	evs, err := monitor.ReadEvents(bytes.NewReader(data))
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.Equal(t, uint64(1), evs[0].Seq)
	assert.Equal(t, uint64(2), evs[1].Seq)
}

// A rotation that fails once (a non-empty directory where Path.1 goes)
// fails that Write only: the sink is not left closed (every later Write
// returned ErrClosed though Close was never called, and the Log's backlog
// grew until it dropped events). Once the obstacle is gone it rotates,
// and the Log's pending event is written: nothing is lost. Close still
// makes Writes return ErrClosed.
func TestFileSinkRecoversFromFailedRotation(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	fs, err := monitor.NewFileSink(monitor.FileConfig{Path: path, MaxBytes: 10, MaxFiles: 1})
	require.NoError(t, err)
	l, err := monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("file", fs))
	require.NoError(t, err)
	ctx := t.Context()
	require.NoError(t, l.Record(ctx, ev(monitor.KindRun, "", 0)))

	obstacle := path + ".1"
	require.NoError(t, os.MkdirAll(filepath.Join(obstacle, "x"), 0o755))
	err = l.Record(ctx, ev(monitor.KindRun, "", time.Second))
	require.ErrorIs(t, err, monitor.ErrSink)
	require.NotErrorIs(t, err, monitor.ErrClosed)
	err = l.Record(ctx, ev(monitor.KindRun, "", 2*time.Second))
	require.ErrorIs(t, err, monitor.ErrSink, "still in the way")
	require.NotErrorIs(t, err, monitor.ErrClosed)

	require.NoError(t, os.RemoveAll(obstacle))
	require.NoError(t, l.Record(ctx, ev(monitor.KindRun, "", 3*time.Second)), "recovers once it can rotate")
	require.NoError(t, fs.Close())
	require.ErrorIs(t, fs.Write(ctx, []monitor.Event{ev(monitor.KindRun, "", 4*time.Second)}), monitor.ErrClosed)
	var all []monitor.Event
	for _, f := range []string{path + ".1", path} {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		evs, err := monitor.ReadEvents(bytes.NewReader(data))
		require.NoError(t, err)
		all = append(all, evs...)
	}
	var offsets []time.Duration
	for _, e := range all {
		offsets = append(offsets, e.Time.Sub(t0))
	}
	assert.Equal(t, []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second}, offsets)
}

// An event whose time JSON cannot encode (a year past 9999, a clock gone
// wrong) is refused by Record, naming its time, rather than recorded: a
// file sink could never write it, and the Log, passing its backlog again
// before newer events, would hold every later event back from the file
// until the backlog overflowed and dropped them.
func TestRecordRefusesATimeJSONCannotEncode(t *testing.T) {
	t.Parallel()
	for name, at := range map[string]time.Time{
		"year 10000": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		"year -1":    time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		"offset 24h": time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("bad", 24*60*60)),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "events.jsonl")
			fs, err := monitor.NewFileSink(monitor.FileConfig{Path: path})
			require.NoError(t, err)
			t.Cleanup(func() { _ = fs.Close() })
			l, err := monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("file", fs))
			require.NoError(t, err)
			bad := ev(monitor.KindAction, "i-1", 0)
			bad.Time = at
			err = l.Record(t.Context(), bad)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie, "refused as invalid, not a sink's failure: %v", err)
			assert.Equal(t, "events[0].time", ie.Field)
			require.NoError(t, l.Record(t.Context(), ev(monitor.KindAction, "i-2", 0)), "the file takes the next event")
			assert.Equal(t, []monitor.SinkStats{{Name: "file"}}, l.Stats())
		})
	}
}

// A MaxFiles too large to walk (every rotation renames Path.MaxFiles-1
// down to Path.1, and Files looks for each) is refused, naming it, at
// its bound and above: MaxInt was taken, and the first rotation or Files
// call then never returned.
func TestFileConfigRefusesMaxFilesTooLargeToWalk(t *testing.T) {
	t.Parallel()
	for _, n := range []int{monitor.MaxFiles + 1, math.MaxInt32, math.MaxInt} {
		_, err := monitor.NewFileSink(monitor.FileConfig{Path: filepath.Join(t.TempDir(), "events.jsonl"), MaxFiles: n})
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "%d", n)
		assert.Equal(t, "max_files", ie.Field)
	}
	fs, err := monitor.NewFileSink(monitor.FileConfig{Path: filepath.Join(t.TempDir(), "events.jsonl"), MaxFiles: monitor.MaxFiles})
	require.NoError(t, err, "at the bound")
	assert.Len(t, fs.Files(), 1)
	require.NoError(t, fs.Close())
}
