package memory_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/provider/quota"
)

// gapSource answers every query with gaps on its grid, cheaply.
var gapSource = provider.MetricsSourceFunc(func(_ context.Context, q provider.Query) (provider.Series, error) {
	v := make([]float64, q.Steps())
	for i := range v {
		v[i] = provider.Gap
	}
	return provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: v}, nil
})

var quotaT0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func newEmulator(t *testing.T, lim quota.Limits) (*memory.QuotaEmulator, *bclock.Mock) {
	t.Helper()
	clk := bclock.NewMock()
	clk.Set(quotaT0)
	e, err := memory.NewQuotaEmulator(gapSource, clk, lim)
	require.NoError(t, err)
	return e, clk
}

// quotaCloud is a Cloud on a fake clock at quotaT0 holding instance i-1.
func quotaCloud(t *testing.T) (*memory.Cloud, *bclock.Mock) {
	t.Helper()
	clk := bclock.NewMock()
	clk.Set(quotaT0)
	c, err := memory.New(memory.Config{}, memory.WithClock(clk))
	require.NoError(t, err)
	require.NoError(t, c.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance}))
	return c, clk
}

// oldQuery reads n one-minute points that end 3 h before now (old data).
func oldQuery(now time.Time, n int) provider.Query {
	end := now.Add(-3 * time.Hour)
	return provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: end.Add(-time.Duration(n) * time.Minute), End: end, Step: time.Minute}
}

// recentQuery reads n 100-ms points that end now (recent data).
func recentQuery(now time.Time, n int) provider.Query {
	return provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: now.Add(-time.Duration(n) * 100 * time.Millisecond), End: now, Step: 100 * time.Millisecond}
}

func TestQuotaEmulatorRejectsLimits(t *testing.T) {
	t.Parallel()
	cw := quota.CloudWatch()
	with := func(f func(*quota.Limits)) quota.Limits { l := cw; f(&l); return l }
	tests := []struct {
		name  string
		give  quota.Limits
		field string
	}{
		{"zero limits", quota.Limits{}, "limits.calls_per_second"},
		{"zero calls", with(func(l *quota.Limits) { l.CallsPerSecond = 0 }), "limits.calls_per_second"},
		{"negative calls", with(func(l *quota.Limits) { l.CallsPerSecond = -50 }), "limits.calls_per_second"},
		{"half a call", with(func(l *quota.Limits) { l.CallsPerSecond = 0.5 }), "limits.calls_per_second"},
		{"NaN points", with(func(l *quota.Limits) { l.PointsPerSecond = math.NaN() }), "limits.points_per_second"},
		{"infinite recent points", with(func(l *quota.Limits) { l.RecentPointsPerSecond = math.Inf(1) }), "limits.recent_points_per_second"},
		{"zero recent points", with(func(l *quota.Limits) { l.RecentPointsPerSecond = 0 }), "limits.recent_points_per_second"},
		{"zero recent age", with(func(l *quota.Limits) { l.RecentAge = 0 }), "limits.recent_age"},
		{"zero metrics per call", with(func(l *quota.Limits) { l.MetricsPerCall = 0 }), "limits.metrics_per_call"},
		{"negative points per call", with(func(l *quota.Limits) { l.PointsPerCall = -1 }), "limits.points_per_call"},
		{"points rate below a call", with(func(l *quota.Limits) { l.PointsPerSecond = 100_799 }), "limits.points_per_second"},
		{"recent rate below a call", with(func(l *quota.Limits) { l.RecentPointsPerSecond = 100_799 }), "limits.recent_points_per_second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := memory.NewQuotaEmulator(gapSource, bclock.NewMock(), tt.give)
			require.ErrorIs(t, err, provider.ErrInvalid)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	_, err := memory.NewQuotaEmulator(nil, bclock.NewMock(), cw)
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = memory.NewQuotaEmulator(gapSource, nil, cw)
	require.ErrorIs(t, err, provider.ErrInvalid)
	// The boundaries themselves are allowed.
	e, err := memory.NewQuotaEmulator(gapSource, bclock.NewMock(), with(func(l *quota.Limits) {
		l.CallsPerSecond, l.PointsPerSecond, l.RecentPointsPerSecond = 1, 100_800, 100_800
	}))
	require.NoError(t, err)
	assert.InDelta(t, 1, e.Limits().CallsPerSecond, 0)
}

// TestQuotaEmulatorCallsPerSecond: 50 calls in one instant pass, the 51st
// is throttled; 999 ms later 49 more pass; a second after that the bucket
// is full again but not fuller.
func TestQuotaEmulatorCallsPerSecond(t *testing.T) {
	t.Parallel()
	e, clk := newEmulator(t, quota.CloudWatch())
	ctx := t.Context()
	q := oldQuery(quotaT0, 1)
	burst := func(n int) {
		t.Helper()
		for i := range n {
			_, err := e.QueryMetric(ctx, q)
			require.NoError(t, err, "call %d", i)
		}
		_, err := e.QueryMetric(ctx, q)
		require.ErrorIs(t, err, provider.ErrThrottled, "call %d", n)
		assert.Contains(t, err.Error(), "limits.calls_per_second")
	}
	burst(50)
	assert.Equal(t, memory.QuotaUsage{Cost: quota.Cost{Calls: 50, Points: 50}, Throttled: 1}, e.Usage())
	clk.Add(999 * time.Millisecond)
	burst(49)
	clk.Add(time.Second)
	burst(50)
	clk.Add(10 * time.Second)
	burst(50)
	// The batch call counts as one call.
	clk.Add(time.Second)
	qs := make([]provider.Query, 500)
	for i := range qs {
		qs[i] = q
	}
	for i := range 50 {
		got, err := queryAll(ctx, e, qs)
		require.NoError(t, err, "call %d", i)
		require.Len(t, got, 500)
	}
	_, err := queryAll(ctx, e, qs[:1])
	require.ErrorIs(t, err, provider.ErrThrottled)
	assert.Equal(t, 50*3+49+50*500, e.Usage().Points)
}

// TestQuotaEmulatorPointsPerSecond: old and recent points have their own
// buckets; exactly a second's points pass, one more is throttled, a
// throttled call spends nothing, and a second refills.
func TestQuotaEmulatorPointsPerSecond(t *testing.T) {
	t.Parallel()
	e, clk := newEmulator(t, quota.CloudWatch())
	ctx := t.Context()
	for range 4 {
		_, err := e.QueryMetric(ctx, oldQuery(quotaT0, 99_000))
		require.NoError(t, err)
	}
	_, err := e.QueryMetric(ctx, oldQuery(quotaT0, 1))
	require.ErrorIs(t, err, provider.ErrThrottled, "396,001 old points")
	assert.Contains(t, err.Error(), "limits.points_per_second")

	_, err = e.QueryMetric(ctx, recentQuery(quotaT0, 100_000))
	require.NoError(t, err, "recent points are a bucket of their own")
	_, err = e.QueryMetric(ctx, recentQuery(quotaT0, 80_001))
	require.ErrorIs(t, err, provider.ErrThrottled, "180,001 recent points")
	assert.Contains(t, err.Error(), "limits.recent_points_per_second")
	_, err = e.QueryMetric(ctx, recentQuery(quotaT0, 80_000))
	require.NoError(t, err, "the throttled call spent nothing: exactly 180,000")
	assert.Equal(t, memory.QuotaUsage{Cost: quota.Cost{Calls: 6, Points: 396_000 + 180_000, RecentPoints: 180_000}, Throttled: 2}, e.Usage())

	// A call spanning both spends from both: 10 old, 20 recent.
	clk.Add(time.Second)
	mixed := provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: quotaT0.Add(time.Second - 3*time.Hour - 10*time.Minute), End: quotaT0.Add(time.Second - 3*time.Hour + 20*time.Minute), Step: time.Minute}
	_, err = e.QueryMetric(ctx, mixed)
	require.NoError(t, err)
	assert.Equal(t, quota.Cost{Calls: 7, Points: 576_030, RecentPoints: 180_020}, e.Usage().Cost)
	_, err = e.QueryMetric(ctx, recentQuery(clk.Now(), 100_000))
	require.NoError(t, err)
	_, err = e.QueryMetric(ctx, recentQuery(clk.Now(), 79_980))
	require.NoError(t, err, "a second refilled 180,000 recent points, 20 spent")
	_, err = e.QueryMetric(ctx, recentQuery(clk.Now(), 1))
	require.ErrorIs(t, err, provider.ErrThrottled)
}

// TestQuotaEmulatorPerCallLimits: 500 queries a call and 100,800 points
// a call of several queries; one long query is paged.
func TestQuotaEmulatorPerCallLimits(t *testing.T) {
	t.Parallel()
	e, _ := newEmulator(t, quota.CloudWatch())
	ctx := t.Context()
	qs := make([]provider.Query, 501)
	for i := range qs {
		qs[i] = oldQuery(quotaT0, 1)
	}
	_, err := queryAll(ctx, e, qs)
	require.ErrorIs(t, err, provider.ErrInvalid)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "metrics_per_call", ie.Field)
	_, err = queryAll(ctx, e, qs[:500])
	require.NoError(t, err)

	half := oldQuery(quotaT0, 50_400)
	_, err = queryAll(ctx, e, []provider.Query{half, half})
	require.NoError(t, err, "exactly 100,800 points")
	_, err = queryAll(ctx, e, []provider.Query{half, oldQuery(quotaT0, 50_401)})
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "points_per_call", ie.Field)

	// An invalid read fails alone and is not sent; the valid one is.
	reads := []provider.MetricRead{{Query: oldQuery(quotaT0, 1)}, {Query: provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: quotaT0, End: quotaT0, Step: time.Minute}}}
	require.NoError(t, e.QueryMetrics(ctx, reads))
	require.NoError(t, reads[0].Err)
	assert.Equal(t, 1, reads[0].Series.Len())
	require.ErrorAs(t, reads[1].Err, &ie)
	assert.Equal(t, "query.end", ie.Field)
	// Nothing valid: no call.
	require.NoError(t, e.QueryMetrics(ctx, reads[1:]))
	require.NoError(t, e.QueryMetrics(ctx, nil))
	assert.Equal(t, memory.QuotaUsage{Cost: quota.Cost{Calls: 3, Points: 500 + 100_800 + 1}, Invalid: 2}, e.Usage(), "refused calls spend nothing")

	// One query longer than a call is paged: 100,801 points, two calls.
	e2, _ := newEmulator(t, quota.CloudWatch())
	_, err = e2.QueryMetric(ctx, oldQuery(quotaT0, 100_801))
	require.NoError(t, err)
	_, err = queryAll(ctx, e2, []provider.Query{oldQuery(quotaT0, 100_801)})
	require.NoError(t, err)
	assert.Equal(t, quota.Cost{Calls: 4, Points: 201_602}, e2.Usage().Cost)

	ended, cancel := context.WithCancel(ctx)
	cancel()
	_, err = queryAll(ended, e2, qs[:1])
	require.ErrorIs(t, err, context.Canceled)
	_, err = e2.QueryMetric(ended, qs[0])
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 4, e2.Usage().Calls)
}

// runOnMock runs f in a goroutine and advances clk in steps of 50 ms until
// f returns (no real sleeping: Add yields to the other goroutines).
func runOnMock(t *testing.T, clk *bclock.Mock, f func()) time.Duration {
	t.Helper()
	done := make(chan struct{})
	start := clk.Now()
	go func() {
		defer close(done)
		f()
	}()
	for {
		select {
		case <-done:
			return clk.Now().Sub(start)
		default:
			clk.Add(50 * time.Millisecond)
		}
	}
}

// throughSource reads 120 single hour reads and 8 batches of 500 through
// a quota.Source of budget cfg over an emulator of CloudWatch's quota in
// front of a Cloud, all on one fake clock, and checks every answer.
func throughSource(t *testing.T, cfg quota.Config) (memory.QuotaUsage, quota.Usage) {
	t.Helper()
	c, clk := quotaCloud(t)
	values := make([]float64, 12*24)
	for i := range values {
		values[i] = float64(i)
	}
	require.NoError(t, c.SetSeries(provider.Series{ResourceID: "i-1", Metric: provider.MetricCPU, Start: quotaT0.Add(-24 * time.Hour), Step: 5 * time.Minute, Values: values}))
	emu, err := memory.NewQuotaEmulator(c, clk, quota.CloudWatch())
	require.NoError(t, err)
	budget, err := quota.NewBudget(cfg, quota.WithClock(clk))
	require.NoError(t, err)
	src, err := quota.NewSource(emu, budget)
	require.NoError(t, err)
	ctx := t.Context()
	hour := func(k int) provider.Query {
		end := quotaT0.Add(-time.Duration(k%24) * time.Hour)
		return provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: end.Add(-time.Hour), End: end, Step: 5 * time.Minute}
	}
	// check reports whether s is hour k's answer (it runs off the test's
	// goroutine: it does not stop the test).
	check := func(k int, s provider.Series) error {
		first := 12 * (23 - k%24)
		if len(s.Values) != 12 || s.Values[0] != float64(first) {
			return fmt.Errorf("read %d: got %v, want 12 values from %d", k, s.Values, first)
		}
		return nil
	}
	var failed error
	took := runOnMock(t, clk, func() {
		for k := range 120 {
			s, err := src.QueryMetric(ctx, hour(k))
			if err == nil {
				err = check(k, s)
			}
			if err != nil {
				failed = err
				return
			}
		}
		for b := range 8 {
			qs := make([]provider.Query, 500) // one range: one call
			for k := range qs {
				qs[k] = hour(b)
			}
			got, err := queryAll(ctx, src, qs)
			if err != nil {
				failed = err
				return
			}
			for _, s := range got {
				if err := check(b, s); err != nil {
					failed = err
					return
				}
			}
		}
	})
	require.NoError(t, failed)
	t.Logf("share %.1f of %.0f calls/s: %s at the emulator, %s at the budget, %s simulated", budget.Config().Share, budget.Config().Limits.CallsPerSecond, emu.Usage(), budget.Usage(), took)
	return emu.Usage(), budget.Usage()
}

// TestQuotaEmulatorSourceAtDefaultShare: a quota.Source at its default
// 10 % share is never throttled, and spends what the emulator admitted.
func TestQuotaEmulatorSourceAtDefaultShare(t *testing.T) {
	t.Parallel()
	emu, used := throughSource(t, quota.Config{})
	assert.Zero(t, emu.Throttled)
	assert.Zero(t, used.Throttled)
	assert.Equal(t, 120+8, emu.Calls)
	assert.Equal(t, (120+8*500)*12, emu.Points)
	assert.Equal(t, used.Calls, emu.Calls, "the budget counted what the emulator admitted")
	assert.Equal(t, used.Points, emu.Points)
}

// TestQuotaEmulatorSourceOverShare: a quota.Source that believes in twice
// the account's quota and spends all of it is throttled, backs off, and
// still completes every read.
func TestQuotaEmulatorSourceOverShare(t *testing.T) {
	t.Parallel()
	cw := quota.CloudWatch()
	cw.CallsPerSecond *= 2
	cw.PointsPerSecond *= 2
	cw.RecentPointsPerSecond *= 2
	emu, used := throughSource(t, quota.Config{Share: 1, Limits: cw, MaxAttempts: 50})
	assert.Positive(t, emu.Throttled)
	assert.Equal(t, emu.Throttled, used.Throttled, "every refusal reached the Source as throttling")
	assert.Equal(t, 128, emu.Calls, "each read admitted once")
	assert.Equal(t, 128+emu.Throttled, used.Calls, "the Source spent a call on each attempt")
}

func ExampleQuotaEmulator() {
	clk := bclock.NewMock()
	clk.Set(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	c, _ := memory.New(memory.Config{}, memory.WithClock(clk))
	_ = c.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance})
	lim := quota.CloudWatch()
	lim.CallsPerSecond = 2 // an account whose quota is nearly spent
	cw, err := memory.NewQuotaEmulator(c, clk, lim)
	if err != nil {
		panic(err)
	}
	q := provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: clk.Now().Add(-time.Hour), End: clk.Now(), Step: 5 * time.Minute}
	for range 3 {
		_, err := cw.QueryMetric(context.Background(), q)
		fmt.Println(err)
	}
	clk.Add(time.Second)
	_, err = cw.QueryMetric(context.Background(), q)
	fmt.Println(err)
	fmt.Println(cw.Usage())
	// Output:
	// <nil>
	// <nil>
	// memory: quota emulator: throttled: rate exceeded: 1 wanted, 0 left of limits.calls_per_second 2
	// <nil>
	// 3 calls, 36 points (36 recent), 1 throttled, 0 invalid
}

// TestQuotaEmulatorConcurrent: calls racing in one instant are admitted
// exactly up to the limit, none twice.
func TestQuotaEmulatorConcurrent(t *testing.T) {
	t.Parallel()
	e, _ := newEmulator(t, quota.CloudWatch())
	q := oldQuery(quotaT0, 1)
	var wg sync.WaitGroup
	var admitted, throttled atomic.Int32
	for range 8 {
		wg.Go(func() {
			for range 20 {
				_, err := e.QueryMetric(t.Context(), q)
				switch {
				case err == nil:
					admitted.Add(1)
				case errors.Is(err, provider.ErrThrottled):
					throttled.Add(1)
				default:
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(50), admitted.Load())
	assert.Equal(t, int32(110), throttled.Load())
	assert.Equal(t, memory.QuotaUsage{Cost: quota.Cost{Calls: 50, Points: 50}, Throttled: 110}, e.Usage())
}

// TestQuotaEmulatorSourceErrors: a read the source refuses fails the call
// with the source's error (the call was admitted and spent), and a
// source's own throttling reaches the caller as throttling.
func TestQuotaEmulatorSourceErrors(t *testing.T) {
	t.Parallel()
	c, clk := quotaCloud(t)
	e, err := memory.NewQuotaEmulator(c, clk, quota.CloudWatch())
	require.NoError(t, err)
	ok, missing := oldQuery(quotaT0, 10), oldQuery(quotaT0, 10)
	missing.ResourceID = "i-2"
	_, err = queryAll(t.Context(), e, []provider.Query{ok, missing})
	require.ErrorIs(t, err, provider.ErrNotFound)
	assert.Contains(t, err.Error(), "reads[1]", "the missing read fails alone")
	got, err := queryAll(t.Context(), e, []provider.Query{ok, ok})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, 10, got[1].Len())
	assert.Equal(t, quota.Cost{Calls: 2, Points: 40}, e.Usage().Cost)
	_, err = c.InjectFault(memory.Fault{Op: memory.OpQueryMetric, Throttle: true})
	require.NoError(t, err)
	_, err = e.QueryMetric(t.Context(), ok)
	require.ErrorIs(t, err, provider.ErrThrottled)
}

// queryAll reads qs in one QueryMetrics call of b and returns the series,
// or the call's error, or else the first read's error naming its index.
func queryAll(ctx context.Context, b provider.MetricsBatcher, qs []provider.Query) ([]provider.Series, error) {
	reads := make([]provider.MetricRead, len(qs))
	for i, q := range qs {
		reads[i].Query = q
	}
	if err := b.QueryMetrics(ctx, reads); err != nil {
		return nil, err
	}
	out := make([]provider.Series, len(reads))
	for i, r := range reads {
		if r.Err != nil {
			return nil, fmt.Errorf("reads[%d]: %w", i, r.Err)
		}
		out[i] = r.Series
	}
	return out, nil
}

// TestQuotaEmulatorRefusalFailsEveryRead: a call refused by a per-call or
// a rate limit is the method's error and every read sent carries it, in
// the read's capacity.
func TestQuotaEmulatorRefusalFailsEveryRead(t *testing.T) {
	t.Parallel()
	e, _ := newEmulator(t, quota.CloudWatch())
	ctx := t.Context()
	reads := make([]provider.MetricRead, 501)
	for i := range reads {
		reads[i].Query = oldQuery(quotaT0, 1)
		reads[i].Series.Values = make([]float64, 0, 2)
	}
	require.ErrorIs(t, e.QueryMetrics(ctx, reads), provider.ErrInvalid)
	for i, r := range reads {
		require.ErrorIs(t, r.Err, provider.ErrInvalid, "read %d", i)
		assert.Equal(t, 2, cap(r.Series.Values))
	}
	for range 4 {
		_, err := e.QueryMetric(ctx, oldQuery(quotaT0, 99_000))
		require.NoError(t, err)
	}
	reads = reads[:3]
	require.ErrorIs(t, e.QueryMetrics(ctx, reads), provider.ErrThrottled, "396,003 old points in a second")
	for _, r := range reads {
		require.ErrorIs(t, r.Err, provider.ErrThrottled)
	}
}

// downSource is a batching source whose every call fails as a whole.
type downSource struct{ provider.MetricsSource }

var errDown = errors.New("backend down")

func (downSource) QueryMetrics(_ context.Context, reads []provider.MetricRead) error {
	for i := range reads {
		reads[i].Err = errDown
	}
	return errDown
}

// TestQuotaEmulatorSourceCallFails: when the wrapped source's call fails
// as a whole, the reads carry the error QueryMetrics returns.
func TestQuotaEmulatorSourceCallFails(t *testing.T) {
	t.Parallel()
	c, clk := quotaCloud(t)
	e, err := memory.NewQuotaEmulator(downSource{c}, clk, quota.CloudWatch())
	require.NoError(t, err)
	reads := []provider.MetricRead{{Query: oldQuery(quotaT0, 10)}, {Query: oldQuery(quotaT0, 10)}}
	err = e.QueryMetrics(t.Context(), reads)
	require.ErrorIs(t, err, errDown)
	for _, r := range reads {
		require.ErrorIs(t, r.Err, err)
	}
}

// A single query whose pages hold more points than a bucket (a year of
// minutes: 400,000 points, four calls) is served when the bucket is full,
// as CloudWatch serves its pages one after the other, and leaves the bucket
// in debt: later calls wait until the refill has paid for it. Refusing it
// as throttled, every time, would make a caller retry forever.
func TestQuotaEmulatorQueryLongerThanABucket(t *testing.T) {
	t.Parallel()
	e, clk := newEmulator(t, quota.CloudWatch())
	ctx := t.Context()
	_, err := e.QueryMetric(ctx, oldQuery(quotaT0, 400_000))
	require.NoError(t, err, "a full bucket serves a query longer than itself")
	_, err = e.QueryMetric(ctx, oldQuery(quotaT0, 1))
	require.ErrorIs(t, err, provider.ErrThrottled, "the bucket is 4,000 points in debt")
	clk.Add(10 * time.Millisecond) // 3,960 points refilled: still in debt
	_, err = e.QueryMetric(ctx, oldQuery(quotaT0, 1))
	require.ErrorIs(t, err, provider.ErrThrottled)
	_, err = e.QueryMetric(ctx, oldQuery(quotaT0, 400_000))
	require.ErrorIs(t, err, provider.ErrThrottled, "a long query waits for a full bucket too")
	clk.Add(time.Second)
	_, err = e.QueryMetric(ctx, oldQuery(quotaT0, 1))
	require.NoError(t, err)
	assert.Equal(t, memory.QuotaUsage{Cost: quota.Cost{Calls: 5, Points: 400_001}, Throttled: 3}, e.Usage())

	// Through QueryMetrics, as one call of one read, alike.
	e2, _ := newEmulator(t, quota.CloudWatch())
	_, err = queryAll(ctx, e2, []provider.Query{oldQuery(quotaT0, 400_000)})
	require.NoError(t, err)
}
