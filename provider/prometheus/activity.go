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
// Errors: an invalid query or a window shorter than 2ms matches
// provider.ErrInvalid; a resource the targets query does not list
// provider.ErrNotFound; a template that returns several series
// ErrSeveralSeries; a negative or infinite count ErrBadResult; server
// errors as documented on QueryError.
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
		out = append(out, provider.ActivityCount{Kind: kind, Count: v})
	}
	return out, nil
}
