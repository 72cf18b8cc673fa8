package memory

import (
	"context"
	"fmt"

	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/provider"
)

var (
	_ provider.ResourceBatcher = (*Cloud)(nil)
	_ provider.CapacityBatcher = (*Cloud)(nil)
	_ provider.MetricsBatcher  = (*Cloud)(nil)
)

// The batch reads answer a whole batch under one read lock, at one time
// of the clock, which is what makes a pass over a large fleet cheap. While
// a fault is injected they make one call per read instead (Get, Capacity,
// QueryMetric), so that a fault fires exactly as it would for those calls
// (its Nth and Times count each read).

// GetResources implements provider.ResourceBatcher: every read is
// answered as Get would answer it.
func (c *Cloud) GetResources(ctx context.Context, reads []provider.ResourceRead) error {
	if len(reads) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		err = fmt.Errorf("memory: get resources: %w", err)
		for i := range reads {
			reads[i].Resource, reads[i].Err = provider.Resource{}, err
		}
		return err
	}
	now := c.clock.Now()
	c.mu.RLock()
	if len(c.faults.active) > 0 {
		c.mu.RUnlock()
		for i := range reads {
			reads[i].Resource, reads[i].Err = c.Get(ctx, reads[i].ID)
		}
		return wholeCall(ctx, "get resources")
	}
	defer c.mu.RUnlock()
	for i := range reads {
		r := &reads[i]
		r.Resource, r.Err = provider.Resource{}, nil
		if err := provider.ValidateID(r.ID); err != nil {
			r.Err = redact.Error(fmt.Errorf("memory: get: %w", err))
			continue
		}
		e, ok := c.resources[r.ID]
		if !ok {
			r.Err = redact.Error(notFound("get", r.ID))
			continue
		}
		r.Resource = e.view(now).Clone()
	}
	return nil
}

// GetCapacities implements provider.CapacityBatcher: every read is
// answered as Capacity would answer it.
func (c *Cloud) GetCapacities(ctx context.Context, reads []provider.CapacityRead) error {
	if len(reads) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		err = fmt.Errorf("memory: get capacities: %w", err)
		for i := range reads {
			reads[i].Capacity, reads[i].Err = provider.Capacity{}, err
		}
		return err
	}
	now := c.clock.Now()
	c.mu.RLock()
	if len(c.faults.active) > 0 {
		c.mu.RUnlock()
		for i := range reads {
			reads[i].Capacity, reads[i].Err = c.Capacity(ctx, reads[i].ID)
		}
		return wholeCall(ctx, "get capacities")
	}
	defer c.mu.RUnlock()
	for i := range reads {
		r := &reads[i]
		r.Capacity, r.Err = provider.Capacity{}, nil
		if err := provider.ValidateID(r.ID); err != nil {
			r.Err = redact.Error(fmt.Errorf("memory: capacity: %w", err))
			continue
		}
		e, err := c.group(OpCapacity, r.ID)
		if err != nil {
			r.Err = redact.Error(err)
			continue
		}
		r.Capacity = e.group.at(now)
	}
	return nil
}

// QueryMetrics implements provider.MetricsBatcher: every read is answered
// as QueryMetric would answer it, its values written into the capacity of
// the read's Series.Values.
func (c *Cloud) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	if len(reads) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		err = fmt.Errorf("memory: query metrics: %w", err)
		for i := range reads {
			reads[i].Series, reads[i].Err = provider.Series{Values: reads[i].Series.Values[:0]}, err
		}
		return err
	}
	now := c.clock.Now()
	c.mu.RLock()
	if len(c.faults.active) > 0 {
		c.mu.RUnlock()
		for i := range reads {
			reads[i].Series, reads[i].Err = c.QueryMetric(ctx, reads[i].Query)
		}
		return wholeCall(ctx, "query metrics")
	}
	defer c.mu.RUnlock()
	for i := range reads {
		r := &reads[i]
		q, dst := r.Query, r.Series.Values[:0]
		r.Series, r.Err = provider.Series{Values: dst}, nil
		if err := q.Validate(); err != nil {
			r.Err = redact.Error(fmt.Errorf("memory: query metric: %w", err))
			continue
		}
		e, ok := c.resources[q.ResourceID]
		if !ok {
			r.Err = redact.Error(notFound("query metric", q.ResourceID))
			continue
		}
		ser, err := query(q, e.metric(q.Metric), now, dst)
		if err != nil {
			r.Err = redact.Error(err)
			continue
		}
		r.Series = ser
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
