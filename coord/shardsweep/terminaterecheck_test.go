package shardsweep_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
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
	f.resources = detachedVolumes(t0, "vol-0000", "vol-0001")
	f.activity = &logins{at: map[string][]time.Time{"vol-0000": {t0.Add(2 * time.Minute)}}}
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{Activity: detector.ActivityConfig{Quiet: 28 * 24 * time.Hour}})
	require.NoError(t, err)
	require.Equal(t, 28*24*time.Hour, ens.Config().Evidence.TerminateWindow)

	reps, verdicts, acts := sweptWith(t, t0, f, ens)
	var inUse []string
	for _, rep := range reps {
		inUse = append(inUse, rep.InUse...)
		assert.Empty(t, rep.Unchecked)
	}

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
	f.resources = detachedVolumes(t0, "vol-0000", "vol-0001")
	attached := f.resources[0]
	attached.State = provider.StateRunning
	f.now = map[string]provider.Resource{"vol-0000": attached}
	f.activity = &logins{}
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{Activity: detector.ActivityConfig{Quiet: 28 * 24 * time.Hour}})
	require.NoError(t, err)

	reps, verdicts, acts := sweptWith(t, t0, f, ens)
	var changed []string
	for _, rep := range reps {
		changed = append(changed, rep.Changed...)
	}
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
	f.resources = detachedVolumes(t0, "vol-0000", "vol-0001", "vol-0002")
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

	reps, verdicts, acts := sweptWith(t, t0, f, ens)
	var changed []string
	for _, rep := range reps {
		changed = append(changed, rep.Changed...)
	}
	for _, id := range []string{"vol-0000", "vol-0001", "vol-0002", "fn-0000"} {
		require.Equal(t, detector.ActionTerminate, verdicts[id].Action, "%s: %v", id, verdicts[id].Explain())
	}
	assert.Empty(t, acts["vol-0000"], "being attached (pending): not terminated")
	assert.Empty(t, acts["vol-0001"], "being detached (stopping): not terminated")
	assert.Len(t, acts["vol-0002"], 1, "detached: terminated")
	assert.Len(t, acts["fn-0000"], 1, "a function is running: terminated")
	assert.ElementsMatch(t, []string{"vol-0000", "vol-0001"}, changed)
}

// detachedVolumes returns volumes ids, detached (stopped), created 90
// days before t0.
func detachedVolumes(t0 time.Time, ids ...string) []provider.Resource {
	out := make([]provider.Resource, len(ids))
	for i, id := range ids {
		out[i] = provider.Resource{ID: id, Kind: provider.KindVolume, State: provider.StateStopped, LaunchTime: t0.Add(-90 * 24 * time.Hour)}
	}
	return out
}
