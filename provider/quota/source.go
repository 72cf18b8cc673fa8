package quota

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/provider"
)

// Source makes every read of a MetricsSource spend a Budget: it waits for
// the reservation of each call's Cost, and when the backend throttles
// (provider.ErrThrottled) it waits Backoff, doubling up to MaxBackoff, for
// at most MaxAttempts attempts, then returns the throttling error. It is a
// provider.MetricsBatcher: QueryMetrics packs the reads with Plan and,
// when the wrapped source is a provider.MetricsBatcher (the AWS driver,
// the memory cloud), sends each batch as one call; otherwise each read is
// a call. A read the wrapped source refuses itself (provider.ErrUnsupported:
// a metric the AWS driver has no CloudWatch mapping for, say) reached no
// backend, so its reservation is given back — its points, and the call when
// a batch's every read was refused — as far as the budget would hold more
// had it never been made (refills that reached the burst meanwhile have
// paid for it already): nothing reaches the backend sooner than without
// the refused reads. A wrapped source must refuse with ErrUnsupported only
// what it did not send. A read whose ctx ends while it waits for the
// budget is not made either: its reservation is given back too. It does not implement
// provider.ActivitySource: pass the activity source separately (for
// example detector.Fleet.Activity). Source is safe for concurrent use
// when the wrapped source is.
type Source struct {
	src provider.MetricsSource
	b   *Budget
}

var _ provider.MetricsBatcher = (*Source)(nil)

// NewSource returns src read through b. Both are required.
func NewSource(src provider.MetricsSource, b *Budget) (*Source, error) {
	if nilcheck.Is(src) {
		return nil, provider.Invalid("source", nil, "must be set")
	}
	if b == nil {
		return nil, provider.Invalid("budget", nil, "must be set")
	}
	return &Source{src: src, b: b}, nil
}

// QueryMetric reads q as one call (or its pages) within the budget. An
// invalid query returns an error matching provider.ErrInvalid before any
// call, spending nothing.
func (s *Source) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	if err := q.Validate(); err != nil { // before any call, spending nothing
		return provider.Series{}, fmt.Errorf("quota: query metric: %w", err)
	}
	var out provider.Series
	c := CostOf(q, s.b.clk.Now(), s.b.cfg.Limits)
	hold, err := s.call(ctx, c, func() error {
		var err error
		out, err = s.src.QueryMetric(ctx, q)
		return err
	})
	var back Cost
	if errors.Is(err, provider.ErrUnsupported) {
		back = c // refused by the driver: no call, no points
	}
	s.b.release(hold, back, 0)
	return out, err
}

// QueryMetrics implements provider.MetricsBatcher: it reads the reads in
// the batches of Plan within the budget, each batch one call of the
// wrapped source (or one call per read when it does not batch). A read
// with an invalid query carries an error matching provider.ErrInvalid
// and is not sent, spending nothing. A batch
// whose call is throttled as a whole is retried as QueryMetric is. Each
// read carries its own error; when a call fails as a whole (ctx ended,
// throttled MaxAttempts times, the backend unreachable), its reads and
// those of the batches not read yet carry that error, which QueryMetrics
// returns. Through a source that does not batch, a read's error is its
// own, unless it is ctx's or it was throttled MaxAttempts times: then the
// reads not made yet carry it too and QueryMetrics returns it.
func (s *Source) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	if len(reads) == 0 {
		return nil
	}
	// An invalid read fails alone, before any call, and is not planned:
	// its cost (Steps of a query over MaxQueryPoints: up to 2³¹ points)
	// would be waited for and spent on a call never made.
	qs := make([]provider.Query, 0, len(reads))
	valid := make([]int, 0, len(reads)) // where each of qs is in reads
	for i := range reads {
		r := &reads[i]
		if err := r.Query.Validate(); err != nil {
			r.Series, r.Err = provider.Series{Values: r.Series.Values[:0]}, fmt.Errorf("quota: query metric: %w", err)
			continue
		}
		qs, valid = append(qs, r.Query), append(valid, i)
	}
	bt, batched := s.src.(provider.MetricsBatcher)
	planned := s.b.clk.Now()
	batches := Plan(qs, planned, s.b.cfg.Limits)
	for _, b := range batches {
		for j, q := range b.Queries {
			b.Queries[j] = valid[q]
		}
	}
	// fail fails the reads not made: idx, then those of the batches after
	// the k-th.
	fail := func(idx []int, k int, err error) error {
		for _, i := range idx {
			r := &reads[i]
			r.Series, r.Err = provider.Series{Values: r.Series.Values[:0]}, err
		}
		for _, b := range batches[k+1:] {
			for _, i := range b.Queries {
				r := &reads[i]
				r.Series, r.Err = provider.Series{Values: r.Series.Values[:0]}, err
			}
		}
		return err
	}
	var sub []provider.MetricRead
	for k, b := range batches {
		if !batched {
			for j, i := range b.Queries {
				r := &reads[i]
				buf := r.Series.Values[:0]
				got, err := s.QueryMetric(ctx, r.Query)
				if err != nil {
					got = provider.Series{}
				}
				got.Values = append(buf, got.Values...) // into the read's capacity
				r.Series, r.Err = got, err
				if cerr := ctx.Err(); cerr != nil {
					return fail(b.Queries[j+1:], k, cerr)
				}
				if errors.Is(err, provider.ErrThrottled) { // given up after MaxAttempts: the call failed
					return fail(b.Queries[j+1:], k, err)
				}
			}
			continue
		}
		sub = sub[:0]
		for _, i := range b.Queries {
			r := reads[i]
			r.Series, r.Err = provider.Series{Values: r.Series.Values[:0]}, nil
			sub = append(sub, r)
		}
		var last error // the last attempt's error, nil before the first
		called := false
		hold, err := s.call(ctx, b.Cost, func() error {
			called = true
			last = bt.QueryMetrics(ctx, sub)
			return last
		})
		for j, i := range b.Queries {
			reads[i] = sub[j]
		}
		var back Cost
		if err == nil {
			back = s.unsupported(reads, b, planned)
		}
		s.b.release(hold, back, 0)
		switch {
		case err != nil && !called: // ctx ended before the call
			return fail(b.Queries, k, err)
		case err != nil:
			// The reads the last attempt failed as a whole carry the
			// error returned (given up after throttling, or ctx's during
			// the back-off); the others their own.
			for _, i := range b.Queries {
				if r := &reads[i]; last != nil && errors.Is(r.Err, last) {
					r.Err = err
				}
			}
			return fail(nil, k, err)
		}
	}
	return nil
}

// unsupported returns what batch b's reads that the driver refused itself
// (provider.ErrUnsupported: never sent to the backend) had reserved: their
// points, and the call when it refused them all.
func (s *Source) unsupported(reads []provider.MetricRead, b Batch, planned time.Time) Cost {
	var c Cost
	n := 0
	for _, i := range b.Queries {
		if errors.Is(reads[i].Err, provider.ErrUnsupported) {
			q := CostOf(reads[i].Query, planned, s.b.cfg.Limits)
			c.Points += q.Points
			c.RecentPoints += q.RecentPoints
			n++
		}
	}
	if n == len(b.Queries) {
		c.Calls = b.Cost.Calls
	}
	return c
}

// call spends c and runs read, retrying a throttled read with back-off.
// It returns the hold of the last attempt's reservation, which the caller
// releases (the reads it answered may have been refused by the source;
// none when ctx ended during its wait, which gave it back); the earlier
// attempts reached the backend and keep theirs.
func (s *Source) call(ctx context.Context, c Cost, read func() error) (uint64, error) {
	wait := s.b.cfg.Backoff
	for attempt := 1; ; attempt++ {
		hold, err := s.b.wait(ctx, c)
		if err != nil {
			return hold, err
		}
		err = read()
		if !errors.Is(err, provider.ErrThrottled) {
			return hold, err
		}
		s.b.throttled()
		if attempt == s.b.cfg.MaxAttempts {
			return hold, fmt.Errorf("quota: throttled %d times: %w", attempt, err)
		}
		s.b.release(hold, Cost{}, 0)
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-s.b.clk.After(wait):
		}
		wait = min(2*wait, s.b.cfg.MaxBackoff)
	}
}

// TimeFor returns how long the budget needs to spend u at its rates (from
// empty buckets): the largest of calls, old points and recent points over
// their rates.
func (b *Budget) TimeFor(u Cost) time.Duration {
	l, s := b.cfg.Limits, b.cfg.Share
	sec := max(float64(u.Calls)/(l.CallsPerSecond*s), float64(u.Points-u.RecentPoints)/(l.PointsPerSecond*s), float64(u.RecentPoints)/(l.RecentPointsPerSecond*s))
	return nanos(sec * float64(time.Second))
}

// QuotaShare returns the share of the account and region's full quota
// (Limits, not the budget's Share of it) that spending u over the period d
// takes: the largest of the calls, old points and recent points shares.
func (b *Budget) QuotaShare(u Cost, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	l := b.cfg.Limits
	sec := d.Seconds()
	return max(float64(u.Calls)/(l.CallsPerSecond*sec), float64(u.Points-u.RecentPoints)/(l.PointsPerSecond*sec), float64(u.RecentPoints)/(l.RecentPointsPerSecond*sec))
}
