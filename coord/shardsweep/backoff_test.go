package shardsweep_test

import (
	"testing"
	"time"
)

// TestFailedListingBackoffCappedAndReset: the backoff after a failed
// listing doubles from Shards.RetryDelay up to Config.Delay and stays
// there (it is not doubled past it: a listing that fails for long is
// tried again every Delay, not once an hour, then once a day), and a pass
// that is done starts it again from RetryDelay at the next failure.
func TestFailedListingBackoffCappedAndReset(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f, g, cfg, waitsFor := failingListingLeader(t, t0)
	var want []time.Duration
	for d := cfg.Shards.RetryDelay; d < cfg.Delay; d *= 2 {
		want = append(want, d)
	}
	want = append(want, cfg.Delay) // capped
	for _, d := range want {
		waitsFor(d, cfg.Delay+time.Nanosecond) // a listing waits Delay+1ns to be forgotten
		g.clock.Add(d)
	}
	waitsFor(cfg.Delay, cfg.Delay+time.Nanosecond) // and stays there

	// The inventory answers: the period is swept once the wait passes.
	f.fail.Store(false)
	g.clock.Add(cfg.Delay)
	g.allDone(t0)
	f.fail.Store(true)
	g.clock.Add(time.Hour)                     // the next period is due
	waitsFor(cfg.Shards.RetryDelay, time.Hour) // the wait for the period is one too
}
