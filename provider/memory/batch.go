package memory

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/provider"
)

var (
	_ provider.ResourceBatcher = (*Cloud)(nil)
	_ provider.CapacityBatcher = (*Cloud)(nil)
	_ provider.MetricsBatcher  = (*Cloud)(nil)
	_ provider.ActivityBatcher = (*Cloud)(nil)
)

// The batch reads answer a whole batch under one read lock, at one time
// of the clock, which is what makes a pass over a large fleet cheap. While
// a fault is injected they make one call per read instead (Get, Capacity,
// QueryMetric, Activity), so that a fault fires exactly as it would for
// those calls (its Nth and Times count each read).

// GetResources implements provider.ResourceBatcher: every read is
// answered as Get would answer it.
func (c *Cloud) GetResources(ctx context.Context, reads []provider.ResourceRead) error {
	return batch(ctx, c, "get resources", reads,
		func(r *provider.ResourceRead, err error) { r.Resource, r.Err = provider.Resource{}, err },
		func(r *provider.ResourceRead) { r.Resource, r.Err = c.Get(ctx, r.ID) },
		func(r *provider.ResourceRead, now time.Time) {
			e, ok := c.resources[r.ID] // an ID stored is valid
			if !ok {
				r.Resource, r.Err = provider.Resource{}, redact.Error(notFound("get", r.ID))
				if err := provider.ValidateID(r.ID); err != nil {
					r.Err = redact.Error(fmt.Errorf("memory: get: %w", err))
				}
				return
			}
			e.viewTo(&r.Resource, now)
			r.Resource.Tags, r.Err = maps.Clone(r.Resource.Tags), nil // as Clone
		})
}

// GetCapacities implements provider.CapacityBatcher: every read is
// answered as Capacity would answer it.
func (c *Cloud) GetCapacities(ctx context.Context, reads []provider.CapacityRead) error {
	return batch(ctx, c, "get capacities", reads,
		func(r *provider.CapacityRead, err error) { r.Capacity, r.Err = provider.Capacity{}, err },
		func(r *provider.CapacityRead) { r.Capacity, r.Err = c.Capacity(ctx, r.ID) },
		func(r *provider.CapacityRead, now time.Time) {
			r.Capacity, r.Err = provider.Capacity{}, nil
			e, err := c.group(OpCapacity, r.ID) // an ID stored is valid
			if err != nil {
				if verr := provider.ValidateID(r.ID); verr != nil {
					err = fmt.Errorf("memory: capacity: %w", verr)
				}
				r.Err = redact.Error(err)
				return
			}
			r.Capacity = e.group.at(now)
		})
}

// QueryMetrics implements provider.MetricsBatcher: every read is answered
// as QueryMetric would answer it, its values written into the capacity of
// the read's Series.Values.
func (c *Cloud) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	// The reads of a batch mostly differ only in their resource: a query
	// of a stored resource (whose ID is valid) that is otherwise the last
	// query validated is valid too, and is not validated again.
	var (
		valid    provider.Query
		steps    int       // valid.Steps()
		limit    time.Time // the batch's now (one reading for all) + 1 ns: see query
		limitSet bool      // (now may be the zero time)
	)
	return batch(ctx, c, "query metrics", reads,
		func(r *provider.MetricRead, err error) {
			r.Series, r.Err = provider.Series{Values: r.Series.Values[:0]}, err
		},
		func(r *provider.MetricRead) { r.Series, r.Err = c.QueryMetric(ctx, r.Query) },
		func(r *provider.MetricRead, now time.Time) {
			q, dst := r.Query, r.Series.Values[:0]
			r.Series, r.Err = provider.Series{Values: dst}, nil
			e, ok := c.resources[q.ResourceID]
			if !ok || valid.ResourceID == "" || !sameButResource(q, valid) {
				if err := q.Validate(); err != nil {
					r.Err = redact.Error(fmt.Errorf("memory: query metric: %w", err))
					return
				}
				valid, steps = q, q.Steps()
			}
			if !ok {
				r.Err = redact.Error(notFound("query metric", q.ResourceID))
				return
			}
			if !limitSet {
				limit, limitSet = now.Add(time.Nanosecond), true
			}
			ser, err := query(&q, steps, e.metric(q.Metric), limit, dst)
			if err != nil {
				r.Err = redact.Error(err)
				return
			}
			r.Series = ser
		})
}

// Activities implements provider.ActivityBatcher: every read is answered
// as Activity would answer it.
func (c *Cloud) Activities(ctx context.Context, reads []provider.ActivityRead) error {
	return batch(ctx, c, "activities", reads,
		func(r *provider.ActivityRead, err error) { r.Counts, r.Err = nil, err },
		func(r *provider.ActivityRead) { r.Counts, r.Err = c.Activity(ctx, r.Query) },
		func(r *provider.ActivityRead, now time.Time) {
			r.Counts, r.Err = nil, nil
			if err := r.Query.Validate(); err != nil {
				r.Err = redact.Error(fmt.Errorf("memory: activity: %w", err))
				return
			}
			r.Counts, r.Err = c.activityLocked(r.Query, now)
			r.Err = redact.Error(r.Err)
		})
}

// sameButResource reports whether q and p differ in their ResourceID at
// most.
func sameButResource(q, p provider.Query) bool {
	q.ResourceID = p.ResourceID
	return q == p
}

// batch answers reads as one batch call op: when ctx has ended, fail
// gives every read ctx's error; while a fault is injected, single makes
// one call per read, so that the fault fires as for those calls; otherwise
// answer answers every read under one read lock at one time of the clock.
func batch[R any](ctx context.Context, c *Cloud, op string, reads []R,
	fail func(*R, error), single func(*R), answer func(*R, time.Time),
) error {
	if len(reads) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		err = fmt.Errorf("memory: %s: %w", op, err)
		for i := range reads {
			fail(&reads[i], err)
		}
		return err
	}
	now := c.clock.Now()
	c.mu.RLock()
	if len(c.faults.active) > 0 {
		c.mu.RUnlock()
		for i := range reads {
			single(&reads[i])
		}
		return wholeCall(ctx, op)
	}
	defer c.mu.RUnlock()
	for i := range reads {
		answer(&reads[i], now)
	}
	return nil
}

// wholeCall is a batch's own error after one call per read: ctx's, when
// it ended.
func wholeCall(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: %s: %w", op, err)
	}
	return nil
}
