package synth_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/provider/memory/synth"
	"github.com/idlescale/idlescale/trace"
)

// nabIDs are the NAB EC2 CPU traces in the repository's testdata/nab:
// from github.com/numenta/NAB (commit ea702d75cc2258d9d7dd35ca8e5e2539d71f3140),
// data/realAWSCloudwatch/. Copyright 2014-2024 Numenta Inc., MIT licence
// (see testdata/README.md). 5-minute CPU percent, about 14 days each.
var nabIDs = []string{"24ae8d", "53ea38", "5f5533", "77c1ca", "825cc2", "ac20cd", "c6585a", "fe7f93"}

// nabShapes loads the NAB CPU traces as 5-minute series (fractions), once.
var nabShapes = sync.OnceValues(func() ([]provider.Series, error) {
	var out []provider.Series
	for _, id := range nabIDs {
		samples, err := trace.ReadCSVFile(filepath.Join("..", "..", "..", "testdata", "nab", "ec2_cpu_utilization_"+id+".csv"), trace.CSVOptions{Scale: 0.01})
		if err != nil {
			return nil, err
		}
		start, end := samples[0].Time, samples[len(samples)-1].Time.Add(5*time.Minute)
		s, err := provider.Resample(provider.Query{ResourceID: id, Metric: provider.MetricCPU, Start: start, End: end, Step: 5 * time.Minute}, samples)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
})

func shapes(t testing.TB) []provider.Series {
	t.Helper()
	s, err := nabShapes()
	require.NoError(t, err)
	return s
}

var start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// newFleet returns a fleet of size resources on a mock clock set to now.
func newFleet(t testing.TB, size int, seed uint64, now time.Time) (*synth.Fleet, *bclock.Mock) {
	t.Helper()
	clk := bclock.NewMock()
	clk.Set(now)
	f, err := synth.New(synth.Config{Size: size, Seed: seed, Shapes: shapes(t), Start: start}, synth.WithClock(clk))
	require.NoError(t, err)
	return f, clk
}

// A nil *clock.Mock is not a nil Clock (which means the wall clock): New
// refuses it, naming the clock. It was taken, and the first read panicked.
func TestNewRefusesNilClockPointer(t *testing.T) {
	t.Parallel()
	_, err := synth.New(synth.Config{Size: 10, Shapes: shapes(t), Start: start}, synth.WithClock((*bclock.Mock)(nil)))
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "clock", inv.Field)
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	good := func() synth.Config { return synth.Config{Size: 10, Shapes: shapes(t), Start: start} }
	flat := provider.Series{Step: 5 * time.Minute, Start: start, Values: []float64{provider.Gap, provider.Gap}}
	tests := []struct {
		name  string
		edit  func(*synth.Config)
		field string
	}{
		{"zero size", func(c *synth.Config) { c.Size = 0 }, "size"},
		{"negative size", func(c *synth.Config) { c.Size = -1 }, "size"},
		{"too large", func(c *synth.Config) { c.Size = synth.MaxSize + 1 }, "size"},
		{"no shapes", func(c *synth.Config) { c.Shapes = nil }, "shapes"},
		{"all gaps", func(c *synth.Config) { c.Shapes = []provider.Series{flat} }, "shapes[0].values"},
		{"mixed steps", func(c *synth.Config) { s := flat; s.Step = time.Minute; c.Shapes = append(c.Shapes, s) }, "shapes[8].step"},
		{"zero step", func(c *synth.Config) { s := flat; s.Step = 0; c.Shapes = []provider.Series{s} }, "shapes[0].step"},
		{"infinite value", func(c *synth.Config) {
			s := c.Shapes[0].Clone()
			s.Values[3] = math.Inf(1)
			c.Shapes = []provider.Series{s}
		}, "shapes[0].values[3]"},
		{"no start", func(c *synth.Config) { c.Start = time.Time{} }, "start"},
		{"start before 1970", func(c *synth.Config) { c.Start = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC) }, "start"},
		{"negative share", func(c *synth.Config) { c.Mix = synth.Mix{Idle: 1.5, Busy: -0.5} }, "mix.busy"},
		{"NaN share", func(c *synth.Config) { c.Mix = synth.Mix{Idle: math.NaN(), Busy: 1} }, "mix.idle"},
		{"shares not summing to 1", func(c *synth.Config) { c.Mix = synth.Mix{Idle: 0.5, Busy: 0.4} }, "mix"},
		{"bad prefix", func(c *synth.Config) { c.Prefix = "i\x00" }, "prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := good()
			tt.edit(&c)
			_, err := synth.New(c)
			require.ErrorIs(t, err, provider.ErrInvalid)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	c := good()
	c.Size = 1
	_, err := synth.New(c)
	require.NoError(t, err, "one resource")
}

// TestInventory: IDs sort as indices, Get and List agree, and IDs that
// are not the fleet's are not found.
func TestInventory(t *testing.T) {
	t.Parallel()
	f, _ := newFleet(t, 1000, 1, start.Add(30*24*time.Hour))
	ctx := t.Context()
	assert.Equal(t, "i-000", f.ID(0))
	assert.Equal(t, "i-999", f.ID(999))
	all, err := f.List(ctx, provider.Filter{})
	require.NoError(t, err)
	require.Len(t, all, 1000)
	assert.True(t, slices.IsSortedFunc(all, func(a, b provider.Resource) int { return cmp.Compare(a.ID, b.ID) }))
	for _, i := range []int{0, 1, 500, 999} {
		r, err := f.Get(ctx, f.ID(i))
		require.NoError(t, err)
		assert.Equal(t, all[i], r)
		require.NoError(t, r.Validate())
		assert.Equal(t, provider.StateRunning, r.State)
		assert.Equal(t, start, r.LaunchTime)
		assert.Equal(t, "synth", r.Provider)
		assert.Positive(t, r.HourlyCost)
		j, ok := f.Index(r.ID)
		assert.True(t, ok)
		assert.Equal(t, i, j)
	}
	for _, id := range []string{"i-1000", "i-99", "i-0001", "i-00x", "j-001", "i-", "i-+12"} {
		_, err := f.Get(ctx, id)
		require.ErrorIs(t, err, provider.ErrNotFound, id)
		_, err = f.QueryMetric(ctx, provider.Query{ResourceID: id, Metric: provider.MetricCPU, Start: start, End: start.Add(time.Hour), Step: time.Minute})
		require.ErrorIs(t, err, provider.ErrNotFound, id)
	}
	_, err = f.Get(ctx, "")
	require.ErrorIs(t, err, provider.ErrInvalid)
	some, err := f.List(ctx, provider.Filter{IDs: []string{"i-007", "i-003", "nope", "i-007"}})
	require.NoError(t, err)
	assert.Equal(t, []provider.Resource{all[3], all[7]}, some)
	_, err = f.List(ctx, provider.Filter{States: []provider.State{"bogus"}})
	require.ErrorIs(t, err, provider.ErrInvalid)

	reads := []provider.ResourceRead{{ID: "i-042"}, {ID: "i-5000"}}
	require.NoError(t, f.GetResources(ctx, reads))
	assert.Equal(t, all[42], reads[0].Resource)
	require.ErrorIs(t, reads[1].Err, provider.ErrNotFound)

	ended, cancel := context.WithCancel(ctx)
	cancel()
	_, err = f.List(ended, provider.Filter{})
	require.ErrorIs(t, err, context.Canceled)
}

// TestDeterministic: the same seed gives the same series, another seed
// other series, and a second fleet object changes nothing.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	now := start.Add(20 * 24 * time.Hour)
	a, _ := newFleet(t, 100_000, 7, now)
	b, _ := newFleet(t, 100_000, 7, now)
	c, _ := newFleet(t, 100_000, 8, now)
	ctx := t.Context()
	differ := 0
	for _, i := range []int{0, 1, 2, 99, 12_345, 99_999} {
		for _, m := range synth.Metrics() {
			q := provider.Query{ResourceID: a.ID(i), Metric: m, Start: now.Add(-7 * 24 * time.Hour), End: now, Step: 5 * time.Minute}
			sa, err := a.QueryMetric(ctx, q)
			require.NoError(t, err)
			sb, err := b.QueryMetric(ctx, q)
			require.NoError(t, err)
			sc, err := c.QueryMetric(ctx, q)
			require.NoError(t, err)
			require.True(t, sameValues(sa.Values, sb.Values), "%s %s", q.ResourceID, m)
			if !sameValues(sa.Values, sc.Values) {
				differ++
			}
			assert.Less(t, sa.Gaps(), len(sa.Values)/10, "real traces have few gaps")
		}
	}
	assert.Equal(t, 6*4, differ, "another seed, other series")
}

func sameValues(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) })
}

// TestMixProportions: the classes keep the Mix's shares over the fleet and
// over any range of indices.
func TestMixProportions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mix  synth.Mix
		want [4]float64
	}{
		{synth.Mix{}, [4]float64{0.3, 0.4, 0.2, 0.1}},
		{synth.Mix{Idle: 0.5, Weekly: 0.5}, [4]float64{0.5, 0, 0, 0.5}},
		{synth.Mix{Busy: 1}, [4]float64{0, 1, 0, 0}},
		{synth.Mix{Weekly: 1}, [4]float64{0, 0, 0, 1}},
	} {
		f, err := synth.New(synth.Config{Size: 200_000, Seed: 3, Shapes: shapes(t), Start: start, Mix: tc.mix})
		require.NoError(t, err)
		for _, r := range [][2]int{{0, 200_000}, {0, 1000}, {123_456, 124_456}} {
			var n [4]int
			for i := r[0]; i < r[1]; i++ {
				n[f.Class(i)]++
			}
			size := float64(r[1] - r[0])
			for c, want := range tc.want {
				assert.InDelta(t, want*size, float64(n[c]), 0.002*size+2, "%v %s over %v", tc.mix, synth.Class(c), r)
			}
		}
	}
	assert.Equal(t, "weekly", synth.ClassWeekly.String())
	assert.Equal(t, "class(9)", synth.Class(9).String())
}

// TestClassesBehave: each class's CPU over two weeks looks like what its
// documentation promises, so that detectors have real decisions to make.
func TestClassesBehave(t *testing.T) {
	t.Parallel()
	now := start.Add(28 * 24 * time.Hour)
	f, _ := newFleet(t, 10_000, 11, now)
	seen := map[synth.Class]int{}
	for i := range 400 {
		c := f.Class(i)
		s, err := f.QueryMetric(t.Context(), provider.Query{ResourceID: f.ID(i), Metric: provider.MetricCPU, Start: now.Add(-14 * 24 * time.Hour), End: now, Step: time.Hour, Statistic: provider.StatMax})
		require.NoError(t, err)
		hours := slices.DeleteFunc(slices.Clone(s.Values), math.IsNaN)
		busy := 0
		for _, v := range hours {
			if v > 0.2 {
				busy++
			}
		}
		share := float64(busy) / float64(len(hours))
		switch c {
		case synth.ClassIdle:
			assert.LessOrEqual(t, slices.Max(hours), 0.022+1e-12, "resource %d", i)
		case synth.ClassBusy:
			assert.GreaterOrEqual(t, slices.Min(hours), 0.30, "resource %d", i)
		case synth.ClassDaily:
			assert.GreaterOrEqual(t, share, 8.0/24-0.01, "resource %d busy 8–12 h a day", i)
			assert.LessOrEqual(t, share, 12.0/24+0.01, "resource %d busy 8–12 h a day", i)
		case synth.ClassWeekly:
			assert.InDelta(t, 4.0/168, share, 0.003, "resource %d busy 4 h a week", i)
			assert.Greater(t, slices.Max(hours), 0.6, "resource %d", i)
		}
		seen[c]++
	}
	assert.Len(t, seen, 4)
	// Memory, network and disk follow.
	q := provider.Query{ResourceID: f.ID(0), Start: now.Add(-24 * time.Hour), End: now, Step: 5 * time.Minute}
	for _, m := range synth.Metrics() {
		q.Metric = m
		s, err := f.QueryMetric(t.Context(), q)
		require.NoError(t, err)
		for _, v := range s.Values {
			if !provider.IsGap(v) {
				require.True(t, v >= 0 && v <= 1, "%s %v", m, v)
			}
		}
	}
	q.Metric = provider.MetricRequests
	s, err := f.QueryMetric(t.Context(), q)
	require.NoError(t, err)
	assert.Equal(t, len(s.Values), s.Gaps(), "a metric not generated reads as gaps")
}

// TestConsistentWithFullRead: every read, at any step, offset and
// statistic, equals the same read of the full native series stored in a
// memory.Cloud; batched reads equal single ones; steps after now and
// before the start are gaps.
func TestConsistentWithFullRead(t *testing.T) {
	t.Parallel()
	now := start.Add(21*24*time.Hour + 7*time.Minute + 3*time.Second)
	f, clk := newFleet(t, 5000, 5, now)
	c, err := memory.New(memory.Config{}, memory.WithClock(clk))
	require.NoError(t, err)
	ctx := t.Context()
	ids := []int{0, 1, 2, 3, 4, 777, 4999}
	for _, i := range ids {
		require.NoError(t, c.Add(provider.Resource{ID: f.ID(i), Kind: provider.KindInstance}))
		for _, m := range synth.Metrics() {
			full, err := f.QueryMetric(ctx, provider.Query{ResourceID: f.ID(i), Metric: m, Start: start, End: now.Add(time.Hour), Step: f.Step()})
			require.NoError(t, err)
			require.True(t, provider.IsGap(full.Values[len(full.Values)-1]), "the future is not visible")
			require.NoError(t, c.SetSeries(full))
		}
	}
	stats := []provider.Statistic{"", provider.StatMean, provider.StatMax, provider.StatMin, provider.StatSum, provider.StatCount, provider.StatLast, "p95", "p50"}
	steps := []time.Duration{f.Step(), time.Minute, 7 * time.Minute, time.Hour, 24 * time.Hour}
	offsets := []time.Duration{0, 2 * time.Minute, -5 * time.Minute, 90 * time.Second}
	var reads []provider.MetricRead
	for k, i := range ids {
		for _, m := range synth.Metrics() {
			for _, st := range stats {
				for _, step := range steps {
					off := offsets[(k+len(reads))%len(offsets)]
					for _, span := range [][2]time.Time{
						{now.Add(-3 * 24 * time.Hour).Truncate(time.Hour).Add(off), now.Add(-time.Hour).Truncate(time.Hour)},
						{now.Add(-2 * time.Hour).Add(off), now.Add(2 * time.Hour)},     // across now
						{now.Truncate(time.Hour).Add(off), now.Add(time.Hour)},         // across now, on the grid
						{start.Add(-6 * time.Hour).Add(off), start.Add(6 * time.Hour)}, // across the start
					} {
						q := provider.Query{ResourceID: f.ID(i), Metric: m, Start: span[0], End: span[1], Step: step, Statistic: st}
						want, err := c.QueryMetric(ctx, q)
						require.NoError(t, err)
						got, err := f.QueryMetric(ctx, q)
						require.NoError(t, err)
						require.Equal(t, want.Start, got.Start)
						require.Equal(t, want.Step, got.Step)
						require.True(t, sameValues(want.Values, got.Values), "%+v\nwant %v\ngot  %v", q, want.Values, got.Values)
						reads = append(reads, provider.MetricRead{Query: q, Series: provider.Series{Values: make([]float64, 0, 4)}})
					}
				}
			}
		}
	}
	require.NoError(t, f.QueryMetrics(ctx, reads))
	for _, r := range reads {
		require.NoError(t, r.Err)
		want, err := c.QueryMetric(ctx, r.Query)
		require.NoError(t, err)
		require.Equal(t, r.Query.ResourceID, r.Series.ResourceID)
		require.True(t, sameValues(want.Values, r.Series.Values), "batched %+v", r.Query)
	}
	bad := []provider.MetricRead{{Query: provider.Query{ResourceID: "i-9999", Metric: provider.MetricCPU, Start: start, End: now, Step: time.Hour}}, {Query: provider.Query{ResourceID: f.ID(1)}}}
	require.NoError(t, f.QueryMetrics(ctx, bad))
	require.ErrorIs(t, bad[0].Err, provider.ErrNotFound)
	require.ErrorIs(t, bad[1].Err, provider.ErrInvalid)

	// As the clock advances the next step appears, with the value a later
	// full read has, and earlier steps do not change.
	q := provider.Query{ResourceID: f.ID(3), Metric: provider.MetricCPU, Start: now.Truncate(f.Step()).Add(-time.Hour), End: now.Add(time.Hour), Step: f.Step()}
	before, err := f.QueryMetric(ctx, q)
	require.NoError(t, err)
	clk.Add(f.Step())
	after, err := f.QueryMetric(ctx, q)
	require.NoError(t, err)
	assert.Equal(t, before.Gaps()-1, after.Gaps())
	assert.True(t, sameValues(before.Values[:13], after.Values[:13]))
	assert.False(t, provider.IsGap(after.Values[13]))
}

// tickingClock moves on by tick at every reading, as a wall clock moves on
// during a batch.
type tickingClock struct {
	mu   sync.Mutex
	now  time.Time
	tick time.Duration
}

func (c *tickingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now
	c.now = c.now.Add(c.tick)
	return now
}

func (c *tickingClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// QueryMetrics answers a batch at one time of the clock, as documented:
// the same read twice in a batch gives the same values, even when the
// clock moves on between them and a new native step becomes visible.
func TestQueryMetricsAtOneTime(t *testing.T) {
	t.Parallel()
	clk := &tickingClock{now: start.Add(24 * time.Hour), tick: 5 * time.Minute}
	f, err := synth.New(synth.Config{Size: 10, Seed: 3, Shapes: shapes(t), Start: start}, synth.WithClock(clk))
	require.NoError(t, err)
	q := provider.Query{ResourceID: f.ID(1), Metric: provider.MetricCPU, Start: start.Add(23 * time.Hour), End: start.Add(25 * time.Hour), Step: 5 * time.Minute}
	reads := []provider.MetricRead{{Query: q}, {Query: q}, {Query: q}}
	require.NoError(t, f.QueryMetrics(t.Context(), reads))
	for i := range reads {
		require.NoError(t, reads[i].Err)
	}
	assert.Equal(t, reads[0].Series.Gaps(), reads[1].Series.Gaps(), "the reads of one batch see one now")
	assert.Equal(t, fmt.Sprint(reads[0].Series.Values), fmt.Sprint(reads[2].Series.Values))
}

// TestNewRefusesPrefixTooLongForItsIDs: Config.Prefix was checked with one
// digit after it, but the IDs carry as many as Size−1 has: a prefix that
// left room for one digit and not three made a fleet whose every ID is
// longer than provider.MaxIDLength, so that List returned resources that
// Get and every other call refuse as invalid. New refuses it, naming the
// prefix; one that leaves room for the widest ID is taken.
func TestNewRefusesPrefixTooLongForItsIDs(t *testing.T) {
	t.Parallel()
	cfg := synth.Config{Size: 1000, Shapes: shapes(t), Start: start, Prefix: strings.Repeat("p", provider.MaxIDLength-1)}
	_, err := synth.New(cfg)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "prefix", ie.Field)
	cfg.Prefix = strings.Repeat("p", provider.MaxIDLength-3)
	f, err := synth.New(cfg)
	require.NoError(t, err)
	r, err := f.Get(t.Context(), f.ID(999))
	require.NoError(t, err)
	require.NoError(t, r.Validate())
}

// TestShapeOfHugeRangeNormalises: a shape is normalised to [0, 1] whatever
// its values, as long as they are finite (Series.Validate): one spanning
// more than the float64 range (hi − lo overflowing to +Inf) normalised
// its largest value to NaN, a gap in the generated series where the
// trace has a value, and every other to 0.
func TestShapeOfHugeRangeNormalises(t *testing.T) {
	t.Parallel()
	shape := provider.Series{Step: 5 * time.Minute, Start: start, Values: []float64{-math.MaxFloat64, 0, math.MaxFloat64}}
	clk := bclock.NewMock()
	clk.Set(start.Add(time.Hour))
	f, err := synth.New(synth.Config{Size: 1, Shapes: []provider.Series{shape}, Start: start, Mix: synth.Mix{Idle: 1}}, synth.WithClock(clk))
	require.NoError(t, err)
	s, err := f.QueryMetric(t.Context(), provider.Query{ResourceID: f.ID(0), Metric: provider.MetricCPU, Start: start, End: start.Add(15 * time.Minute), Step: 5 * time.Minute})
	require.NoError(t, err)
	require.Zero(t, s.Gaps(), "%v", s.Values)
	got := slices.Sorted(slices.Values(s.Values))
	assert.InDeltaSlice(t, []float64{0.002, 0.012, 0.022}, got, 1e-12, "the idle band, at the shape's lowest, middle and highest value")
}
