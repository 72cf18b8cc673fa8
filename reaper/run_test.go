package reaper_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// handshakeClock is a clock.Clock, as a host writes one in its own tests:
// it wraps another (here a *clock.Mock from github.com/benbjohnson/clock) and tells the test, on waits, each
// time the reaper starts waiting and for how long, so that the test moves
// the mock only once the reaper's timer is set. No sleeps, no polling.
type handshakeClock struct {
	clock.Clock
	waits chan time.Duration
}

func newHandshakeClock(c clock.Clock) handshakeClock {
	return handshakeClock{Clock: c, waits: make(chan time.Duration)}
}

// After sets the timer on the wrapped clock, then reports d to the test.
func (c handshakeClock) After(d time.Duration) <-chan time.Time {
	ch := c.Clock.After(d)
	c.waits <- d
	return ch
}

// Run, driven by a mock clock the test advances: it acts and verifies on
// the clock, reports each run to the observer, waits Config.Interval on the
// clock between runs, and returns nil when ctx ends.
func TestRunOnMockClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{}) // a stop takes 30s on the mock
	e.add(t, vm{id: "i-1", cpu: 0.02})
	mock := e.clock // the *bclock.Mock the memory cloud runs on, at t0
	clk := newHandshakeClock(mock)

	runs := make(chan reaper.Report)
	r, err := reaper.New(reaper.Config{Execute: true, Interval: 30 * time.Minute}, e.fleet(), e.ensemble, e.engine,
		reaper.WithClock(clk),
		reaper.WithObserver(reaper.ObserverFuncs{Report: func(rep reaper.Report, err error) {
			assert.NoError(t, err)
			runs <- rep
		}}))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	// nextRun advances the mock by each verification wait until the run
	// reports.
	nextRun := func() reaper.Report {
		for {
			select {
			case d := <-clk.waits:
				assert.Equal(t, 10*time.Second, d, "a verification poll waits Config.VerifyInterval")
				mock.Add(d)
			case rep := <-runs:
				return rep
			}
		}
	}

	first := nextRun()
	assert.Equal(t, t0, first.Now, "the first run decides at the clock's now")
	rec := record(t, first, "i-1")
	assert.Equal(t, reaper.OutcomeActed, rec.Outcome, rec.String())
	assert.Equal(t, t0, rec.ActedAt)
	assert.Equal(t, t0.Add(30*time.Second), rec.VerifiedAt, "verified at the first poll after the 30s stop")

	assert.Equal(t, 30*time.Minute, <-clk.waits, "Run waits Config.Interval after a run")
	mock.Add(30 * time.Minute)
	second := nextRun()
	assert.Equal(t, t0.Add(30*time.Second+30*time.Minute), second.Now)
	assert.Equal(t, reaper.OutcomeSkipped, record(t, second, "i-1").Outcome, "already stopped")

	assert.Equal(t, 30*time.Minute, <-clk.waits)
	cancel()
	require.NoError(t, <-done, "Run returns nil when ctx ends")
	got, err := e.cloud.Get(t.Context(), "i-1")
	require.NoError(t, err)
	assert.Equal(t, provider.StateStopped, got.State)
	assert.Len(t, e.actions(), 1)
}
