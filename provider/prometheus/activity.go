package prometheus

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// Activity returns the activity of q.ResourceID in [q.Start, q.End), one
// count per kind with a template, sorted by kind (see
// provider.ActivitySource). Each template is rendered with {{.Range}} =
// the window minus 1ms (Prometheus 2.x) or the window (3.x; see
// Config.Ranges) and evaluated at q.End−1ms, so increase() covers exactly
// [q.Start, q.End). A template that returns no series
// (the counter does not exist, or has fewer than two samples in the
// window) leaves its kind out: unknown, not zero. The counts are what
// increase() returns, extrapolated to the window and so not always whole.
// Last is left zero: Prometheus counters do not tell when the last event
// happened.
//
// Since says where each count's data begins, so that a window older than
// the server keeps (its retention, 15 days by default) or than the
// counter is not read as quiet: a second query evaluates the template
// over each step of the window (Config.RateWindow, or
// window/672 when longer, an hour for 28 days) and finds the first step
// whose count exists (two samples or more over the step and the rate
// window before it, so that a counter scraped as seldom as every
// RateWindow is seen at every step). When one at or before q.Start does,
// the count covers the window and Since is zero; otherwise Since is the
// end of that first step (less than a step and a scrape interval later
// than the data begins: the cover is never overstated), or q.End when no
// step has a count.
//
// Errors: an invalid query or a window shorter than 2ms matches
// provider.ErrInvalid; a resource the targets query does not list
// provider.ErrNotFound; a template that returns several series
// ErrSeveralSeries; a negative or infinite count, or native histograms
// instead of a number, ErrBadResult; server errors as documented on
// QueryError.
func (s *Source) Activity(ctx context.Context, q provider.ActivityQuery) (_ []provider.ActivityCount, err error) {
	defer s.red.Errorp(&err)
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	if q.End.Sub(q.Start) < 2*time.Millisecond {
		return nil, fmt.Errorf("prometheus: %w", provider.Invalid("activity_query.end", q.End.Format(time.RFC3339Nano), "must be at least 2ms after start"))
	}
	t, err := s.target(ctx, q.ResourceID)
	if err != nil {
		return nil, err
	}
	shorten, err := s.shorten(ctx)
	if err != nil {
		return nil, err
	}
	window := q.End.Sub(q.Start).Truncate(time.Millisecond) - shorten
	at := q.End.Add(-time.Millisecond)
	var out []provider.ActivityCount
	for _, kind := range sortedKeys(s.c.activity) {
		promql, err := s.c.activity[kind].render(newData(s.c.cfg.IDLabel, q.ResourceID, window, t.labels))
		if err != nil {
			return nil, fmt.Errorf("prometheus: activity %s: template: %w", kind, err)
		}
		vec, err := s.instant(ctx, promql, at)
		if err != nil {
			return nil, err
		}
		switch {
		case len(vec) == 0:
			continue
		case len(vec) > 1:
			e := &SeriesError{Query: promql}
			for _, smp := range vec {
				e.Series = append(e.Series, smp.Metric.String())
			}
			return nil, e
		}
		v := float64(vec[0].Value)
		if math.IsNaN(v) {
			continue
		}
		if math.IsInf(v, 0) || v < 0 {
			return nil, &QueryError{Query: promql, Kind: ErrBadResult, Err: fmt.Errorf("activity %s count %v is not a finite number ≥ 0", kind, v)}
		}
		since, err := s.since(ctx, kind, q, t.labels, shorten)
		if err != nil {
			return nil, err
		}
		out = append(out, provider.ActivityCount{Kind: kind, Count: v, Since: since})
	}
	return out, nil
}

// coverSteps is how many steps coverStep cuts a long window into.
const coverSteps = 672

// coverStep returns the step at which Activity looks for where a count's
// data begins in a window: rateWindow, or window/672 (rounded to the
// second) when that is longer.
func coverStep(window, rateWindow time.Duration) time.Duration {
	return max(rateWindow, (window / coverSteps).Round(time.Second))
}

// since returns where the data of kind's count over q begins (see
// Activity): zero when it covers q.Start.
func (s *Source) since(ctx context.Context, kind provider.ActivityKind, q provider.ActivityQuery, labels map[string]string, shorten time.Duration) (time.Time, error) {
	window := q.End.Sub(q.Start).Truncate(time.Millisecond)
	step := coverStep(window, s.c.cfg.RateWindow)
	// Each step's count reaches a rate window further back than the step:
	// a counter scraped every rate window (or a recording rule's interval
	// as long) has one sample in a step of that length, and a count
	// needs two. A count at a step still has its samples at or before it,
	// so the cover is never overstated.
	inner, err := s.c.activity[kind].render(newData(s.c.cfg.IDLabel, q.ResourceID, step+s.c.cfg.RateWindow-shorten, labels))
	if err != nil {
		return time.Time{}, fmt.Errorf("prometheus: activity %s: template: %w", kind, err)
	}
	// Two steps more than the window: at least one step evaluated ends
	// before q.Start, so data that covers the window is seen there.
	promql := "min(min_over_time(timestamp(" + inner + ")[" + promDuration(window+2*step) + ":" + promDuration(step) + "]))"
	vec, err := s.instant(ctx, promql, q.End.Add(-time.Millisecond))
	if err != nil {
		return time.Time{}, err
	}
	if len(vec) == 0 || math.IsNaN(float64(vec[0].Value)) {
		return q.End, nil
	}
	v := float64(vec[0].Value)
	if math.IsInf(v, 0) {
		return time.Time{}, &QueryError{Query: promql, Kind: ErrBadResult, Err: fmt.Errorf("activity %s: first step %v is not a time", kind, v)}
	}
	first := time.UnixMilli(int64(math.Round(v * 1000)))
	switch {
	case !first.After(q.Start):
		return time.Time{}, nil
	case first.After(q.End):
		return q.End, nil
	}
	return first, nil
}
