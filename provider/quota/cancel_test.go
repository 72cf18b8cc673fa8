package quota_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider/quota"
)

// cancelOnWait is a clock stopped at now whose After moves it on by
// elapsed and ends the reader's context instead of ever firing: every
// wait on it is cancelled after elapsed.
type cancelOnWait struct {
	now     time.Time
	elapsed time.Duration
	cancel  context.CancelFunc
	waits   int
}

func (c *cancelOnWait) Now() time.Time { return c.now }

func (c *cancelOnWait) After(time.Duration) <-chan time.Time {
	c.waits++
	c.now = c.now.Add(c.elapsed)
	c.cancel()
	return nil
}

// A read whose context ends while it waits for the budget was never made:
// its reservation is given back, so Usage does not count it and the next
// reservation waits as though it had never been made (the sixth call of
// the second 1/5 s, not 2/5 s). Budget.Wait, QueryMetric and QueryMetrics
// (batching or not) kept the reservation and counted the call.
func TestCanceledWaitSpendsNothing(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		read func(t *testing.T, ctx context.Context, b *quota.Budget) (calls func() int32, err error)
	}{
		{"Wait", func(_ *testing.T, ctx context.Context, b *quota.Budget) (func() int32, error) {
			return func() int32 { return 0 }, b.Wait(ctx, quota.Cost{Calls: 1, Points: 12, RecentPoints: 12})
		}},
		{"QueryMetric", func(t *testing.T, ctx context.Context, b *quota.Budget) (func() int32, error) {
			f := &fakeSource{}
			src, err := quota.NewSource(f, b)
			require.NoError(t, err)
			_, err = src.QueryMetric(ctx, hourQueries(t0, 1)[0].Query)
			return f.calls.Load, err
		}},
		{"QueryMetrics", func(t *testing.T, ctx context.Context, b *quota.Budget) (func() int32, error) {
			f := &fakeSource{}
			src, err := quota.NewSource(f, b)
			require.NoError(t, err)
			return f.calls.Load, src.QueryMetrics(ctx, hourQueries(t0, 1))
		}},
		{"QueryMetrics batching", func(t *testing.T, ctx context.Context, b *quota.Budget) (func() int32, error) {
			f := &batchSource{}
			src, err := quota.NewSource(f, b)
			require.NoError(t, err)
			return f.calls.Load, src.QueryMetrics(ctx, hourQueries(t0, 1))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := &cancelOnWait{now: t0}
			b, err := quota.NewBudget(quota.Config{}, quota.WithClock(clk))
			require.NoError(t, err)
			for range 5 {
				require.Zero(t, b.ReserveAt(t0, quota.Cost{Calls: 1}), "a second's calls are held")
			}
			before := b.Usage().Cost
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			clk.cancel = cancel
			calls, err := tt.read(t, ctx, b)
			require.ErrorIs(t, err, context.Canceled)
			require.Equal(t, 1, clk.waits, "cancelled while waiting")
			assert.Zero(t, calls(), "the source was not called")
			assert.Equal(t, before, b.Usage().Cost, "a call never made spends nothing")
			assert.Equal(t, 200*time.Millisecond, b.ReserveAt(t0, quota.Cost{Calls: 1}), "the next waits as the sixth")
		})
	}
}

// A wait that its context ends counts in Usage.Waited only as far as it
// went: the 200 ms the sixth call of a second is assigned, cancelled at
// once or after 50 ms, and a 2 s wait cancelled after 1.5 s. It counted
// the whole assigned wait.
func TestCanceledWaitCountsTheTimeWaited(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		calls           int
		elapsed, assign time.Duration
	}{
		{5, 0, 200 * time.Millisecond},
		{5, 50 * time.Millisecond, 200 * time.Millisecond},
		{14, 1500 * time.Millisecond, 2 * time.Second},
	} {
		clk := &cancelOnWait{now: t0, elapsed: tt.elapsed}
		b, err := quota.NewBudget(quota.Config{}, quota.WithClock(clk))
		require.NoError(t, err)
		for range tt.calls {
			b.ReserveAt(t0, quota.Cost{Calls: 1})
		}
		before := b.Usage().Waited
		ctx, cancel := context.WithCancel(t.Context())
		clk.cancel = cancel
		require.ErrorIs(t, b.Wait(ctx, quota.Cost{Calls: 1}), context.Canceled)
		require.Equal(t, 1, clk.waits, "cancelled while waiting")
		assert.Equal(t, tt.elapsed, b.Usage().Waited-before, "after %d calls, cancelled after %s", tt.calls, tt.elapsed)
		// The next call waits as the one cancelled would have: it was
		// given back.
		assert.Equal(t, tt.assign-tt.elapsed, b.ReserveAt(clk.now, quota.Cost{Calls: 1}), "after %d calls", tt.calls)
		cancel()
	}
}
