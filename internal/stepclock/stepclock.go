// Package stepclock is the tests' fake clock: waiting on it moves
// its time forward by the wait at once, so a component that waits (a
// reaper verifying, an autoscaler's engine, a webhook's backoff) never
// blocks, and time passes exactly as much as it waited.
package stepclock

import (
	"slices"
	"sync"
	"time"
)

// Clock is a clock.Clock whose After fires at once, having moved the time
// forward by the wait. It is safe for concurrent use. Make one with New.
type Clock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

// New returns a Clock at now.
func New(now time.Time) *Clock { return &Clock{now: now} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After moves the time forward by d (not at all for d ≤ 0, which
// time.After fires at once) and returns a channel that has fired with the
// new time.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(max(d, 0))
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// Set sets the time to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Waits returns the durations After was called with, in order.
func (c *Clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.waits)
}
