package memory

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/provider"
)

// activityData holds the activity events of one resource and the kinds its
// (imagined) agent observes.
type activityData struct {
	tracked map[provider.ActivityKind]bool
	events  []activityEvent // sorted by time
}

type activityEvent struct {
	kind  provider.ActivityKind
	at    time.Time
	count float64
}

// TrackActivity declares that activity of the given kinds is observed on
// resource id, so that Activity reports them (with count 0 when nothing
// happened) instead of leaving them unknown, over any window (see
// Activity). RecordActivity tracks its kind by itself.
func (c *Cloud) TrackActivity(id string, kinds ...provider.ActivityKind) (err error) {
	defer redact.Errorp(&err)
	for _, k := range kinds {
		if err := k.Validate(); err != nil {
			return fmt.Errorf("memory: track activity %q: %w", id, err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trackActivityLocked(id, kinds)
}

// trackActivityLocked is TrackActivity of valid kinds; c.mu must be held
// for writing.
func (c *Cloud) trackActivityLocked(id string, kinds []provider.ActivityKind) error {
	d, err := c.activityOf(id)
	if err != nil {
		return err
	}
	for _, k := range kinds {
		d.tracked[k] = true
	}
	return nil
}

// RecordActivity records count events of kind on resource id at time at.
// Events may be recorded in any order; count must be finite and ≥ 0.
func (c *Cloud) RecordActivity(id string, kind provider.ActivityKind, at time.Time, count float64) (err error) {
	defer redact.Errorp(&err)
	if err := (provider.ActivityCount{Kind: kind, Count: count}).Validate(); err != nil {
		return fmt.Errorf("memory: record activity %q: %w", id, err)
	}
	if at.IsZero() {
		return provider.Invalid("activity.time", at, "must be set")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recordActivityLocked(id, kind, at, count)
}

// recordActivityLocked is RecordActivity of a valid event; c.mu must be
// held for writing.
func (c *Cloud) recordActivityLocked(id string, kind provider.ActivityKind, at time.Time, count float64) error {
	d, err := c.activityOf(id)
	if err != nil {
		return err
	}
	d.tracked[kind] = true
	ev := activityEvent{kind: kind, at: at, count: count}
	i, _ := slices.BinarySearchFunc(d.events, at, func(e activityEvent, t time.Time) int {
		if e.at.After(t) {
			return 1
		}
		return -1 // insert after equal times, keeping arrival order
	})
	d.events = slices.Insert(d.events, i, ev)
	return nil
}

func (c *Cloud) activityOf(id string) (*activityData, error) {
	if _, ok := c.resources[id]; !ok {
		return nil, notFound("activity", id)
	}
	d := c.activity[id]
	if d == nil {
		d = &activityData{tracked: map[provider.ActivityKind]bool{}}
		c.activity[id] = d
	}
	return d, nil
}

// Activity implements provider.ActivitySource: one count per tracked kind
// over [q.Start, q.End), counting only events no later than the clock's now,
// sorted by kind. A total beyond the float64 range saturates at
// math.MaxFloat64, so every count stays finite.
//
// The Cloud keeps every event recorded and reads a tracked kind as
// observed at all times, before the resource's launch and before the
// kind was tracked included: every count covers the whole window, and
// ActivityCount.Since is always zero. A test of a caller's handling of a
// count that covers less (a source's retention, an agent installed
// later) wraps Activity in a provider.ActivitySourceFunc that sets Since.
func (c *Cloud) Activity(ctx context.Context, q provider.ActivityQuery) (_ []provider.ActivityCount, err error) {
	defer redact.Errorp(&err)
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("memory: activity: %w", err)
	}
	if _, err := c.enter(ctx, OpActivity, q.ResourceID); err != nil {
		return nil, err
	}
	now := c.clock.Now()
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.activityLocked(q, now)
}

// activityLocked answers the valid query q at the clock's reading now;
// c.mu is held.
func (c *Cloud) activityLocked(q provider.ActivityQuery, now time.Time) ([]provider.ActivityCount, error) {
	if _, ok := c.resources[q.ResourceID]; !ok {
		return nil, notFound("activity", q.ResourceID)
	}
	d := c.activity[q.ResourceID]
	if d == nil {
		return []provider.ActivityCount{}, nil
	}
	byKind := map[provider.ActivityKind]*provider.ActivityCount{}
	for k := range d.tracked {
		byKind[k] = &provider.ActivityCount{Kind: k}
	}
	lo, _ := slices.BinarySearchFunc(d.events, q.Start, func(e activityEvent, t time.Time) int { return e.at.Compare(t) })
	for _, ev := range d.events[lo:] {
		if !ev.at.Before(q.End) || ev.at.After(now) {
			break
		}
		a := byKind[ev.kind]
		a.Count = min(a.Count+ev.count, math.MaxFloat64)
		if ev.count > 0 && ev.at.After(a.Last) {
			a.Last = ev.at
		}
	}
	out := make([]provider.ActivityCount, 0, len(byKind))
	for _, a := range byKind {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b provider.ActivityCount) int { return strings.Compare(string(a.Kind), string(b.Kind)) })
	return out, nil
}
