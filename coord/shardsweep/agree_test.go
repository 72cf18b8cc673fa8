package shardsweep_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/coord/shardsweep"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/provider"
)

// stop stops rp gracefully (it resigns and deletes its keys) and waits
// for its Run to return.
func (g *rig) stop(rp *replica) {
	t := g.t
	t.Helper()
	rp.cancel()
	select {
	case err := <-rp.done:
		require.NoError(t, err)
		rp.done <- err // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatalf("replica %s did not stop", rp.id)
	}
}

// statusOf waits until rp's ConfigStatus satisfies cond and returns it.
func (g *rig) statusOf(rp *replica, what string, cond func(st shardsweep.ConfigStatus) bool) shardsweep.ConfigStatus {
	t := g.t
	t.Helper()
	var st shardsweep.ConfigStatus
	ok := etcdtest.Within(t, 60*time.Second, func() bool {
		st = rp.runner.ConfigStatus()
		return cond(st)
	})
	require.True(t, ok, "%s: %s; status %+v", rp.id, what, st)
	return st
}

// mismatchWith reports whether st was read and lists exactly the replicas
// ids as disagreeing.
func mismatchWith(ids ...string) func(st shardsweep.ConfigStatus) bool {
	return func(st shardsweep.ConfigStatus) bool {
		got := make([]string, len(st.Mismatches))
		for i, m := range st.Mismatches {
			got[i] = m.Replica
		}
		return st.Checked && slices.Equal(got, ids)
	}
}

// refused returns the reports of the passes of period that were refused
// for a configuration mismatch, by replica.
func (g *rig) refused(period time.Time) map[string][]shardsweep.Report {
	out := map[string][]shardsweep.Report{}
	for _, rep := range g.rec.all() {
		if rep.Period.Equal(period) && errors.Is(rep.Err, shardsweep.ErrConfigMismatch) {
			out[rep.Replica] = append(out[rep.Replica], rep)
		}
	}
	return out
}

// TestAnotherPeriodIsReported: a replica running another period than the
// others (a rolling deploy changing it, or a replica left behind) used to
// go unnoticed. Each replica names the other, its key and the field that
// differs, with both values; the passes still run (a period does not make
// a pass unsafe) and carry the mismatch in their reports; when the other
// replica leaves, the mismatch clears.
func TestAnotherPeriodIsReported(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC) // a period of 1h and of 2h
	f := newFleet(8, t0.Add(-90*24*time.Hour))
	g := newRig(t, 4, f, t0.Add(5*time.Minute))
	a := g.start("replica-a")
	b := g.startWith("replica-b", func(c *shardsweep.Config) { c.Period = 2 * time.Hour })

	st := g.statusOf(a, "replica-b disagrees", mismatchWith("replica-b"))
	m := st.Mismatches[0]
	assert.Equal(t, g.cfg.Shards.Prefix+"config/replica-b", m.Key)
	require.NoError(t, m.Err)
	assert.Equal(t, []shardsweep.ConfigDiff{{Field: "period", Mine: "1h0m0s", Theirs: "2h0m0s"}}, m.Fields)
	assert.NotEqual(t, st.Fingerprint.Hash, m.Fingerprint)
	err := st.Conflict()
	require.ErrorIs(t, err, shardsweep.ErrConfigMismatch)
	require.ErrorContains(t, err, g.cfg.Shards.Prefix+"config/replica-b")
	require.ErrorContains(t, err, "period: 1h0m0s (here) vs 2h0m0s")
	require.NoError(t, st.Conflict("prefix", "shards"), "a period does not stop a pass")
	stB := g.statusOf(b, "replica-a disagrees", mismatchWith("replica-a"))
	assert.Equal(t, []shardsweep.ConfigDiff{{Field: "period", Mine: "2h0m0s", Theirs: "1h0m0s"}}, stB.Mismatches[0].Fields)

	g.balanced(a, b)
	t1 := t0.Add(2 * time.Hour)
	g.clock.Add(2 * time.Hour)
	g.allDone(t1)
	g.checkActs(t1)
	for _, reps := range g.rec.done(t1) {
		for _, rep := range reps {
			require.NoError(t, rep.Err)
			other := map[string]string{a.id: b.id, b.id: a.id}[rep.Replica]
			require.Len(t, rep.Mismatches, 1, "shard %d led by %s", rep.Shard, rep.Replica)
			assert.Equal(t, other, rep.Mismatches[0].Replica, "shard %d led by %s", rep.Shard, rep.Replica)
		}
	}

	g.stop(b)
	st = g.statusOf(a, "replica-b left", func(st shardsweep.ConfigStatus) bool { return st.Checked && st.Peers == 0 })
	assert.Empty(t, st.Mismatches)
	assert.NoError(t, st.Conflict())
}

// TestPerReplicaFieldsAgree: the fields that may differ per replica (its
// ID, its timings, its chunk, concurrency and act timeout) and a default
// written out or left zero make no mismatch.
func TestPerReplicaFieldsAgree(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFleet(4, t0.Add(-90*24*time.Hour))
	g := newRig(t, 2, f, t0.Add(5*time.Minute))
	a := g.start("replica-a")
	b := g.startWith("replica-b", func(c *shardsweep.Config) {
		c.Shards.SessionTTL, c.Shards.RequestTimeout, c.Shards.MaxRetries, c.Shards.RetryDelay = 3*time.Second, 2*time.Second, 2, 100*time.Millisecond
		c.Chunk, c.Concurrency, c.ActTimeout = 7, 3, time.Minute
		c.Tracker.Step, c.Tracker.Statistic = 5*time.Minute, provider.StatMean // the defaults, written out
	})
	for _, rp := range []*replica{a, b} {
		st := g.statusOf(rp, "the other read", func(st shardsweep.ConfigStatus) bool { return st.Checked && st.Peers == 1 })
		assert.Empty(t, st.Mismatches, rp.id)
		require.NoError(t, st.Conflict(), rp.id)
	}
	assert.Equal(t, a.runner.ConfigStatus().Fingerprint.Hash, b.runner.ConfigStatus().Fingerprint.Hash)
	assert.Equal(t, g.cfg.Shards.Prefix+"config/replica-a", a.runner.ConfigKey())
}

// TestAnotherPrefixStopsSweeping: two live replicas with other Prefixes
// keep their claims and progress in two key spaces, so that a resource
// could be acted on twice in a period: every pass is refused (reported
// with ErrConfigMismatch, naming the key and the field), nothing is acted
// on, and once the other replica leaves the period is swept, each idle
// resource acted on once.
func TestAnotherPrefixStopsSweeping(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFleet(8, t0.Add(-90*24*time.Hour))
	g := newRig(t, 4, f, t0.Add(-55*time.Minute)) // t0's passes are due at t0+5m
	a := g.start("replica-a")
	b := g.startWith("replica-b", func(c *shardsweep.Config) { c.Prefix += "other/" })
	g.statusOf(a, "replica-b disagrees", mismatchWith("replica-b"))
	g.statusOf(b, "replica-a disagrees", mismatchWith("replica-a"))
	g.balanced(a, b)

	g.clock.Add(time.Hour)
	var refused map[string][]shardsweep.Report
	ok := etcdtest.Within(t, 60*time.Second, func() bool {
		refused = g.refused(t0)
		return len(refused[a.id]) > 0 && len(refused[b.id]) > 0
	})
	require.True(t, ok, "both replicas refuse their passes of %s: %v", t0, refused)
	rep := refused[a.id][0]
	require.ErrorContains(t, rep.Err, g.cfg.Shards.Prefix+"config/replica-b")
	require.ErrorContains(t, rep.Err, `prefix: "`+g.cfg.Prefix+`" (here) vs "`+g.cfg.Prefix+`other/"`)
	assert.False(t, rep.Done)
	assert.Empty(t, g.rec.done(t0), "no shard swept %s", t0)
	assert.Empty(t, g.rec.actsFor(t0), "nothing acted on in %s", t0)

	g.stop(b)
	g.balanced(a)
	g.allDone(t0)
	g.checkActs(t0)
}

// TestUnreadableFingerprintStopsSweeping: a fingerprint another replica
// wrote that cannot be read (not JSON; a hash that is not its config's)
// is reported with an error naming its key, not a panic, counts as a
// disagreement in every field (the passes are refused), and clears when
// the key goes.
func TestUnreadableFingerprintStopsSweeping(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFleet(4, t0.Add(-90*24*time.Hour))
	g := newRig(t, 2, f, t0.Add(5*time.Minute))
	cli := etcdtest.Dial(t, g.eps...)
	ctx := t.Context()
	garbled, forged := g.cfg.Shards.Prefix+"config/garbled", g.cfg.Shards.Prefix+"config/forged"
	_, err := cli.Put(ctx, garbled, "{not json")
	require.NoError(t, err)
	_, err = cli.Put(ctx, forged, `{"id":"forged","fingerprint":"sha256:00","config":{"period":1}}`)
	require.NoError(t, err)

	a := g.start("replica-a")
	st := g.statusOf(a, "both unreadable", mismatchWith("forged", "garbled"))
	for i, key := range []string{forged, garbled} {
		m := st.Mismatches[i]
		assert.Equal(t, key, m.Key)
		require.ErrorIs(t, m.Err, shardsweep.ErrConfigFingerprint)
		require.ErrorContains(t, m.Err, key)
	}
	err = st.Conflict("prefix")
	require.ErrorIs(t, err, shardsweep.ErrConfigMismatch)
	require.ErrorIs(t, err, shardsweep.ErrConfigFingerprint)
	ok := etcdtest.Within(t, 60*time.Second, func() bool { return len(g.refused(t0)[a.id]) > 0 })
	require.True(t, ok, "the pass of %s is refused", t0)
	assert.Empty(t, g.rec.done(t0))

	_, err = cli.Delete(context.WithoutCancel(ctx), garbled)
	require.NoError(t, err)
	_, err = cli.Delete(context.WithoutCancel(ctx), forged)
	require.NoError(t, err)
	g.statusOf(a, "the keys are gone", mismatchWith())
	g.allDone(t0)
	g.checkActs(t0)
}

// TestConfigCheckDownStopsSweeping: while this replica's configuration
// check is down (here its fingerprint's key was deleted; a watch ended
// or a lost lease does the same), its fingerprint is unpublished, so the
// others cannot read it, and it would not see a replica that joined with
// another Prefix: its passes are refused (reported with an error
// matching coord.ErrStore, the check's), nothing is acted on, and once
// the check publishes and reads again, sweeping resumes.
func TestConfigCheckDownStopsSweeping(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFleet(4, t0.Add(-90*24*time.Hour))
	g := newRig(t, 2, f, t0.Add(-55*time.Minute)) // t0-1h's passes run now, t0's at t0+5m
	// The check publishes again RetryDelay after a failure, in real time
	// (as coord campaigns again): long enough to see the passes of t0
	// refused on a loaded machine, then back.
	g.cfg.Shards.RetryDelay = 20 * time.Second
	a := g.start("replica-a")
	g.allDone(t0.Add(-time.Hour))

	cli := etcdtest.Dial(t, g.eps...)
	_, err := cli.Delete(t.Context(), a.runner.ConfigKey())
	require.NoError(t, err)
	g.statusOf(a, "the check failed", func(st shardsweep.ConfigStatus) bool { return st.Err != nil })

	g.clock.Add(time.Hour)                // t0+5m: the passes of t0 are due
	var refused map[int]shardsweep.Report // a refusal per shard (one may be reported again when its error changes)
	ok := etcdtest.Within(t, 60*time.Second, func() bool {
		refused = map[int]shardsweep.Report{}
		for _, rep := range g.rec.all() {
			if rep.Period.Equal(t0) && rep.Err != nil {
				refused[rep.Shard] = rep
			}
		}
		return len(refused) >= g.cfg.Shards.Shards || len(g.rec.done(t0)) > 0
	})
	require.True(t, ok, "the passes of %s are refused", t0)
	assert.Empty(t, g.rec.done(t0), "no shard swept %s while the check is down", t0)
	assert.Empty(t, g.rec.actsFor(t0), "nothing acted on in %s while the check is down", t0)
	for _, rep := range refused {
		require.ErrorIs(t, rep.Err, coord.ErrStore, "shard %d", rep.Shard)
		assert.False(t, rep.Done)
	}

	// RetryDelay later the check publishes again, and the passes of t0,
	// refused until then, run.
	g.statusOf(a, "the check is back", func(st shardsweep.ConfigStatus) bool { return st.Checked && st.Err == nil })
	g.allDone(t0)
	g.checkActs(t0)
}
