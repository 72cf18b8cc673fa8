package quota

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// BatchSource is a MetricsSource that reads several queries in one call,
// as the AWS driver's QueryMetrics does: series k answers qs[k].
type BatchSource interface {
	provider.MetricsSource
	QueryMetrics(ctx context.Context, qs []provider.Query) ([]provider.Series, error)
}

// Source makes every read of a MetricsSource spend a Budget: it waits for
// the reservation of each call's Cost, and when the backend throttles
// (provider.ErrThrottled) it waits Backoff, doubling up to MaxBackoff, for
// at most MaxAttempts attempts, then returns the throttling error. It is a
// BatchSource: QueryMetrics packs queries with Plan and, when the wrapped
// source is a BatchSource, sends each batch as one call; otherwise each
// query is a call. It does not implement provider.ActivitySource: pass the
// activity source separately (for example detector.Fleet.Activity). Source
// is safe for concurrent use when the wrapped source is.
type Source struct {
	src provider.MetricsSource
	b   *Budget
}

var _ BatchSource = (*Source)(nil)

// NewSource returns src read through b. Both are required.
func NewSource(src provider.MetricsSource, b *Budget) (*Source, error) {
	if src == nil {
		return nil, provider.Invalid("source", nil, "must be set")
	}
	if b == nil {
		return nil, provider.Invalid("budget", nil, "must be set")
	}
	return &Source{src: src, b: b}, nil
}

// QueryMetric reads q as one call (or its pages) within the budget.
func (s *Source) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	var out provider.Series
	err := s.call(ctx, CostOf(q, s.b.clk.Now(), s.b.cfg.Limits), func() error {
		var err error
		out, err = s.src.QueryMetric(ctx, q)
		return err
	})
	return out, err
}

// QueryMetrics reads qs in the batches of Plan within the budget; series k
// answers qs[k]. The first error ends the read.
func (s *Source) QueryMetrics(ctx context.Context, qs []provider.Query) ([]provider.Series, error) {
	out := make([]provider.Series, len(qs))
	bs, batched := s.src.(BatchSource)
	for _, b := range Plan(qs, s.b.clk.Now(), s.b.cfg.Limits) {
		if !batched {
			for _, i := range b.Queries {
				var err error
				if out[i], err = s.QueryMetric(ctx, qs[i]); err != nil {
					return nil, err
				}
			}
			continue
		}
		batch := make([]provider.Query, len(b.Queries))
		for j, i := range b.Queries {
			batch[j] = qs[i]
		}
		err := s.call(ctx, b.Cost, func() error {
			got, err := bs.QueryMetrics(ctx, batch)
			if err == nil && len(got) != len(batch) {
				err = fmt.Errorf("quota: the source answered %d of %d queries", len(got), len(batch))
			}
			if err == nil {
				for j, i := range b.Queries {
					out[i] = got[j]
				}
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// call spends c and runs read, retrying a throttled read with back-off.
func (s *Source) call(ctx context.Context, c Cost, read func() error) error {
	wait := s.b.cfg.Backoff
	for attempt := 1; ; attempt++ {
		if err := s.b.Wait(ctx, c); err != nil {
			return err
		}
		err := read()
		if !errors.Is(err, provider.ErrThrottled) {
			return err
		}
		s.b.throttled()
		if attempt == s.b.cfg.MaxAttempts {
			return fmt.Errorf("quota: throttled %d times: %w", attempt, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
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
	return time.Duration(sec * float64(time.Second))
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
