package shardsweep_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/coord/shardsweep"
	"github.com/idlescale/idlescale/internal/etcdtest"
)

// movingClock is a mock clock that is moved on by move in the middle of
// the next After call for a wait of d: after the caller read the time,
// before its timer is set, as a test's (or a host simulation's) Add
// lands between a runner's Now and its After. moved is closed then.
type movingClock struct {
	*clock.Mock
	d, move time.Duration
	once    sync.Once
	moved   chan struct{}
}

func (c *movingClock) After(d time.Duration) <-chan time.Time {
	if d == c.d {
		c.once.Do(func() {
			c.Add(c.move)
			close(c.moved)
		})
	}
	return c.Mock.After(d)
}

// TestClockMovedWhileTheLeaderSetsItsTimer: the leader of a shard waits
// on its clock for the next period's pass (t1 + Delay); when the clock
// moves on between the leader reading it and setting its timer (a fake
// clock that a test or a host's simulation moves on from another
// goroutine), the pass still runs once the clock reads t1 + Delay: the
// timer was set the whole wait after the moved time, a period late, so
// the pass of t1 did not run (a test waiting for it failed, once in a
// while, on a loaded machine).
func TestClockMovedWhileTheLeaderSetsItsTimer(t *testing.T) {
	t.Parallel()
	for _, move := range []time.Duration{time.Hour, 20 * time.Minute} { // the whole wait; a part, the rest moved after
		t.Run(fmt.Sprint(move), func(t *testing.T) {
			t.Parallel()
			t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
			f := newFleet(4, t0.Add(-90*24*time.Hour))
			g := newRig(t, 1, f, t0.Add(5*time.Minute))
			// After t0's pass, at t0+5m, the leader waits an hour for t1's.
			clk := &movingClock{Mock: g.clock, d: time.Hour, move: move, moved: make(chan struct{})}
			g.opts = append(g.opts, shardsweep.WithClock(clk))
			g.start("replica-a")
			g.allDone(t0)
			select {
			case <-clk.moved:
			case <-time.After(60 * time.Second):
				t.Fatal("the leader did not wait for the next period")
			}
			if rest := time.Hour - move; rest > 0 {
				g.clock.Add(rest)
			}
			t1 := t0.Add(time.Hour)
			require.Equal(t, t1.Add(g.cfg.Delay), g.clock.Now())
			g.allDone(t1)
			g.checkActs(t1)
		})
	}
}

// TestClockMovedWhileAListingIsMade: a listing of the inventory is
// forgotten as soon as it is older than Delay on the runner's clock (the
// package doc); when the clock moves on between the pass reading it (the
// listing's time) and setting the listing's timer, the listing is still
// forgotten then, not the move later (the timer was set Delay after the
// moved time: the replica held its share of the fleet that much longer).
func TestClockMovedWhileAListingIsMade(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFleet(8, t0.Add(-90*24*time.Hour))
	// One shard: with two, the second's leadership could come after the
	// first's pass had listed (without it), and its own pass list again
	// once the clock had moved, a minute later (seen once in a full run
	// under -race); the listing this test follows is the one made as the
	// clock moves.
	g := newRig(t, 1, f, t0.Add(5*time.Minute))
	// The pass of t0 lists at t0+5m; the clock moves a minute on as the
	// listing's timer (Delay and a nanosecond) is set.
	clk := &movingClock{Mock: g.clock, d: g.cfg.Delay + time.Nanosecond, move: time.Minute, moved: make(chan struct{})}
	g.opts = append(g.opts, shardsweep.WithClock(clk))
	a := g.start("replica-a")
	g.balanced(a)
	g.allDone(t0)
	select {
	case <-clk.moved:
	default:
		t.Fatal("the listing's timer was not set")
	}
	require.Equal(t, len(f.resources), a.runner.HeldListings(), "the listing of %s", t0)

	g.clock.Add(g.cfg.Delay - time.Minute) // t0+5m+Delay: the listing is exactly Delay old
	assert.Equal(t, len(f.resources), a.runner.HeldListings(), "exactly Delay old: still held")
	g.clock.Add(time.Nanosecond)
	ok := etcdtest.Within(t, 60*time.Second, func() bool { return a.runner.HeldListings() == 0 })
	require.True(t, ok, "a listing older than Delay is forgotten; held: %d", a.runner.HeldListings())
}
