package shardsweep_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/coord/shardsweep"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/provider"
)

// replica is one in-process replica: its Runner on a client of its own.
type replica struct {
	id     string
	cli    *clientv3.Client
	runner *shardsweep.Runner
	cancel context.CancelFunc
	done   chan error
}

// rig runs several replicas over one fleet, on one fake clock.
type rig struct {
	t      *testing.T
	cfg    shardsweep.Config
	fleet  *fleet
	rec    *recorder
	clock  *clock.Mock
	logger *slog.Logger
	eps    []string
	opts   []shardsweep.Option // more options for every replica
	ens    *detector.Ensemble  // every replica's; nil: newEnsemble's
}

func newRig(t *testing.T, shards int, f *fleet, start time.Time) *rig {
	t.Helper()
	prefix := etcdtest.KeyPrefix(t)
	mock := clock.NewMock()
	mock.Set(start)
	return &rig{
		t: t, fleet: f, rec: newRecorder(), clock: mock, eps: cluster.Endpoints(),
		logger: slog.New(slog.DiscardHandler),
		cfg: shardsweep.Config{
			Shards: coord.ShardsConfig{Shards: shards, Prefix: prefix + "coord/", SessionTTL: 2 * time.Second,
				RetryDelay: 50 * time.Millisecond},
			Period: time.Hour, Delay: 5 * time.Minute, Prefix: prefix + "sweep/",
		},
	}
}

// start starts replica id; it is stopped (gracefully) when the test ends.
func (g *rig) start(id string) *replica {
	g.t.Helper()
	return g.startWith(id, nil)
}

// startWith starts replica id with the rig's configuration changed by
// change (nil: none), as start does.
func (g *rig) startWith(id string, change func(c *shardsweep.Config)) *replica {
	t := g.t
	t.Helper()
	cfg := g.cfg
	cfg.Shards.ID = id
	if change != nil {
		change(&cfg)
	}
	cli := etcdtest.Dial(t, g.eps...)
	ens := g.ens
	if ens == nil {
		ens = newEnsemble(t)
	}
	r, err := shardsweep.New(cfg, cli, ens, g.fleet.detector(), g.rec.actor(id),
		append([]shardsweep.Option{shardsweep.WithClock(g.clock), shardsweep.WithObserver(g.rec), shardsweep.WithLogger(g.logger)}, g.opts...)...)
	require.NoError(t, err)
	return runReplica(t, id, cli, r, 30*time.Second)
}

// runReplica runs r, replica id on cli, until the test ends, when it is
// stopped (gracefully) and must return nil within wait.
func runReplica(t *testing.T, id string, cli *clientv3.Client, r *shardsweep.Runner, wait time.Duration) *replica {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rp := &replica{id: id, cli: cli, runner: r, cancel: cancel, done: make(chan error, 1)}
	go func() { rp.done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-rp.done:
			assert.NoError(t, err, "Run of %s", id)
		case <-time.After(wait):
			t.Errorf("Run of %s did not return", id)
		}
	})
	return rp
}

// kill ends replica rp without resigning anything: its client is closed
// first, so that its leases expire after SessionTTL.
func (g *rig) kill(rp *replica) {
	g.t.Helper()
	rp.kill(g.t, 30*time.Second)
}

// kill closes rp's client, then stops it, and returns how long Run took to
// return; it fails the test unless Run returns nil within wait.
func (rp *replica) kill(t *testing.T, wait time.Duration) time.Duration {
	t.Helper()
	stopping := time.Now() //nolint:forbidigo // the time a killed replica takes to stop is reported
	require.NoError(t, rp.cli.Close())
	rp.cancel()
	select {
	case err := <-rp.done:
		require.NoError(t, err)
		rp.done <- err // for the cleanup
	case <-time.After(wait):
		t.Fatalf("killed replica %s did not stop in %s", rp.id, wait)
	}
	return time.Since(stopping) //nolint:forbidigo // as above
}

// balanced waits until the replicas lead every shard, each the shards
// coord.Assign gives it among them.
func (g *rig) balanced(rs ...*replica) {
	t := g.t
	t.Helper()
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.id
	}
	owners, err := coord.Assign(g.cfg.Shards.Shards, ids)
	require.NoError(t, err)
	want := map[string][]int{}
	for k, id := range owners {
		want[id] = append(want[id], k)
	}
	ok := etcdtest.Within(t, 60*time.Second, func() bool {
		for _, r := range rs {
			if !slices.Equal(r.runner.Leading(), want[r.id]) {
				return false
			}
		}
		return true
	})
	if !ok {
		for _, r := range rs {
			t.Logf("%s leads %v, wants %v", r.id, r.runner.Leading(), want[r.id])
		}
		t.Fatal("the replicas did not settle on the assignment")
	}
}

// allDone waits until every shard has finished period.
func (g *rig) allDone(period time.Time) map[int][]shardsweep.Report {
	t := g.t
	t.Helper()
	var got map[int][]shardsweep.Report
	ok := etcdtest.Within(t, 60*time.Second, func() bool {
		got = g.rec.done(period)
		return len(got) == g.cfg.Shards.Shards
	})
	require.True(t, ok, "shards done for %s: %v of %d", period, slices.Sorted(maps.Keys(got)), g.cfg.Shards.Shards)
	return got
}

// checkActs checks that in period every idle resource was acted on exactly
// once and no busy one was.
func (g *rig) checkActs(period time.Time) {
	t := g.t
	t.Helper()
	acts := g.rec.actsFor(period)
	for _, r := range g.fleet.resources {
		if g.fleet.idle[r.ID] {
			assert.Len(t, acts[r.ID], 1, "%s in %s: acted on by %v", r.ID, period, acts[r.ID])
		} else {
			assert.Empty(t, acts[r.ID], "%s is busy", r.ID)
		}
	}
}

// TestFailover: three replicas share 12 shards of 60 resources. A replica
// that joins takes its shards from the others; a replica killed without
// resigning loses its shards when its leases expire, and the survivors
// take them and resume from the stored states (no full re-read). In every
// period every idle resource is acted on exactly once, none twice and
// none skipped, and every resource gets a verdict.
func TestFailover(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFleet(60, t0.Add(-90*24*time.Hour))
	// The replicas start a minute before t0's passes are due: they first
	// sweep the period before (t0 − 1h) as they win their shards, one by
	// one (a listing keeps the shards led when it is made, so a shard won
	// later lists again), and lead all of them by t0's.
	g := newRig(t, 12, f, t0.Add(4*time.Minute))

	a, b := g.start("replica-a"), g.start("replica-b")
	g.balanced(a, b)
	g.allDone(t0.Add(-time.Hour))
	lists := f.lists.Load()
	assert.LessOrEqual(t, lists, int32(12), "lists for %s: at most one per shard", t0.Add(-time.Hour))
	g.clock.Add(time.Minute)
	done := g.allDone(t0)
	g.checkActs(t0)
	// The shards of a replica share one listing of the inventory a period.
	assert.LessOrEqual(t, f.lists.Load()-lists, int32(2), "lists for %s: at most one per replica, not one per shard", t0)
	for k, reps := range done {
		require.Len(t, passes(reps), 1, "shard %d finished %s once", k, t0)
	}

	// A third replica joins: it takes a third of the shards.
	c := g.start("replica-c")
	g.balanced(a, b, c)
	t1 := t0.Add(time.Hour)
	lists = f.lists.Load()
	g.clock.Add(time.Hour)
	done = g.allDone(t1)
	g.checkActs(t1)
	assert.LessOrEqual(t, f.lists.Load()-lists, int32(3), "lists for %s", t1)
	fromC := 0
	for k, reps := range done {
		require.Len(t, passes(reps), 1, "shard %d", k)
		rep := reps[0]
		assert.Equal(t, rep.Resources, rep.Sweep.Incremental, "shard %d (led by %s) resumes from the stored states: full reads %v", k, rep.Replica, rep.Sweep.Full)
		assert.Equal(t, rep.Resources, rep.Verdicts, "shard %d: a verdict per resource", k)
		if rep.Replica == c.id {
			fromC++
		}
	}
	assert.Equal(t, 4, fromC, "the new replica swept its third of the shards")

	// The third replica dies without resigning; the others take its
	// shards once its leases have expired.
	moved := c.runner.Leading()
	require.NotEmpty(t, moved)
	g.kill(c)
	g.balanced(a, b)
	t2 := t1.Add(time.Hour)
	g.clock.Add(time.Hour)
	done = g.allDone(t2)
	g.checkActs(t2)
	for _, k := range moved {
		rep := done[k][0]
		assert.NotEqual(t, c.id, rep.Replica)
		assert.Equal(t, rep.Resources, rep.Sweep.Incremental, "shard %d moved to %s and resumed from the stored states: full reads %v", k, rep.Replica, rep.Sweep.Full)
	}
	total := 0
	for _, reps := range done {
		total += reps[0].Resources
	}
	assert.Equal(t, len(f.resources), total, "every resource is in exactly one shard")
	for _, period := range []time.Time{t0, t1, t2} {
		for k, reps := range g.rec.done(period) {
			assert.Len(t, passes(reps), 1, "shard %d swept %s once: a new leader resumes after the last period done", k, period)
		}
	}
	for _, rep := range g.rec.all() {
		assert.Empty(t, rep.Fenced, "shard %d %s", rep.Shard, rep.Period)
		assert.Empty(t, rep.Failed)
	}
}

// TestChangedSinceListingNotActed: an idle resource restarted after the
// listing (a new launch time, which the grace period covers) and another
// retagged as protected are read again before the claim, found changed,
// and not acted on (Report.Changed); the other idle ones are.
func TestChangedSinceListingNotActed(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFleet(12, t0.Add(-90*24*time.Hour))
	restarted, retagged, repriced := f.resources[0], f.resources[2], f.resources[4] // idle (even index)
	restarted.LaunchTime = t0.Add(4 * time.Minute)
	retagged.Protected = true
	repriced.HourlyCost = 0.5 // not a change of the resource: it is acted on, as read again
	f.now = map[string]provider.Resource{restarted.ID: restarted, retagged.ID: retagged, repriced.ID: repriced}
	g := newRig(t, 2, f, t0.Add(5*time.Minute))
	var acted sync.Map // resource → the Decision's Resource
	g.rec.setAct(func(_ context.Context, d shardsweep.Decision) error {
		acted.Store(d.Resource.ID, d.Resource)
		return nil
	})
	a := g.start("replica-a")
	g.balanced(a)
	done := g.allDone(t0)
	var changed []string
	for _, reps := range done {
		for _, rep := range reps {
			changed = append(changed, rep.Changed...)
		}
	}
	assert.ElementsMatch(t, []string{restarted.ID, retagged.ID}, changed)
	acts := g.rec.actsFor(t0)
	for _, r := range f.resources {
		switch {
		case r.ID == restarted.ID || r.ID == retagged.ID:
			assert.Empty(t, acts[r.ID], "%s changed since it was listed", r.ID)
		case f.idle[r.ID]:
			assert.Len(t, acts[r.ID], 1, r.ID)
		}
	}
	got, ok := acted.Load(repriced.ID)
	require.True(t, ok)
	assert.InDelta(t, 0.5, got.(provider.Resource).HourlyCost, 0, "the Actor gets the copy read again, not the listed one")
}

// TestListedTwiceNotActedOn: the inventory lists an idle instance twice (a
// cloud API paging while it restarts): a stale copy launched 90 days ago
// and the current one, restarted an hour ago, inside the detector's 24 h
// grace period. A verdict must rest on one resource's evidence, so the ID
// is neither swept nor acted on: no verdict, no Decision (the stale copy's
// "idle, stop" used to be re-read against the current copy, pass the
// check and be acted on), and the pass reports it in Report.Duplicated
// and goes on with the others, finishing the period. It holds whether the
// copies fall in one chunk or in two.
func TestListedTwiceNotActedOn(t *testing.T) {
	t.Parallel()
	for _, chunk := range []int{0, 1} { // the default (one chunk), and a chunk per resource
		t.Run(fmt.Sprintf("chunk %d", chunk), func(t *testing.T) {
			t.Parallel()
			t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
			f := newFleet(4, t0.Add(-90*24*time.Hour)) // i-0000 and i-0002 idle, i-0001 and i-0003 busy
			stale := f.resources[0]
			fresh := stale
			fresh.LaunchTime = t0.Add(-time.Hour) // restarted: in the grace period
			f.resources = append(f.resources, fresh)
			f.now = map[string]provider.Resource{fresh.ID: fresh} // what Get answers now
			g := newRig(t, 1, f, t0.Add(5*time.Minute))
			g.cfg.Chunk = chunk
			var mu sync.Mutex
			verdicts := map[string]int{}
			g.opts = append(g.opts, shardsweep.WithVerdicts(shardsweep.VerdictObserverFunc(func(_ int, _ time.Time, vs []detector.Verdict) {
				mu.Lock()
				defer mu.Unlock()
				for _, v := range vs {
					verdicts[v.ResourceID]++
				}
			})))
			a := g.start("replica-a")
			g.balanced(a)
			done := g.allDone(t0)

			require.Len(t, done[0], 1)
			rep := done[0][0]
			assert.Equal(t, []string{stale.ID}, rep.Duplicated)
			assert.Equal(t, 4, rep.Resources, "each resource once")
			assert.Equal(t, 3, rep.Verdicts, "no verdict for the resource listed twice")
			assert.Empty(t, rep.Changed, "not read again either: never swept")
			mu.Lock()
			assert.Equal(t, map[string]int{"i-0001": 1, "i-0002": 1, "i-0003": 1}, verdicts)
			mu.Unlock()
			acts := g.rec.actsFor(t0)
			assert.Empty(t, acts[stale.ID], "a resource listed twice is not acted on")
			assert.Len(t, acts["i-0002"], 1, "the pass goes on with the others")
			assert.Len(t, acts, 1)
		})
	}
}

// TestListingForgottenBetweenSweeps: a replica does not hold its listing
// of the inventory between its sweeps. Run forgets a listing as soon as it
// is older than Delay on the replica's clock (no later pass would take it),
// not when the next period's pass lists again: held exactly Delay after
// the passes listed, gone a nanosecond later; the next period lists anew.
func TestListingForgottenBetweenSweeps(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFleet(8, t0.Add(-90*24*time.Hour))
	g := newRig(t, 2, f, t0.Add(5*time.Minute))
	a := g.start("replica-a")
	g.balanced(a)
	g.allDone(t0)
	require.Equal(t, len(f.resources), a.runner.HeldListings(), "the listing of %s, split over its 2 shards", t0)

	g.clock.Add(g.cfg.Delay) // the clock reads when the passes listed, plus Delay
	assert.Equal(t, len(f.resources), a.runner.HeldListings(), "exactly Delay old: still held")
	g.clock.Add(time.Nanosecond)
	ok := etcdtest.Within(t, 60*time.Second, func() bool { return a.runner.HeldListings() == 0 })
	require.True(t, ok, "a listing older than Delay is forgotten; held: %d", a.runner.HeldListings())

	lists := f.lists.Load()
	t1 := t0.Add(time.Hour)
	g.clock.Add(time.Hour - g.cfg.Delay - time.Nanosecond) // t1 + Delay: t1's passes are due
	g.allDone(t1)
	g.checkActs(t1)
	assert.Equal(t, lists+1, f.lists.Load(), "the next period lists anew, once for both shards")
}

// TestPassInChunks: a pass sweeps its shard Config.Chunk resources at a
// time and acts on a chunk's verdicts before it reads the next: the
// VerdictObserver receives each chunk after its actions and before the
// next chunk's, at most Chunk verdicts at a time, every resource's verdict
// once; the Report counts them and keeps none.
func TestPassInChunks(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFleet(25, t0.Add(-90*24*time.Hour))
	g := newRig(t, 2, f, t0.Add(5*time.Minute))
	g.cfg.Chunk = 4
	type event struct {
		act   string   // a resource acted on, or
		chunk []string // a chunk's verdicts
	}
	var mu sync.Mutex
	events := map[int][]event{} // by shard
	g.rec.setAct(func(_ context.Context, d shardsweep.Decision) error {
		mu.Lock()
		defer mu.Unlock()
		events[d.Shard] = append(events[d.Shard], event{act: d.Resource.ID})
		return nil
	})
	g.opts = append(g.opts, shardsweep.WithVerdicts(shardsweep.VerdictObserverFunc(func(k int, period time.Time, vs []detector.Verdict) {
		mu.Lock()
		defer mu.Unlock()
		assert.True(t, period.Equal(t0), "period %s", period)
		ids := make([]string, len(vs))
		for i, v := range vs {
			ids[i] = v.ResourceID
		}
		events[k] = append(events[k], event{chunk: ids})
	})))
	a := g.start("replica-a")
	g.balanced(a)
	done := g.allDone(t0)
	g.checkActs(t0)

	mu.Lock()
	defer mu.Unlock()
	seen := map[string]int{}
	for k, reps := range done {
		require.Len(t, reps, 1, "shard %d", k)
		rep := reps[0]
		assert.Equal(t, rep.Resources, rep.Verdicts, "shard %d: a verdict per resource", k)
		assert.Nil(t, rep.Sweep.Verdicts, "shard %d: the report keeps no verdicts", k)
		chunks, pending := 0, map[string]bool{}
		for _, e := range events[k] {
			if e.act != "" {
				pending[e.act] = true
				continue
			}
			chunks++
			assert.LessOrEqual(t, len(e.chunk), 4, "shard %d: a chunk of at most Config.Chunk", k)
			for _, id := range e.chunk {
				seen[id]++
				if f.idle[id] {
					assert.True(t, pending[id], "shard %d: %s acted on before its chunk was handed over", k, id)
				}
				delete(pending, id)
			}
			assert.Empty(t, pending, "shard %d: acts of another chunk before this one was handed over", k)
		}
		assert.Equal(t, (rep.Resources+3)/4, chunks, "shard %d: %d resources in chunks of 4", k, rep.Resources)
	}
	assert.Len(t, seen, 25)
	for id, n := range seen {
		assert.Equal(t, 1, n, id)
	}
}
