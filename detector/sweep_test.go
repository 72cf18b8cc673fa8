package detector_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/quota"
)

// batchFleet is a gridFleet that also reads several queries in one call,
// counting the calls.
type batchFleet struct {
	*gridFleet
	calls atomic.Int32
}

func (b *batchFleet) QueryMetrics(ctx context.Context, qs []provider.Query) ([]provider.Series, error) {
	b.calls.Add(1)
	out := make([]provider.Series, len(qs))
	for i, q := range qs {
		s, err := b.QueryMetric(ctx, q)
		if err != nil && !errors.Is(err, provider.ErrUnsupported) {
			return nil, err
		}
		if err != nil {
			s = provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}
			for k := range s.Values {
				s.Values[k] = provider.Gap
			}
		}
		out[i] = s
	}
	return out, nil
}

// TestSweep: hourly sweeps of the trace fleet through a quota budget give
// Scan's verdicts, read each chunk in one batched call, and after the first
// sweep read only the new hour of the resources with a usable state.
func TestSweep(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	f := traceFleet(t, start)
	bf := &batchFleet{gridFleet: f}
	budget, err := quota.NewBudget(quota.Config{Share: 1, Limits: quota.Limits{CallsPerSecond: 1e6, PointsPerSecond: 1e12, RecentPointsPerSecond: 1e12}})
	require.NoError(t, err)
	src, err := quota.NewSource(bf, budget)
	require.NoError(t, err)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
	require.NoError(t, err)
	t0 := start.Add(30 * 24 * time.Hour)
	for h := range 4 {
		now := t0.Add(time.Duration(h) * time.Hour)
		before, usage := bf.calls.Load(), budget.Usage()
		rep, err := tr.Sweep(t.Context(), src, f, f.resources, detector.SweepConfig{Now: now, Chunk: 3})
		require.NoError(t, err)
		require.Empty(t, rep.Errors)
		require.Len(t, rep.Verdicts, len(f.resources))
		scan, err := detector.Scan(t.Context(), detector.Fleet{Inventory: f, Metrics: f}, ens, detector.ScanConfig{Now: now})
		require.NoError(t, err)
		for i := range scan.Verdicts {
			require.Equal(t, comparable(scan.Verdicts[i]), comparable(rep.Verdicts[i]), "%s at %s", scan.Verdicts[i].ResourceID, now)
		}
		calls := bf.calls.Load() - before
		spent := budget.Usage().Calls - usage.Calls
		t.Logf("hour %d: incremental %d, full %v, %d batched calls, %d budget calls, %d points", h, rep.Incremental, rep.Full, calls, spent, rep.Points)
		assert.Equal(t, int32(3), calls, "one batched call per chunk of 3 resources")
		if h == 0 {
			assert.Equal(t, map[string]int{"new resource": 8}, rep.Full)
			continue
		}
		// Resource 3 lives in a half-hour zone and 4 has suspect zeros:
		// they read in full after their new hour, each query a call.
		assert.Equal(t, 6, rep.Incremental)
		assert.Equal(t, map[string]int{"time zone not a whole number of hours from UTC": 1, "suspect zeros in the history": 1}, rep.Full)
		assert.Equal(t, 3+2*4, spent)
		assert.Equal(t, 8*4*12+2*4*8064, rep.Points, "an hour of 4 metrics each, and 2 full reads")
	}
	_, err = tr.Sweep(t.Context(), nil, nil, f.resources, detector.SweepConfig{Now: t0})
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = tr.Sweep(t.Context(), src, nil, f.resources, detector.SweepConfig{})
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = tr.Sweep(t.Context(), src, nil, f.resources, detector.SweepConfig{Now: t0, Chunk: -1})
	require.ErrorIs(t, err, provider.ErrInvalid)
}
