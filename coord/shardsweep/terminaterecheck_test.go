package shardsweep_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/coord/shardsweep"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/provider"
)

// TestLoginDuringTheDelayBlocksATerminate: a terminate is read again
// before its claim as a stop is. The ensemble's quiet period is its
// terminate window (28 days), so that the Tracker's read of the activity
// covers what a terminate needs and two idle volumes are "terminate";
// someone used vol-0000 at 12:02, during the Delay: it is not claimed nor
// handed to the Actor (Report.InUse), its verdict has no action and the
// login, for the terminate, as the reason; vol-0001 is terminated.
func TestLoginDuringTheDelayBlocksATerminate(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := &fleet{idle: map[string]bool{"vol-0000": true, "vol-0001": true}}
	for _, id := range []string{"vol-0000", "vol-0001"} {
		f.resources = append(f.resources, provider.Resource{ID: id, Kind: provider.KindVolume, State: provider.StateStopped,
			LaunchTime: t0.Add(-90 * 24 * time.Hour)})
	}
	f.activity = &logins{at: map[string][]time.Time{"vol-0000": {t0.Add(2 * time.Minute)}}}
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{Activity: detector.ActivityConfig{Quiet: 28 * 24 * time.Hour}})
	require.NoError(t, err)
	require.Equal(t, 28*24*time.Hour, ens.Config().Evidence.TerminateWindow)

	g := newRig(t, 2, f, t0.Add(5*time.Minute))
	log := &verdictLog{}
	cfg := g.cfg
	cfg.Shards.ID = "replica-a"
	cli := etcdtest.Dial(t, g.eps...)
	r, err := shardsweep.New(cfg, cli, ens, f.detector(), g.rec.actor("replica-a"),
		shardsweep.WithClock(g.clock), shardsweep.WithObserver(g.rec), shardsweep.WithLogger(g.logger),
		shardsweep.WithVerdicts(log))
	require.NoError(t, err)
	g.balanced(runReplica(t, "replica-a", cli, r, 30*time.Second))
	var inUse []string
	for _, rs := range g.allDone(t0) {
		require.Len(t, rs, 1)
		inUse = append(inUse, rs[0].InUse...)
		assert.Empty(t, rs[0].Unchecked)
	}
	acts := g.rec.actsFor(t0)
	verdicts := log.all()

	assert.Equal(t, detector.ActionTerminate, verdicts["vol-0001"].Action, verdicts["vol-0001"].Explain())
	assert.Len(t, acts["vol-0001"], 1, "quiet: terminated")
	assert.Empty(t, acts["vol-0000"], "used at 12:02: not terminated")
	assert.Equal(t, []string{"vol-0000"}, inUse)
	v := verdicts["vol-0000"]
	assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
	assert.Equal(t, detector.ActionTerminate, recheckReason(t, v, detector.ReasonInUse).Action)
}

// TestVolumeAttachedBeforeItsClaimIsNotTerminated: the Tracker judged two
// detached (stopped) volumes "terminate", as in
// TestLoginDuringTheDelayBlocksATerminate; vol-0000 was attached to an
// instance (running) during the Delay, which provider.Resource.ChangedFrom
// does not count: read again before its claim, it is not claimed nor
// handed to the Actor (Report.Changed), as the reaper skips it, whatever
// the verdict made on the listing said; vol-0001 is terminated.
func TestVolumeAttachedBeforeItsClaimIsNotTerminated(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := &fleet{idle: map[string]bool{"vol-0000": true, "vol-0001": true}}
	for _, id := range []string{"vol-0000", "vol-0001"} {
		f.resources = append(f.resources, provider.Resource{ID: id, Kind: provider.KindVolume, State: provider.StateStopped,
			LaunchTime: t0.Add(-90 * 24 * time.Hour)})
	}
	attached := f.resources[0]
	attached.State = provider.StateRunning
	f.now = map[string]provider.Resource{"vol-0000": attached}
	f.activity = &logins{}
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{Activity: detector.ActivityConfig{Quiet: 28 * 24 * time.Hour}})
	require.NoError(t, err)

	g := newRig(t, 2, f, t0.Add(5*time.Minute))
	log := &verdictLog{}
	cfg := g.cfg
	cfg.Shards.ID = "replica-a"
	cli := etcdtest.Dial(t, g.eps...)
	r, err := shardsweep.New(cfg, cli, ens, f.detector(), g.rec.actor("replica-a"),
		shardsweep.WithClock(g.clock), shardsweep.WithObserver(g.rec), shardsweep.WithLogger(g.logger),
		shardsweep.WithVerdicts(log))
	require.NoError(t, err)
	g.balanced(runReplica(t, "replica-a", cli, r, 30*time.Second))
	var changed []string
	for _, rs := range g.allDone(t0) {
		require.Len(t, rs, 1)
		changed = append(changed, rs[0].Changed...)
	}
	acts := g.rec.actsFor(t0)
	verdicts := log.all()
	assert.Equal(t, detector.ActionTerminate, verdicts["vol-0001"].Action, verdicts["vol-0001"].Explain())
	assert.Len(t, acts["vol-0001"], 1, "detached: terminated")
	assert.Empty(t, acts["vol-0000"], "attached since it was listed: not terminated")
	assert.Equal(t, []string{"vol-0000"}, changed)
}

// TestOnlyAVolumeMustBeDetachedToBeTerminated: read again before its
// claim, a volume is terminated only while still detached (stopped): one
// being attached (pending) or detached (stopping) since it was listed is
// not claimed either (Report.Changed), as one attached (running) is
// (TestVolumeAttachedBeforeItsClaimIsNotTerminated); the rule is a
// volume's: a function, running as it always is, judged "terminate" is
// terminated.
func TestOnlyAVolumeMustBeDetachedToBeTerminated(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := &fleet{idle: map[string]bool{"vol-0000": true, "vol-0001": true, "vol-0002": true, "fn-0000": true}, now: map[string]provider.Resource{}}
	for _, id := range []string{"vol-0000", "vol-0001", "vol-0002"} {
		f.resources = append(f.resources, provider.Resource{ID: id, Kind: provider.KindVolume, State: provider.StateStopped,
			LaunchTime: t0.Add(-90 * 24 * time.Hour)})
	}
	// A function judged as an instance is, on its (idle) CPU.
	f.resources = append(f.resources, provider.Resource{ID: "fn-0000", Kind: provider.KindFunction, State: provider.StateRunning,
		LaunchTime: t0.Add(-90 * 24 * time.Hour)})
	for i, s := range []provider.State{provider.StatePending, provider.StateStopping} {
		r := f.resources[i]
		r.State = s
		f.now[r.ID] = r
	}
	f.activity = &logins{}
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{Activity: detector.ActivityConfig{Quiet: 28 * 24 * time.Hour},
		Kinds: map[provider.Kind]detector.KindConfig{provider.KindVolume: detector.DefaultKinds()[provider.KindVolume]}})
	require.NoError(t, err)

	g := newRig(t, 2, f, t0.Add(5*time.Minute))
	log := &verdictLog{}
	cfg := g.cfg
	cfg.Shards.ID = "replica-a"
	cli := etcdtest.Dial(t, g.eps...)
	r, err := shardsweep.New(cfg, cli, ens, f.detector(), g.rec.actor("replica-a"),
		shardsweep.WithClock(g.clock), shardsweep.WithObserver(g.rec), shardsweep.WithLogger(g.logger),
		shardsweep.WithVerdicts(log))
	require.NoError(t, err)
	g.balanced(runReplica(t, "replica-a", cli, r, 30*time.Second))
	var changed []string
	for _, rs := range g.allDone(t0) {
		require.Len(t, rs, 1)
		changed = append(changed, rs[0].Changed...)
	}
	acts := g.rec.actsFor(t0)
	verdicts := log.all()
	for _, id := range []string{"vol-0000", "vol-0001", "vol-0002", "fn-0000"} {
		require.Equal(t, detector.ActionTerminate, verdicts[id].Action, "%s: %v", id, verdicts[id].Explain())
	}
	assert.Empty(t, acts["vol-0000"], "being attached (pending): not terminated")
	assert.Empty(t, acts["vol-0001"], "being detached (stopping): not terminated")
	assert.Len(t, acts["vol-0002"], 1, "detached: terminated")
	assert.Len(t, acts["fn-0000"], 1, "a function is running: terminated")
	assert.ElementsMatch(t, []string{"vol-0000", "vol-0001"}, changed)
}
