package shardsweep_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/coord/shardsweep"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/detector/etcdstore"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/internal/syncbuf"
	"github.com/idlescale/idlescale/provider"

	"log/slog"
)

// depose deletes the leader keys of every shard under the rig's prefix,
// as etcd does when a leader's lease expires, but without the leader
// noticing (its session is alive, as in a long GC pause): only its fence
// can stop its writes now.
func (g *rig) depose(ctx context.Context, cli *clientv3.Client) {
	_, err := cli.Delete(ctx, g.cfg.Shards.Prefix+"election/", clientv3.WithPrefix())
	if err != nil {
		g.t.Errorf("depose: %v", err)
	}
}

// TestDeposedLeader: a leader deposed in the middle of a pass does not act
// any more. Deposed while it acts (after the first claim), its next claim
// is refused with ErrFenced and that resource is not acted on nor counted;
// deposed while it reads, its state saves are refused and it acts on
// nothing. Each time the next term finishes the period, skipping what the
// deposed term had claimed, so that every idle resource is acted on
// exactly once.
func TestDeposedLeader(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFleet(6, t0.Add(-90*24*time.Hour))
	g := newRig(t, 1, f, t0.Add(5*time.Minute))
	admin := etcdtest.Dial(t, g.eps...)
	a := g.start("replica-a")
	g.allDone(t0)
	g.checkActs(t0)

	// Deposed while acting: during its first act of the period.
	t1 := t0.Add(time.Hour)
	var once sync.Once
	first := ""
	g.rec.setAct(func(ctx context.Context, d shardsweep.Decision) error {
		if d.Period.Equal(t1) {
			once.Do(func() {
				first = d.Resource.ID
				g.depose(ctx, admin)
			})
		}
		return nil
	})
	g.clock.Add(time.Hour)
	done := g.allDone(t1)
	g.checkActs(t1)
	var fenced []shardsweep.Report
	for _, rep := range g.rec.all() {
		if rep.Period.Equal(t1) && rep.Err != nil {
			fenced = append(fenced, rep)
		}
	}
	require.Len(t, fenced, 1, "one pass was cut short")
	cut := fenced[0]
	require.ErrorIs(t, cut.Err, coord.ErrFenced)
	assert.False(t, cut.Done)
	assert.Equal(t, []string{first}, cut.Acted, "only the act claimed before the end of the term")
	require.Len(t, cut.Fenced, 1)
	assert.NotContains(t, cut.Acted, cut.Fenced[0], "a refused claim is not counted as acted")
	require.Len(t, passes(done[0]), 1)
	next := done[0][0]
	assert.Greater(t, next.Fence.Rev, cut.Fence.Rev, "a new term finished the period")
	assert.Equal(t, []string{first}, next.Claimed, "the next term skips what the deposed one claimed")
	assert.Len(t, next.Acted, 2)
	assert.Contains(t, next.Acted, cut.Fenced[0], "the refused resource is acted on by the next term")
	g.rec.setAct(nil)

	// Deposed while reading: its saves are refused and it acts on nothing.
	t2 := t1.Add(time.Hour)
	var once2 sync.Once
	f.setHold(func(q provider.Query) {
		if q.End.Equal(t2) {
			once2.Do(func() { g.depose(context.Background(), admin) })
		}
	})
	g.clock.Add(time.Hour)
	done = g.allDone(t2)
	g.checkActs(t2)
	var cut2 []shardsweep.Report
	for _, rep := range g.rec.all() {
		if rep.Period.Equal(t2) && rep.Err != nil {
			cut2 = append(cut2, rep)
		}
	}
	require.Len(t, cut2, 1)
	require.ErrorIs(t, cut2[0].Err, coord.ErrFenced)
	require.ErrorIs(t, cut2[0].Err, etcdstore.ErrGuard)
	assert.Empty(t, cut2[0].Acted)
	assert.Empty(t, cut2[0].Fenced, "no claim was tried")
	assert.Len(t, done[0][0].Acted, 3, "the next term acts on every idle resource")
	assert.Empty(t, done[0][0].Claimed)
	_ = a
}

// etcdGoesDown runs replica-a over a fleet of n resources in shards
// shards on an etcd of the test's own, checks the period t0 swept and
// acted on, then stops that etcd, moves the clock to the next period and
// waits until the leader logs that it could not read its progress. It
// returns the rig, the replica's log and t0.
func etcdGoesDown(t *testing.T, n, shards int) (*rig, *syncbuf.Buffer, time.Time) {
	t.Helper()
	own := etcdtest.New(t, etcdtest.Options{NoFsync: true})
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	g := newRig(t, shards, newFleet(n, t0.Add(-90*24*time.Hour)), t0.Add(5*time.Minute))
	g.eps = own.Endpoints()
	// A request timeout generous enough for a loaded machine's healthy
	// first period, and a session that outlives the requests that find
	// etcd gone (two of them, at most 1 s each): the pass notices the
	// outage and logs it before the shards stop with the session (≈ 2 s
	// after etcd's own graceful stop of ≈ 5 s, during which it still
	// answers keep-alives; the session lapses ≈ 10 s after it). (With
	// the rig's 2 s session, a request had to time out in 200 ms, and a
	// claim in the healthy period once did on a loaded machine.)
	g.cfg.Shards.SessionTTL = 10 * time.Second
	g.cfg.Shards.RequestTimeout = time.Second
	g.cfg.Shards.MaxRetries = 1
	logs := &syncbuf.Buffer{}
	g.logger = slog.New(slog.NewTextHandler(logs, nil))
	g.start("replica-a")
	g.allDone(t0)
	g.checkActs(t0)

	own.Members[0].Stop()
	g.clock.Add(time.Hour)
	ok := etcdtest.Within(t, 60*time.Second, func() bool {
		return strings.Contains(logs.String(), "shardsweep: read progress failed")
	})
	require.True(t, ok, "the failure is logged; logs:\n%s", logs.String())
	return g, logs, t0
}

// TestEtcdDown: when etcd becomes unreachable the leader acts on nothing
// (fail closed) and logs why; Run keeps running and returns nil when its
// context ends.
func TestEtcdDown(t *testing.T) {
	t.Parallel()
	g, logs, t0 := etcdGoesDown(t, 6, 2)
	t1 := t0.Add(time.Hour)
	assert.Contains(t, logs.String(), "etcd failed")
	assert.Empty(t, g.rec.actsFor(t1), "nothing is acted on without etcd")
	assert.Empty(t, g.rec.done(t1))
}

// TestEtcdDownIsReported: when etcd is unreachable as a shard's pass
// comes due, its progress cannot be read and the leader stops the
// shard; the package doc says that error, matching coord.ErrStore, is
// reported to the Observer as well as logged, so that a host's metric or
// alert on its reports sees the outage: it was only logged. The report
// has no period (the period due is not known without the progress) and
// is not Done.
func TestEtcdDownIsReported(t *testing.T) {
	t.Parallel()
	g, _, t0 := etcdGoesDown(t, 2, 1)
	var failed []shardsweep.Report
	for _, rep := range g.rec.all() {
		if rep.Err != nil {
			failed = append(failed, rep)
		}
	}
	require.NotEmpty(t, failed, "the failure is reported to the Observer")
	rep := failed[0]
	require.ErrorIs(t, rep.Err, coord.ErrStore)
	assert.Equal(t, 0, rep.Shard)
	assert.Equal(t, "replica-a", rep.Replica)
	assert.True(t, rep.Period.IsZero(), "the period due is not known: %v", rep.Period)
	assert.False(t, rep.Done)
	assert.Empty(t, g.rec.actsFor(t0.Add(time.Hour)))
}

// TestShardCountMismatch: a replica configured with another shard count
// than its cluster's refuses to run, with ErrShardCount.
func TestShardCountMismatch(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFleet(4, t0.Add(-90*24*time.Hour))
	g := newRig(t, 4, f, t0.Add(5*time.Minute))
	a := g.start("replica-a")
	g.balanced(a)
	cfg := g.cfg
	cfg.Shards.ID = "replica-b"
	cfg.Shards.Shards = 8
	r, err := shardsweep.New(cfg, etcdtest.Dial(t, g.eps...), newEnsemble(t), f.detector(), g.rec.actor("replica-b"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err = r.Run(ctx)
	require.ErrorIs(t, err, coord.ErrShardCount)
	assert.Contains(t, err.Error(), "runs 4 shards")
	require.NoError(t, ctx.Err(), "refused at once, not at the deadline")
	assert.Equal(t, []int{0, 1, 2, 3}, a.runner.Leading(), "the running replica keeps its shards")
}

// TestNewRejects: invalid configurations and missing collaborators are
// refused at construction with an error naming the field.
func TestNewRejects(t *testing.T) {
	t.Parallel()
	cli := etcdtest.Dial(t, cluster.Endpoints()...)
	ens := newEnsemble(t)
	f := newFleet(1, time.Time{})
	good := shardsweep.Config{Shards: coord.ShardsConfig{ID: "r1", Shards: 4}, Period: time.Hour}
	actor := shardsweep.ActorFunc(func(context.Context, shardsweep.Decision) error { return nil })
	_, err := shardsweep.New(good, cli, ens, f.detector(), actor)
	require.NoError(t, err, "the minimal valid configuration")
	tests := []struct {
		name  string
		give  func(c *shardsweep.Config)
		field string
	}{
		{"zero shards", func(c *shardsweep.Config) { c.Shards.Shards = 0 }, "shards.shards"},
		{"negative shards", func(c *shardsweep.Config) { c.Shards.Shards = -3 }, "shards.shards"},
		{"too many shards", func(c *shardsweep.Config) { c.Shards.Shards = coord.MaxShards + 1 }, "shards.shards"},
		{"empty replica id", func(c *shardsweep.Config) { c.Shards.ID = "" }, "shards.id"},
		{"replica id with a slash", func(c *shardsweep.Config) { c.Shards.ID = "a/b" }, "shards.id"},
		{"zero period", func(c *shardsweep.Config) { c.Period = 0 }, "period"},
		{"negative period", func(c *shardsweep.Config) { c.Period = -time.Hour }, "period"},
		{"period not whole hours", func(c *shardsweep.Config) { c.Period = 90 * time.Minute }, "period"},
		{"negative delay", func(c *shardsweep.Config) { c.Delay = -time.Minute }, "delay"},
		{"delay of a period", func(c *shardsweep.Config) { c.Delay = time.Hour }, "delay"},
		{"default delay over the period", func(c *shardsweep.Config) { c.Period = 0; c.Delay = 0 }, "period"},
		{"negative chunk", func(c *shardsweep.Config) { c.Chunk = -1 }, "chunk"},
		{"negative concurrency", func(c *shardsweep.Config) { c.Concurrency = -1 }, "concurrency"},
		{"negative act timeout", func(c *shardsweep.Config) { c.ActTimeout = -time.Second }, "act_timeout"},
		{"session ttl not whole seconds", func(c *shardsweep.Config) { c.Shards.SessionTTL = 1500 * time.Millisecond }, "shards.session_ttl"},
		{"tracker step", func(c *shardsweep.Config) { c.Tracker.Step = 7 * time.Minute }, "tracker.step"},
		// The runner's keys must not meet coord.Shards': under the members
		// they would read as replicas, under a shard's election they would
		// hold its next campaign forever.
		{"prefix among the members", func(c *shardsweep.Config) { c.Prefix = coord.DefaultShardsPrefix + "members/sweep/" }, "prefix"},
		{"prefix in the elections", func(c *shardsweep.Config) { c.Prefix = coord.DefaultShardsPrefix + "election/" }, "prefix"},
		{"prefix among the configuration fingerprints", func(c *shardsweep.Config) { c.Prefix = coord.DefaultShardsPrefix + "config/" }, "prefix"},
		{"prefix in a set shards prefix's elections", func(c *shardsweep.Config) { c.Shards.Prefix = "app/"; c.Prefix = "app/election/sweep/" }, "prefix"},
		{"shards prefix among the states", func(c *shardsweep.Config) { c.Shards.Prefix = "idlescale/shardsweep/state/coord/" }, "shards.prefix"},
		{"shards prefix among the shards' claims", func(c *shardsweep.Config) { c.Prefix = "app/"; c.Shards.Prefix = "app/shard-0-of-4/coord/" }, "shards.prefix"},
		{"NUL in prefix", func(c *shardsweep.Config) { c.Prefix = "a\x00" }, "prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tt.give(&cfg)
			_, err := shardsweep.New(cfg, cli, ens, f.detector(), actor)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
			require.ErrorIs(t, cfg.Validate(), provider.ErrInvalid)
		})
	}
	for _, c := range []shardsweep.Config{
		{Shards: coord.ShardsConfig{ID: "r1", Shards: 4, Prefix: "app/"}, Period: time.Hour, Prefix: "app/"},
		{Shards: coord.ShardsConfig{ID: "r1", Shards: 4, Prefix: "app/"}, Period: time.Hour, Prefix: "app/sweep/"},
		{Shards: coord.ShardsConfig{ID: "r1", Shards: 4, Prefix: "app/sweep/coord/"}, Period: time.Hour, Prefix: "app/sweep/"},
	} {
		require.NoError(t, c.Validate(), "prefixes whose keys do not meet: %q and %q", c.Shards.Prefix, c.Prefix)
	}
	collaborators := []struct {
		name  string
		call  func() error
		field string
	}{
		{"client", func() error { _, err := shardsweep.New(good, nil, ens, f.detector(), actor); return err }, "client"},
		{"ensemble", func() error { _, err := shardsweep.New(good, cli, nil, f.detector(), actor); return err }, "ensemble"},
		{"inventory", func() error {
			_, err := shardsweep.New(good, cli, ens, detector.Fleet{Metrics: f}, actor)
			return err
		}, "fleet.inventory"},
		{"metrics", func() error {
			_, err := shardsweep.New(good, cli, ens, detector.Fleet{Inventory: f}, actor)
			return err
		}, "fleet.metrics"},
		{"actor", func() error { _, err := shardsweep.New(good, cli, ens, f.detector(), nil); return err }, "actor"},
	}
	for _, tt := range collaborators {
		var ie *provider.InvalidError
		require.ErrorAs(t, tt.call(), &ie, tt.name)
		assert.Equal(t, tt.field, ie.Field, tt.name)
	}
}

// TestNewRejectsTypedNilCollaborators: a collaborator that is a typed nil
// (a nil ActorFunc or provider.MetricsSourceFunc, a nil pointer) passes an
// `== nil` check and panics on its first call, which would be in a shard's
// goroutine, where nothing recovers: a nil ActorFunc would crash the
// replica just after its first claim committed, leaving that resource
// "claimed" and not acted on for the period by any replica. New refuses
// them with a *provider.InvalidError naming the field, as it does nil;
// fleet.Activity may be nil (none) but not a typed nil.
func TestNewRejectsTypedNilCollaborators(t *testing.T) {
	t.Parallel()
	cli := etcdtest.Dial(t, cluster.Endpoints()...)
	ens := newEnsemble(t)
	f := newFleet(1, time.Time{})
	good := shardsweep.Config{Shards: coord.ShardsConfig{ID: "r1", Shards: 4}, Period: time.Hour}
	actor := shardsweep.ActorFunc(func(context.Context, shardsweep.Decision) error { return nil })
	_, err := shardsweep.New(good, cli, ens, detector.Fleet{Inventory: f, Metrics: f, Activity: nil}, actor)
	require.NoError(t, err, "no activity source is valid")
	for _, tt := range []struct {
		name  string
		fleet detector.Fleet
		actor shardsweep.Actor
		field string
	}{
		{"nil ActorFunc", f.detector(), shardsweep.ActorFunc(nil), "actor"},
		{"nil MetricsSourceFunc", detector.Fleet{Inventory: f, Metrics: provider.MetricsSourceFunc(nil)}, actor, "fleet.metrics"},
		{"nil ActivitySourceFunc", detector.Fleet{Inventory: f, Metrics: f, Activity: provider.ActivitySourceFunc(nil)}, actor, "fleet.activity"},
		{"nil inventory pointer", detector.Fleet{Inventory: (*fleet)(nil), Metrics: f}, actor, "fleet.inventory"},
		{"nil metrics pointer", detector.Fleet{Inventory: f, Metrics: (*fleet)(nil)}, actor, "fleet.metrics"},
	} {
		_, err := shardsweep.New(good, cli, ens, tt.fleet, tt.actor)
		var ie *provider.InvalidError
		if assert.ErrorAs(t, err, &ie, tt.name) {
			assert.Equal(t, tt.field, ie.Field, tt.name)
		}
	}
	// A nil *clock.Mock is refused by name: taken for the real clock, it
	// ran a host's test on real time. A nil Clock is the real clock.
	_, err = shardsweep.New(good, cli, ens, f.detector(), actor, shardsweep.WithClock((*clock.Mock)(nil)))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "clock", ie.Field)
	_, err = shardsweep.New(good, cli, ens, f.detector(), actor, shardsweep.WithClock(nil))
	require.NoError(t, err)
}

// TestNilObserverFuncsAreNoObserver: WithObserver(ObserverFunc(nil)) and
// WithVerdicts(VerdictObserverFunc(nil)) mean no observer, as nil does
// (the options' default), rather than a call that panics in a shard's
// goroutine after the chunk's acts (crashing the replica with the period
// not recorded as done): the replica acts on the idle resources and
// finishes the period.
func TestNilObserverFuncsAreNoObserver(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFleet(4, t0.Add(-90*24*time.Hour))
	g := newRig(t, 1, f, t0.Add(5*time.Minute))
	var logs syncbuf.Buffer
	g.logger = slog.New(slog.NewTextHandler(&logs, nil))
	// After the rig's recorder: these replace it as the Observer.
	g.opts = append(g.opts, shardsweep.WithObserver(shardsweep.ObserverFunc(nil)), shardsweep.WithVerdicts(shardsweep.VerdictObserverFunc(nil)))
	g.start("replica-a")
	ok := etcdtest.Within(t, 60*time.Second, func() bool {
		return strings.Contains(logs.String(), "shardsweep: pass done")
	})
	require.True(t, ok, "the pass is done; logs:\n%s", logs.String())
	g.checkActs(t0)
	assert.Empty(t, g.rec.all(), "the recorder was replaced by no observer")
}

// TestClaimLedger pins what the claims record and keep: an act that
// succeeds leaves its claim "acted", one that fails "failed: " and its
// error; after a period's pass the claims of that period and the one
// before are kept, older ones deleted.
func TestClaimLedger(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFleet(4, t0.Add(-90*24*time.Hour)) // i-0000 and i-0002 idle
	g := newRig(t, 1, f, t0.Add(5*time.Minute))
	admin := etcdtest.Dial(t, g.eps...)
	g.rec.setAct(func(_ context.Context, d shardsweep.Decision) error {
		if d.Resource.ID == "i-0002" {
			return errors.New("boom")
		}
		return nil
	})
	g.start("replica-a")
	g.allDone(t0)
	for _, p := range []time.Time{t0.Add(time.Hour), t0.Add(2 * time.Hour)} {
		g.clock.Add(time.Hour)
		g.allDone(p)
	}
	resp, err := admin.Get(t.Context(), g.cfg.Prefix, clientv3.WithPrefix())
	require.NoError(t, err)
	outcomes := map[string]string{} // period/resource → outcome
	for _, kv := range resp.Kvs {
		key := string(kv.Key)
		i := strings.Index(key, "/claims/")
		if i < 0 {
			continue
		}
		var rec struct {
			Outcome string `json:"outcome"`
		}
		require.NoError(t, json.Unmarshal(kv.Value, &rec))
		outcomes[key[i+len("/claims/"):]] = rec.Outcome
	}
	pk := func(p time.Time, id string) string { return fmt.Sprintf("%020d/%s", p.Unix(), id) }
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	assert.Equal(t, map[string]string{
		pk(t1, "i-0000"): "acted", pk(t1, "i-0002"): "failed: boom",
		pk(t2, "i-0000"): "acted", pk(t2, "i-0002"): "failed: boom",
	}, outcomes, "the claims of the last two periods, with their outcomes; t0's pruned")
}

// TestLeaseLostWhileActing: the leader's session lease is lost (it
// expired, or an operator revoked it) while the leader acts: its context
// ends, it acts on nothing more, and its pass says why: deposed
// (coord.ErrFenced), not an etcd failure, and no resource "changed since
// the listing" (the re-reads that failed with the ended context). The
// next term finishes the period, skipping what the lost one claimed.
// (The pass went on re-reading every action of its chunk, listed them all
// in Report.Changed, and ended with ErrStore, "etcd failed", from marking
// the period done under the ended context.)
func TestLeaseLostWhileActing(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFleet(6, t0.Add(-90*24*time.Hour)) // i-0000, i-0002, i-0004 idle
	g := newRig(t, 1, f, t0.Add(5*time.Minute))
	var logs syncbuf.Buffer
	g.logger = slog.New(slog.NewTextHandler(&logs, nil))
	admin := etcdtest.Dial(t, g.eps...)
	var once sync.Once
	first, lost := "", false
	g.rec.setAct(func(ctx context.Context, d shardsweep.Decision) error {
		once.Do(func() {
			first = d.Resource.ID
			resp, err := admin.Get(ctx, g.cfg.Shards.Prefix+"election/", clientv3.WithPrefix())
			if err != nil {
				t.Errorf("leader keys: %v", err)
				return
			}
			for _, kv := range resp.Kvs {
				if _, err := admin.Revoke(ctx, clientv3.LeaseID(kv.Lease)); err != nil {
					t.Errorf("revoke: %v", err)
				}
			}
			// The leader has seen its session end: its context is over.
			lost = etcdtest.Within(t, 30*time.Second, func() bool { return strings.Contains(logs.String(), "coord: leadership lost") })
		})
		return nil
	})
	g.start("replica-a")
	done := g.allDone(t0)
	g.checkActs(t0)
	require.True(t, lost, "the leader saw its session end; logs:\n%s", logs.String())
	var cut []shardsweep.Report
	for _, rep := range g.rec.all() {
		if rep.Err != nil {
			cut = append(cut, rep)
		}
	}
	require.Len(t, cut, 1, "one pass was cut short")
	require.ErrorIs(t, cut[0].Err, coord.ErrFenced, "deposed")
	require.NotErrorIs(t, cut[0].Err, coord.ErrStore, "etcd did not fail")
	assert.False(t, cut[0].Done)
	assert.Equal(t, []string{first}, cut[0].Acted)
	assert.Empty(t, cut[0].Changed, "nothing changed since the listing")
	assert.Empty(t, cut[0].Fenced, "no claim was tried after the end of the term")
	require.Len(t, done[0], 1)
	assert.Equal(t, []string{first}, done[0][0].Claimed, "the next term skips what the lost one claimed")
	assert.Len(t, done[0][0].Acted, 2)
	assert.Contains(t, logs.String(), "shardsweep: pass failed", "the lost leadership is logged")
}

// afterClock is a mock clock that reports the duration of each After
// call, once its timer is set, so that a test advances the clock only
// when the runner waits on it.
type afterClock struct {
	*clock.Mock
	afters chan time.Duration
}

func (c afterClock) After(d time.Duration) <-chan time.Time {
	ch := c.Mock.After(d)
	c.afters <- d
	return ch
}

// failingList is the fleet with a List that fails while fail is set.
type failingList struct {
	*fleet
	fail atomic.Bool
}

func (f *failingList) List(ctx context.Context, filter provider.Filter) ([]provider.Resource, error) {
	if f.fail.Load() {
		f.lists.Add(1)
		return nil, errors.New("RequestLimitExceeded: the inventory API is throttled")
	}
	return f.fleet.List(ctx, filter)
}

// TestFailedListingTriedAgainAfterABackoff: while the inventory fails
// (throttled, down), the leader of a shard keeps it and lists again only
// after a backoff on its clock (Shards.RetryDelay, doubling), not at once:
// a failed pass used to resign the shard, which was campaigned for and
// listed again every RetryDelay (5 listings a second per shard with the
// default 200ms), a storm on an API that is already failing. Once the
// inventory answers, the period is swept.
func TestFailedListingTriedAgainAfterABackoff(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f, g, cfg, waitsFor := failingListingLeader(t, t0)
	retry, anyWait := cfg.Shards.RetryDelay, time.Duration(math.MaxInt64)
	waitsFor(retry, anyWait)
	assert.Equal(t, int32(1), f.lists.Load(), "one listing, then a wait")
	g.clock.Add(retry)
	waitsFor(2*retry, anyWait)
	assert.Equal(t, int32(2), f.lists.Load(), "listed again once the backoff passed, and waits twice as long")
	for _, rep := range g.rec.all() {
		require.Error(t, rep.Err)
		assert.Empty(t, rep.Acted)
	}

	f.fail.Store(false)
	g.clock.Add(2 * retry)
	g.allDone(t0)
	g.checkActs(t0)
}

// failingListingLeader starts replica-a leading the one shard of a rig
// whose inventory fails to list (until f.fail is cleared), at t0, on a
// clock that reports each wait; waitsFor(want, most) waits for the
// leader to wait want on it, failing on a wait longer than most before.
func failingListingLeader(t *testing.T, t0 time.Time) (*failingList, *rig, shardsweep.Config, func(want, most time.Duration)) {
	t.Helper()
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
	return f, g, cfg, waitsFor
}
