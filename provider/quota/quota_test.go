package quota_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/quota"
)

func TestConfigRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		give  quota.Config
		field string
	}{
		{"negative share", quota.Config{Share: -0.1}, "share"},
		{"share above 1", quota.Config{Share: 1.5}, "share"},
		{"NaN calls", quota.Config{Limits: quota.Limits{CallsPerSecond: nan()}}, "limits.calls_per_second"},
		{"infinite points", quota.Config{Limits: quota.Limits{PointsPerSecond: inf()}}, "limits.points_per_second"},
		{"negative recent points", quota.Config{Limits: quota.Limits{RecentPointsPerSecond: -1}}, "limits.recent_points_per_second"},
		{"negative recent age", quota.Config{Limits: quota.Limits{RecentAge: -time.Second}}, "limits.recent_age"},
		{"negative metrics per call", quota.Config{Limits: quota.Limits{MetricsPerCall: -1}}, "limits.metrics_per_call"},
		{"negative points per call", quota.Config{Limits: quota.Limits{PointsPerCall: -1}}, "limits.points_per_call"},
		{"negative attempts", quota.Config{MaxAttempts: -1}, "max_attempts"},
		{"negative backoff", quota.Config{Backoff: -time.Second}, "backoff"},
		{"negative max backoff", quota.Config{MaxBackoff: -time.Second}, "max_backoff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := quota.NewBudget(tt.give)
			require.ErrorIs(t, err, provider.ErrInvalid)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	b, err := quota.NewBudget(quota.Config{})
	require.NoError(t, err)
	cfg := b.Config()
	assert.Equal(t, quota.CloudWatch(), cfg.Limits)
	assert.InDelta(t, 0.1, cfg.Share, 0)
	assert.Equal(t, 5, cfg.MaxAttempts)
	assert.Equal(t, 200*time.Millisecond, cfg.Backoff)
	assert.Equal(t, 20*time.Second, cfg.MaxBackoff)
	cw := quota.CloudWatch()
	assert.InDelta(t, 50, cw.CallsPerSecond, 0)
	assert.InDelta(t, 396_000, cw.PointsPerSecond, 0)
	assert.InDelta(t, 180_000, cw.RecentPointsPerSecond, 0)
	assert.Equal(t, 3*time.Hour, cw.RecentAge)
	assert.Equal(t, 500, cw.MetricsPerCall)
	assert.Equal(t, 100_800, cw.PointsPerCall)
}

// TestReserveAt pins the budget's arithmetic at 10 % of CloudWatch: 5
// calls/s, 39,600 old and 18,000 recent points/s, a second of each held.
func TestReserveAt(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	b, err := quota.NewBudget(quota.Config{})
	require.NoError(t, err)
	for range 5 {
		require.Zero(t, b.ReserveAt(t0, quota.Cost{Calls: 1}), "a second's calls are held")
	}
	assert.Equal(t, 200*time.Millisecond, b.ReserveAt(t0, quota.Cost{Calls: 1}), "the sixth waits 1/5 s")
	assert.Equal(t, 400*time.Millisecond, b.ReserveAt(t0, quota.Cost{Calls: 1}), "the seventh 2/5 s")
	// Ten seconds later the bucket is full again, not fuller.
	t1 := t0.Add(10 * time.Second)
	for range 5 {
		require.Zero(t, b.ReserveAt(t1, quota.Cost{Calls: 1}))
	}
	assert.Equal(t, 200*time.Millisecond, b.ReserveAt(t1, quota.Cost{Calls: 1}))

	p, err := quota.NewBudget(quota.Config{Limits: quota.Limits{CallsPerSecond: 1e9}})
	require.NoError(t, err)
	require.Zero(t, p.ReserveAt(t0, quota.Cost{Points: 39_600}), "a second of old points")
	assert.Equal(t, 100*time.Millisecond, p.ReserveAt(t0, quota.Cost{Points: 3_960}))
	require.Zero(t, p.ReserveAt(t0, quota.Cost{Points: 18_000, RecentPoints: 18_000}), "recent points have their own bucket")
	assert.Equal(t, time.Second, p.ReserveAt(t0, quota.Cost{Points: 18_000, RecentPoints: 18_000}))
	// A call larger than a second's allowance is possible; the next waits.
	q, err := quota.NewBudget(quota.Config{Limits: quota.Limits{CallsPerSecond: 1e9}})
	require.NoError(t, err)
	require.Zero(t, q.ReserveAt(t0, quota.Cost{Points: 39_600}))
	assert.Equal(t, 2545454546*time.Nanosecond, q.ReserveAt(t0, quota.Cost{Points: 100_800}), "100,800 points at 39,600/s")
	u := q.Usage()
	assert.Equal(t, quota.Cost{Points: 140_400}, u.Cost)
	assert.Equal(t, 2545454546*time.Nanosecond, u.Waited)
}

func TestCostOf(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	lim := quota.CloudWatch()
	q := provider.Query{Start: now.Add(-4 * time.Hour), End: now, Step: 5 * time.Minute}
	assert.Equal(t, quota.Cost{Calls: 1, Points: 48, RecentPoints: 36}, quota.CostOf(q, now, lim), "the last 3 h are recent")
	q.Start = now.Add(-time.Hour)
	assert.Equal(t, quota.Cost{Calls: 1, Points: 12, RecentPoints: 12}, quota.CostOf(q, now, lim))
	q = provider.Query{Start: now.Add(-28 * 24 * time.Hour), End: now.Add(-3 * time.Hour), Step: 5 * time.Minute}
	assert.Equal(t, quota.Cost{Calls: 1, Points: 8028}, quota.CostOf(q, now, lim), "data 3 h old is old")
	q = provider.Query{Start: now.Add(-28 * 24 * time.Hour), End: now, Step: time.Minute}
	assert.Equal(t, quota.Cost{Calls: 1, Points: 40320, RecentPoints: 180}, quota.CostOf(q, now, lim))
	q.Start = now.Add(-100 * 24 * time.Hour)
	assert.Equal(t, 2, quota.CostOf(q, now, lim).Calls, "144,000 points need two pages")
	q.Start = now.Add(-time.Duration(100_800) * time.Minute)
	assert.Equal(t, 1, quota.CostOf(q, now, lim).Calls, "exactly a page")
	q.Start = q.Start.Add(-time.Minute)
	assert.Equal(t, 2, quota.CostOf(q, now, lim).Calls, "a point more")
}

func TestPlan(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	hour := provider.Query{Start: now.Add(-time.Hour), End: now, Step: 5 * time.Minute}
	month := provider.Query{Start: now.Add(-28 * 24 * time.Hour), End: now, Step: 5 * time.Minute}
	var qs []provider.Query
	for range 1200 {
		qs = append(qs, hour)
	}
	bs := quota.Plan(qs, now, quota.Limits{})
	require.Len(t, bs, 3, "500 metrics a call")
	assert.Len(t, bs[0].Queries, 500)
	assert.Len(t, bs[1].Queries, 500)
	assert.Len(t, bs[2].Queries, 200)
	assert.Equal(t, quota.Cost{Calls: 1, Points: 6000, RecentPoints: 6000}, bs[0].Cost)
	assert.Equal(t, 500, bs[1].Queries[0])

	qs = qs[:0]
	for range 25 {
		qs = append(qs, month, hour)
	}
	bs = quota.Plan(qs, now, quota.Limits{})
	// 8,064 points each: 12 fit in 100,800 points, 13 do not.
	require.Len(t, bs, 4)
	assert.Len(t, bs[0].Queries, 12)
	assert.Equal(t, 12*8064, bs[0].Cost.Points)
	assert.Len(t, bs[1].Queries, 25, "the hours share a range and one call")
	assert.Len(t, bs[2].Queries, 12)
	assert.Len(t, bs[3].Queries, 1)
	for _, i := range bs[1].Queries {
		assert.Equal(t, hour, qs[i], "no range mixed in a batch")
	}
	bs = quota.Plan([]provider.Query{{Start: now.Add(-200 * 24 * time.Hour), End: now, Step: time.Minute}, hour}, now, quota.Limits{})
	require.Len(t, bs, 2)
	assert.Equal(t, 3, bs[0].Cost.Calls, "288,000 points alone, in three pages")
	assert.Empty(t, quota.Plan(nil, now, quota.Limits{}))
	// Exactly a call's points fit in it.
	bs = quota.Plan([]provider.Query{hour, hour, hour, hour, hour}, now, quota.Limits{PointsPerCall: 24})
	require.Len(t, bs, 3)
	assert.Equal(t, []int{0, 1}, bs[0].Queries)
	assert.Equal(t, 24, bs[0].Cost.Points)
}

// fakeSource answers every query with a series of its grid, throttling the
// first throttle calls; calls counts the calls it received.
type fakeSource struct {
	throttle int32
	calls    atomic.Int32
}

func (f *fakeSource) QueryMetric(_ context.Context, q provider.Query) (provider.Series, error) {
	if f.calls.Add(1) <= f.throttle {
		return provider.Series{}, provider.ErrThrottled
	}
	return provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}, nil
}

type batchSource struct{ fakeSource }

// QueryMetrics implements provider.MetricsBatcher: a throttled call
// fails every read, as the contract says.
func (f *batchSource) QueryMetrics(_ context.Context, reads []provider.MetricRead) error {
	if f.calls.Add(1) <= f.throttle {
		for i := range reads {
			reads[i].Series, reads[i].Err = provider.Series{}, provider.ErrThrottled
		}
		return provider.ErrThrottled
	}
	for i := range reads {
		q := reads[i].Query
		vals := reads[i].Series.Values[:0]
		for range q.Steps() {
			vals = append(vals, 0)
		}
		reads[i].Series, reads[i].Err = provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: vals}, nil
	}
	return nil
}

func hourQueries(now time.Time, n int) []provider.MetricRead {
	reads := make([]provider.MetricRead, n)
	for i := range reads {
		reads[i].Query = provider.Query{ResourceID: "i-" + string(rune('a'+i%26)), Metric: provider.MetricCPU, Start: now.Add(-time.Hour), End: now, Step: 5 * time.Minute}
	}
	return reads
}

// TestSourceBatchesAndPaces: 1,200 hour reads are 3 calls to a batching
// source and 1,200 to one that is not, which at 5 calls/s take 239 s.
func TestSourceBatchesAndPaces(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b, err := quota.NewBudget(quota.Config{})
		require.NoError(t, err)
		bs := &batchSource{}
		src, err := quota.NewSource(bs, b)
		require.NoError(t, err)
		now := time.Now()
		reads := hourQueries(now, 1200)
		require.NoError(t, src.QueryMetrics(t.Context(), reads))
		for i, r := range reads {
			require.NoError(t, r.Err)
			require.Equal(t, r.Query.ResourceID, r.Series.ResourceID, "read %d answered in place", i)
			require.Len(t, r.Series.Values, 12)
		}
		assert.Equal(t, int32(3), bs.calls.Load())
		assert.Equal(t, 3, b.Usage().Calls)

		b2, err := quota.NewBudget(quota.Config{})
		require.NoError(t, err)
		fs := &fakeSource{}
		src2, err := quota.NewSource(fs, b2)
		require.NoError(t, err)
		start := time.Now()
		reads = hourQueries(now, 1200)
		reads[5].Series.Values = make([]float64, 0, 12)
		buf := reads[5].Series.Values[:1]
		require.NoError(t, src2.QueryMetrics(t.Context(), reads))
		for _, r := range reads {
			require.NoError(t, r.Err)
			require.Equal(t, r.Query.ResourceID, r.Series.ResourceID)
		}
		assert.Same(t, &buf[0], &reads[5].Series.Values[0], "one read at a time, still into the read's capacity")
		assert.Equal(t, int32(1200), fs.calls.Load())
		assert.Equal(t, 239*time.Second, time.Since(start), "5 held, then 1,195 at 5/s")
		u := b2.Usage()
		assert.Equal(t, quota.Cost{Calls: 1200, Points: 14_400, RecentPoints: 14_400}, u.Cost)
		assert.InDelta(t, 1200.0/(50*239), b2.QuotaShare(u.Cost, 239*time.Second), 1e-9, "10 % of the calls")
	})
}

// TestSourceBacksOff: throttled reads are retried after 200 ms, 400 ms,
// … up to MaxAttempts, then the throttling error is returned.
func TestSourceBacksOff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b, err := quota.NewBudget(quota.Config{})
		require.NoError(t, err)
		fs := &fakeSource{throttle: 2}
		src, err := quota.NewSource(fs, b)
		require.NoError(t, err)
		start := time.Now()
		q := hourQueries(time.Now(), 1)[0].Query
		_, err = src.QueryMetric(t.Context(), q)
		require.NoError(t, err)
		assert.Equal(t, 600*time.Millisecond, time.Since(start), "200 ms then 400 ms")
		assert.Equal(t, 2, b.Usage().Throttled)
		assert.Equal(t, 3, b.Usage().Calls, "each attempt spends a call")

		b2, err := quota.NewBudget(quota.Config{MaxAttempts: 3, MaxBackoff: 300 * time.Millisecond})
		require.NoError(t, err)
		src2, err := quota.NewSource(&batchSource{fakeSource{throttle: 100}}, b2)
		require.NoError(t, err)
		start = time.Now()
		reads := []provider.MetricRead{{Query: q}}
		require.ErrorIs(t, src2.QueryMetrics(t.Context(), reads), provider.ErrThrottled)
		require.ErrorIs(t, reads[0].Err, provider.ErrThrottled)
		assert.Equal(t, 500*time.Millisecond, time.Since(start), "200 ms then 300 ms (capped)")
		assert.Equal(t, 3, b2.Usage().Throttled)

		// A batch throttled twice succeeds on its third attempt; the
		// batches after it are read too.
		b3, err := quota.NewBudget(quota.Config{})
		require.NoError(t, err)
		bs := &batchSource{fakeSource{throttle: 2}}
		src3, err := quota.NewSource(bs, b3)
		require.NoError(t, err)
		reads = hourQueries(time.Now(), 1200)
		require.NoError(t, src3.QueryMetrics(t.Context(), reads))
		for _, r := range reads {
			require.NoError(t, r.Err)
		}
		assert.Equal(t, int32(5), bs.calls.Load(), "3 attempts of the first batch, then 2")

		// Throttled for good: the first batch's reads carry the error,
		// and so do those of the batches never sent.
		b4, err := quota.NewBudget(quota.Config{MaxAttempts: 2})
		require.NoError(t, err)
		bs = &batchSource{fakeSource{throttle: 100}}
		src4, err := quota.NewSource(bs, b4)
		require.NoError(t, err)
		reads = hourQueries(time.Now(), 1200)
		require.ErrorIs(t, src4.QueryMetrics(t.Context(), reads), provider.ErrThrottled)
		for i, r := range reads {
			require.ErrorIs(t, r.Err, provider.ErrThrottled, "read %d", i)
		}
		assert.Equal(t, int32(2), bs.calls.Load(), "no batch sent after the first gave up")
	})
}

func TestSourceStopsWithContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b, err := quota.NewBudget(quota.Config{})
		require.NoError(t, err)
		src, err := quota.NewSource(&fakeSource{}, b)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		reads := hourQueries(time.Now(), 100)
		require.ErrorIs(t, src.QueryMetrics(ctx, reads), context.DeadlineExceeded)
		require.NoError(t, reads[0].Err, "read before the deadline")
		require.ErrorIs(t, reads[99].Err, context.DeadlineExceeded, "not read: it carries the error")
		// A batching source: the batch never sent carries ctx's error.
		ended, stop := context.WithCancel(t.Context())
		stop()
		reads = hourQueries(time.Now(), 3)
		bsrc, err := quota.NewSource(&batchSource{}, b)
		require.NoError(t, err)
		require.ErrorIs(t, bsrc.QueryMetrics(ended, reads), context.Canceled)
		for _, r := range reads {
			require.ErrorIs(t, r.Err, context.Canceled)
		}
		_, err = quota.NewSource(nil, b)
		require.ErrorIs(t, err, provider.ErrInvalid)
		_, err = quota.NewSource(&fakeSource{}, nil)
		require.ErrorIs(t, err, provider.ErrInvalid)
	})
}

func TestTimeFor(t *testing.T) {
	t.Parallel()
	b, err := quota.NewBudget(quota.Config{})
	require.NoError(t, err)
	// A million resources, an hour of four metrics each: 8,000 calls of
	// 500 metrics, 48 million recent points.
	c := quota.Cost{Calls: 8000, Points: 48_000_000, RecentPoints: 48_000_000}
	assert.Equal(t, 2666*time.Second+666666666*time.Nanosecond, b.TimeFor(c), "48e6 points at 18,000/s")
	assert.InDelta(t, 48e6/(180_000*3600), b.QuotaShare(c, time.Hour), 1e-12, "7.4 % of an hour's recent-data quota")
	assert.Zero(t, b.QuotaShare(c, 0))
}

func nan() float64 { return zero / zero }
func inf() float64 { return 1 / zero }

var zero = 0.0

// TestSourceFailedCallErrorIsTheReads: when Source gives up on a batch,
// its reads carry the error QueryMetrics returns (not the wrapped
// source's), as the reads of the batches never sent do: a caller can tell
// the call's failure from a read's own with errors.Is. (A review found
// the first batch's reads carrying the source's throttling error instead.)
func TestSourceFailedCallErrorIsTheReads(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b, err := quota.NewBudget(quota.Config{MaxAttempts: 1})
		require.NoError(t, err)
		src, err := quota.NewSource(&batchSource{fakeSource{throttle: 100}}, b)
		require.NoError(t, err)
		reads := hourQueries(time.Now(), 1200) // 3 batches
		err = src.QueryMetrics(t.Context(), reads)
		require.ErrorIs(t, err, provider.ErrThrottled)
		for i, r := range reads {
			require.ErrorIs(t, r.Err, err, "read %d", i)
		}
	})
}

// refusing wraps a source and refuses network utilization itself, as the
// AWS driver refuses a metric it has no CloudWatch mapping for.
type refusing struct {
	provider.MetricsSource
	refused atomic.Int32
}

func (r *refusing) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	if q.Metric == provider.MetricNetworkUtilization {
		r.refused.Add(1)
		return provider.Series{}, fmt.Errorf("no mapping: %w", provider.ErrUnsupported)
	}
	return r.MetricsSource.QueryMetric(ctx, q)
}

// refusingBatch is refusing for a batching source: the refused reads are
// answered without reaching it; a call of refused reads only is no call.
type refusingBatch struct{ batchSource }

func (r *refusingBatch) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	var sent []provider.MetricRead
	var idx []int
	for i := range reads {
		if reads[i].Query.Metric == provider.MetricNetworkUtilization {
			reads[i].Series, reads[i].Err = provider.Series{}, fmt.Errorf("no mapping: %w", provider.ErrUnsupported)
			continue
		}
		sent, idx = append(sent, reads[i]), append(idx, i)
	}
	if len(sent) == 0 {
		return nil
	}
	err := r.batchSource.QueryMetrics(ctx, sent)
	for j, i := range idx {
		reads[i] = sent[j]
	}
	return err
}

// TestSourceRefundsRefusedReads: reads the wrapped source refuses itself
// spend nothing: a batch's refused reads give their points back, a batch
// refused whole its call too, and one read at a time the budget paces the
// reads that reach the backend only (half the time of TestSourceBatchesAndPaces').
func TestSourceRefundsRefusedReads(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		now := time.Now()
		// Half the reads refused, in batches of 500 mixed reads.
		b, err := quota.NewBudget(quota.Config{})
		require.NoError(t, err)
		rb := &refusingBatch{}
		src, err := quota.NewSource(rb, b)
		require.NoError(t, err)
		reads := hourQueries(now, 1200)
		for i := range reads {
			if i%2 == 1 {
				reads[i].Query.Metric = provider.MetricNetworkUtilization
			}
		}
		require.NoError(t, src.QueryMetrics(t.Context(), reads))
		for i, r := range reads {
			if i%2 == 1 {
				require.ErrorIs(t, r.Err, provider.ErrUnsupported)
				continue
			}
			require.NoError(t, r.Err)
		}
		assert.Equal(t, quota.Cost{Calls: 3, Points: 600 * 12, RecentPoints: 600 * 12}, b.Usage().Cost, "the refused reads' points given back")

		// A batch refused whole: no call, no points.
		for i := range reads {
			reads[i].Query.Metric = provider.MetricNetworkUtilization
		}
		require.NoError(t, src.QueryMetrics(t.Context(), reads))
		assert.Equal(t, quota.Cost{Calls: 3, Points: 600 * 12, RecentPoints: 600 * 12}, b.Usage().Cost, "nothing more spent")
		assert.Equal(t, int32(3), rb.calls.Load())

		// One read at a time, at 5 calls/s: 600 of the 1,200 reach the
		// source, and the budget paces those.
		b2, err := quota.NewBudget(quota.Config{})
		require.NoError(t, err)
		rs := &refusing{MetricsSource: &fakeSource{}}
		src2, err := quota.NewSource(rs, b2)
		require.NoError(t, err)
		reads = hourQueries(now, 1200)
		for i := range reads {
			if i%2 == 1 {
				reads[i].Query.Metric = provider.MetricNetworkUtilization
			}
		}
		start := time.Now()
		require.NoError(t, src2.QueryMetrics(t.Context(), reads))
		assert.Equal(t, int32(600), rs.refused.Load())
		assert.Equal(t, quota.Cost{Calls: 600, Points: 600 * 12, RecentPoints: 600 * 12}, b2.Usage().Cost)
		// Paced as the 600 reads that reach the source (without refunds:
		// 239 s): the first five in the burst, then each of the other 595
		// with the refused read after it 0.2 s (the refused read waits for
		// its reservation, then gives it back to the next), and the last
		// refused read's own 0.2 s.
		assert.Equal(t, 119200*time.Millisecond, time.Since(start))
	})
}

// TestRefundOldPoints: refused reads of old data (28 days, older than
// RecentAge) give their old points back — those, not recent ones or twice
// as many. In batches paced by the old-points rate, a batch waits for
// the points the previous batch really spent: the sweep is paced by the
// reads that reach the backend.
func TestRefundOldPoints(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// One call's worth of points a second (100,800: 150 reads of 672).
		b, err := quota.NewBudget(quota.Config{Share: 1, Limits: quota.Limits{CallsPerSecond: 1e6, PointsPerSecond: 100_800, RecentPointsPerSecond: 1e6}})
		require.NoError(t, err)
		rb := &refusingBatch{}
		src, err := quota.NewSource(rb, b)
		require.NoError(t, err)
		now := time.Now()
		reads := make([]provider.MetricRead, 1500)
		for i := range reads {
			// 672 points, the last 3 of them recent (younger than 3 h).
			reads[i].Query = provider.Query{ResourceID: "i-" + strconv.Itoa(i), Metric: provider.MetricCPU,
				Start: now.Add(-28 * 24 * time.Hour), End: now, Step: time.Hour}
			if i%3 == 2 {
				reads[i].Query.Metric = provider.MetricNetworkUtilization
			}
		}
		start := time.Now()
		require.NoError(t, src.QueryMetrics(t.Context(), reads))
		took := time.Since(start)
		assert.Equal(t, int32(10), rb.calls.Load(), "10 calls of 150 reads")
		assert.Equal(t, quota.Cost{Calls: 10, Points: 1000 * 672, RecentPoints: 1000 * 3}, b.Usage().Cost, "the 1,000 reads that reached the source")
		// 10 batches of 150 × 669 old points at 100,800 a second, the first
		// in the burst (450 to spare): without refunds about 9 s. Each
		// batch gives its 50 refused reads' 669 old points back, which the
		// next one does not wait for.
		want := time.Duration((9*100*669 - 450) * float64(time.Second) / 100_800)
		assert.InDelta(t, float64(want), float64(took), float64(time.Millisecond), "took %s, want %s", took, want)
	})
}

// slowRefusing refuses network utilization itself, but only after a
// delay (as the AWS driver first resolves the resource, EC2
// DescribeInstances, before it refuses a metric it cannot map), and
// records when every real read reaches it.
type slowRefusing struct {
	delay time.Duration
	mu    sync.Mutex
	calls []time.Time
}

func (s *slowRefusing) QueryMetric(_ context.Context, q provider.Query) (provider.Series, error) {
	if q.Metric == provider.MetricNetworkUtilization {
		<-time.After(s.delay) // in a synctest bubble: fake time
		return provider.Series{}, provider.ErrUnsupported
	}
	s.mu.Lock()
	s.calls = append(s.calls, time.Now())
	s.mu.Unlock()
	return provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}, nil
}

// TestRefundNeverSpeedsUpRealCalls: a refused read leaves the real calls
// exactly when they would have been made had it never been (found by a
// review: a refund added tokens the refill had already paid back). Its
// reservation (1 call of a full bucket of 10) is paid back by refill while
// the driver resolves the resource (as the AWS driver describes the
// instance before it refuses a metric); another reader then takes the
// full bucket; the refund at 450 ms must not add the call once more (it
// did: a 14th call reached the backend at 500 ms instead of 600 ms).
func TestRefundNeverSpeedsUpRealCalls(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, refuse bool) []time.Duration {
		var out []time.Duration
		synctest.Test(t, func(t *testing.T) {
			b, err := quota.NewBudget(quota.Config{Share: 1, Limits: quota.Limits{CallsPerSecond: 10, PointsPerSecond: 1e9, RecentPointsPerSecond: 1e9}})
			require.NoError(t, err)
			fs := &slowRefusing{delay: 450 * time.Millisecond}
			src, err := quota.NewSource(fs, b)
			require.NoError(t, err)
			start := time.Now()
			q := provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: start.Add(-time.Hour), End: start, Step: 5 * time.Minute}
			var wg sync.WaitGroup
			if refuse {
				wg.Go(func() {
					rq := q
					rq.Metric = provider.MetricNetworkUtilization
					_, err := src.QueryMetric(t.Context(), rq)
					assert.ErrorIs(t, err, provider.ErrUnsupported)
				})
			}
			<-time.After(200 * time.Millisecond)
			for range 15 {
				_, err := src.QueryMetric(t.Context(), q)
				require.NoError(t, err)
			}
			wg.Wait()
			for _, c := range fs.calls {
				out = append(out, c.Sub(start))
			}
		})
		return out
	}
	without, with := run(t, false), run(t, true)
	assert.Equal(t, without, with, "the real calls' times, without and with the refused read")
}

// TimeFor and QuotaShare take the largest of the three terms, whichever
// it is: calls, old points or recent points (Config's default share of a
// tenth: 5 calls, 39,600 old and 18,000 recent points a second).
func TestTimeForEachTerm(t *testing.T) {
	t.Parallel()
	b, err := quota.NewBudget(quota.Config{})
	require.NoError(t, err)
	for _, tt := range []struct {
		name  string
		c     quota.Cost
		want  time.Duration
		share float64 // of the full quota over 10 s
	}{
		{"calls", quota.Cost{Calls: 10, Points: 10, RecentPoints: 10}, 2 * time.Second, 10.0 / 500},
		{"old points", quota.Cost{Calls: 1, Points: 79_200}, 2 * time.Second, 79_200.0 / 3_960_000},
		{"recent points", quota.Cost{Calls: 1, Points: 79_200, RecentPoints: 36_000}, 2 * time.Second, 36_000.0 / 1_800_000},
		{"old over recent", quota.Cost{Calls: 1, Points: 158_400 + 18_000, RecentPoints: 18_000}, 4 * time.Second, 158_400.0 / 3_960_000},
	} {
		assert.Equal(t, tt.want, b.TimeFor(tt.c), tt.name)
		assert.InDelta(t, tt.share, b.QuotaShare(tt.c, 10*time.Second), 1e-12, tt.name)
	}
}

// cancelling answers its reads and cancels ctx as it answers the one for
// resource stop.
type cancelling struct {
	fakeSource
	stop   string
	cancel context.CancelFunc
}

func (c *cancelling) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	if q.ResourceID == c.stop {
		defer c.cancel()
	}
	return c.fakeSource.QueryMetric(ctx, q)
}

// A context that ends during a non-batching source's reads keeps what was
// read, the read that was answered as it ended included; the reads after
// it carry the context's error.
func TestSourceCancelledBetweenReads(t *testing.T) {
	t.Parallel()
	b, err := quota.NewBudget(quota.Config{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	src, err := quota.NewSource(&cancelling{stop: "i-b", cancel: cancel}, b)
	require.NoError(t, err)
	reads := hourQueries(time.Now(), 4)
	require.ErrorIs(t, src.QueryMetrics(ctx, reads), context.Canceled)
	for i, r := range reads[:2] {
		require.NoError(t, r.Err, "read %d", i)
		assert.Equal(t, r.Query.ResourceID, r.Series.ResourceID)
	}
	for i, r := range reads[2:] {
		require.ErrorIs(t, r.Err, context.Canceled, "read %d", i+2)
	}
}
