package shardsweep_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/coord/shardsweep"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/internal/etcdtest"
)

// TestFailedListingBackoffCappedAndReset: the backoff after a failed
// listing doubles from Shards.RetryDelay up to Config.Delay and stays
// there (it is not doubled past it: a listing that fails for long is
// tried again every Delay, not once an hour, then once a day), and a pass
// that is done starts it again from RetryDelay at the next failure.
func TestFailedListingBackoffCappedAndReset(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := &failingList{fleet: newFleet(4, t0.Add(-90*24*time.Hour))}
	f.fail.Store(true)
	g := newRig(t, 1, f.fleet, t0.Add(5*time.Minute))
	clk := afterClock{Mock: g.clock, afters: make(chan time.Duration, 1000)}
	cfg := g.cfg
	cfg.Shards.ID = "replica-a"
	cli := etcdtest.Dial(t, g.eps...)
	r, err := shardsweep.New(cfg, cli, newEnsemble(t), detector.Fleet{Inventory: f, Metrics: f.fleet}, g.rec.actor("replica-a"),
		shardsweep.WithClock(clk), shardsweep.WithObserver(g.rec))
	require.NoError(t, err)
	runReplica(t, "replica-a", cli, r, 30*time.Second)
	// waitsFor waits for the leader to wait want on its clock; it fails
	// on a wait longer than most.
	waitsFor := func(want, most time.Duration) {
		t.Helper()
		deadline := time.After(30 * time.Second) // a safety net
		for {
			select {
			case d := <-clk.afters:
				if d == want {
					return
				}
				require.LessOrEqual(t, d, most, "waiting for a wait of %v", want)
			case <-deadline:
				t.Fatalf("the leader did not wait %v on its clock after a failed listing (listings: %d)", want, f.lists.Load())
			}
		}
	}
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
