package reaper_test

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// last29Days returns a sample every 5 minutes of the 29 days up to t0
// (the 28 days a terminate is judged on, and a day before), valued by
// value; a NaN value leaves its step without a sample.
func last29Days(value func(at time.Time) float64) []provider.Sample {
	var out []provider.Sample
	for at := t0.Add(-29 * 24 * time.Hour); at.Before(t0); at = at.Add(5 * time.Minute) {
		if v := value(at); !math.IsNaN(v) {
			out = append(out, provider.Sample{Time: at, Value: v})
		}
	}
	return out
}

// addVolume adds a detached volume (stopped) created 60 days before t0
// with 29 days of no byte read or written, every 5 minutes up to t0 (the
// 28 days a terminate is judged on), a fresh verified backup, and tracked
// logins and API calls with no event but those at the times given.
func (e *env) addVolume(t *testing.T, id string, logins ...time.Time) {
	t.Helper()
	e.addVolumeIn(t, id, provider.StateStopped, logins...)
}

// addVolumeIn is addVolume with the volume in state.
func (e *env) addVolumeIn(t *testing.T, id string, state provider.State, logins ...time.Time) {
	t.Helper()
	require.NoError(t, e.cloud.Add(provider.Resource{
		ID: id, Kind: provider.KindVolume, State: state, LaunchTime: t0.Add(-60 * 24 * time.Hour), HourlyCost: 0.05,
	}))
	for _, m := range []provider.Metric{provider.MetricDiskRead, provider.MetricDiskWrite} {
		require.NoError(t, e.cloud.AddSamples(id, m, last29Days(func(time.Time) float64 { return 0 })...))
	}
	require.NoError(t, e.cloud.AddBackup(provider.Backup{ID: "snap-" + id, ResourceID: id, Time: t0.Add(-time.Hour), Complete: true, Verified: true}))
	require.NoError(t, e.cloud.TrackActivity(id, provider.ActivityLogins, provider.ActivityAPICalls))
	for _, at := range logins {
		require.NoError(t, e.cloud.RecordActivity(id, provider.ActivityLogins, at, 1))
	}
}

// terminator is an executing reaper that may stop and terminate, with the
// env's ensemble and collaborators.
func (e *env) terminator(t *testing.T) *reaper.Reaper {
	t.Helper()
	return e.reaper(t, reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionStop, detector.ActionTerminate}})
}

// TestIdleVolumeTerminated: a volume idle for 28 days, with activity data
// over all of them showing no use, is terminated end to end through the
// reaper with the built-in ensemble: the scan reads its activity over the
// terminate window (it read 30 minutes, and the ensemble never
// recommended terminate: "no activity data covering 28d"), the gate asks
// for an approval (a terminate cannot be rolled back), and once approved
// the next run terminates it and verifies it.
func TestIdleVolumeTerminated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.addVolume(t, "vol-1")
	r := e.terminator(t)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	e.approvedTerminates(t, r, rep, "vol-1")
}

// TestAttachedVolumeNotTerminated: a volume with no byte read or written
// in 28 days that is still attached to an instance (running) is idle, but
// not terminated, nor is an approval asked for: it serves its instance,
// which is judged on its own, and EBS refuses to delete it. Detached, the
// same volume is.
func TestAttachedVolumeNotTerminated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.addVolumeIn(t, "vol-1", provider.StateRunning)
	r := e.terminator(t)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "vol-1")
	require.NotNil(t, rec.Verdict)
	assert.Equal(t, detector.Idle, rec.Verdict.State, "%v", rec.Verdict.Explain())
	assert.Equal(t, detector.ActionNone, rec.Verdict.Action, "%v", rec.Verdict.Explain())
	assert.Contains(t, rec.Verdict.Explain(), "evidence: the volume is in use (attached to an instance, or held by a claim): terminate needs it detached or released (judge what uses it)")
	assert.Empty(t, rec.ApprovalID, "nothing to approve")
	assert.NotEqual(t, reaper.OutcomeNeedsApproval, rec.Outcome, rec.Reason)
	res, err := e.cloud.Get(t.Context(), "vol-1")
	require.NoError(t, err)
	assert.Equal(t, provider.StateRunning, res.State)
}

// alwaysTerminates is an executing reaper, terminate allowed, whose
// detector (a host's own) recommends terminating every resource.
func (e *env) alwaysTerminates(t *testing.T) *reaper.Reaper {
	t.Helper()
	always := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Confidence: 1, Action: detector.ActionTerminate}, nil
	})
	r, err := reaper.New(reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionTerminate}}, e.fleet(), always, e.engine,
		reaper.WithClock(e.waitClock()))
	require.NoError(t, err)
	return r
}

// noTerminate checks that the cloud was asked to terminate nothing.
func (e *env) noTerminate(t *testing.T) {
	t.Helper()
	for _, mu := range e.cloud.Mutations() {
		assert.NotEqual(t, memory.OpTerminate, mu.Op, "%+v", mu)
	}
}

// TestAttachedVolumeNotTerminatedOnAnyDetector: a host's own detector
// that recommends terminating whatever its input does not get a volume
// attached to an instance (running) terminated: the reaper's re-read
// skips it, before the gate, and the cloud is not asked.
func TestAttachedVolumeNotTerminatedOnAnyDetector(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.addVolumeIn(t, "vol-1", provider.StateRunning)
	e.addVolume(t, "vol-2") // detached
	rep, err := e.run(t.Context(), t, e.alwaysTerminates(t), t0)
	require.NoError(t, err)
	rec := record(t, rep, "vol-1")
	assert.Equal(t, reaper.OutcomeSkipped, rec.Outcome, rec.Reason)
	assert.Equal(t, "attached to an instance (running): a volume is terminated only when detached", rec.Reason)
	assert.NotEqual(t, reaper.OutcomeSkipped, record(t, rep, "vol-2").Outcome, "the detached one goes on to the gate")
	e.noTerminate(t)
}

// TestPendingVolumeNotTerminatedOnAnyDetector: a volume pending, on its
// way to running (attached: the memory cloud makes a pending volume
// running after its StartDelay), or stopping (still attached, being
// detached), is not terminated either, whatever a host's own detector
// recommends: the re-read skips it before the gate, and the cloud is not
// asked. Only a stopped volume is detached.
func TestPendingVolumeNotTerminatedOnAnyDetector(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{StartDelay: 24 * time.Hour, StopDelay: 24 * time.Hour})
	e.addVolumeIn(t, "vol-1", provider.StatePending)
	e.addVolumeIn(t, "vol-2", provider.StateStopping)
	rep, err := e.run(t.Context(), t, e.alwaysTerminates(t), t0)
	require.NoError(t, err)
	for id, state := range map[string]provider.State{"vol-1": provider.StatePending, "vol-2": provider.StateStopping} {
		rec := record(t, rep, id)
		assert.Equal(t, reaper.OutcomeSkipped, rec.Outcome, "%s: %s", id, rec.Reason)
		// Its state, not "attached (running)": it is not running.
		assert.Equal(t, "state "+string(state)+": nothing to terminate", rec.Reason, id)
	}
	e.noTerminate(t)
}

// approvedTerminates checks that the run reported in rep recommended
// terminating id and asked for an approval, approves it, and checks that
// the next run of r terminates id, its only action.
func (e *env) approvedTerminates(t *testing.T, r *reaper.Reaper, rep reaper.Report, id string) {
	t.Helper()
	rec := record(t, rep, id)
	require.NotNil(t, rec.Verdict)
	require.Equal(t, detector.ActionTerminate, rec.Verdict.Action, "%v", rec.Verdict.Explain())
	require.Equal(t, reaper.OutcomeNeedsApproval, rec.Outcome, rec.Reason)
	_, err := e.approvals.Approve(t.Context(), rec.ApprovalID, "bob", t0.Add(time.Minute), "")
	require.NoError(t, err)

	rep, err = e.run(t.Context(), t, r, e.clock.Now().Add(5*time.Minute))
	require.NoError(t, err)
	rec = record(t, rep, id)
	assert.Equal(t, reaper.OutcomeActed, rec.Outcome, rec.Reason)
	assert.Equal(t, provider.StateTerminated, rec.FinalState)
	acts := e.actions()
	require.Len(t, acts, 1)
	assert.Equal(t, memory.OpTerminate, acts[0].Op)
	assert.Equal(t, id, acts[0].ResourceID)
}

// TestLoginInTheTerminateWindowBlocksTerminate: the same volume with one
// login 27 days ago is not terminated: the terminate window's activity
// shows use. An instance with the same login is still stopped: its stop
// is judged on the quiet period, not on weeks of activity.
func TestLoginInTheTerminateWindowBlocksTerminate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.addVolume(t, "vol-1", t0.Add(-27*24*time.Hour))
	e.add(t, vm{id: "i-1", cpu: 0.02})
	require.NoError(t, e.cloud.TrackActivity("i-1", provider.ActivityLogins))
	require.NoError(t, e.cloud.RecordActivity("i-1", provider.ActivityLogins, t0.Add(-27*24*time.Hour), 1))
	rep, err := e.run(t.Context(), t, e.terminator(t), t0)
	require.NoError(t, err)
	rec := record(t, rep, "vol-1")
	require.NotNil(t, rec.Verdict)
	assert.Equal(t, detector.ActionNone, rec.Verdict.Action, "%v", rec.Verdict.Explain())
	used := false
	for _, why := range rec.Verdict.Reasons {
		if why.Code == detector.ReasonUsed && why.Kind == provider.ActivityLogins && why.Action == detector.ActionTerminate {
			used = true
		}
	}
	assert.True(t, used, "the login is the reason: %v", rec.Verdict.Explain())
	assert.Empty(t, rec.ApprovalID, "no approval asked for")
	inst := record(t, rep, "i-1")
	assert.Equal(t, reaper.OutcomeActed, inst.Outcome, inst.Reason)
	acts := e.actions()
	require.Len(t, acts, 1)
	assert.Equal(t, memory.OpStop, acts[0].Op)
	assert.Equal(t, "i-1", acts[0].ResourceID)
}

// keeps15Days is the memory cloud's activity as read through a source
// that keeps 15 days (Prometheus's default retention): a count over an
// older window covers only its last 15 days, and says so in its Since.
// The cloud is a field, not embedded: its Activities
// (provider.ActivityBatcher) would answer a scan with all it keeps.
type keeps15Days struct{ cloud *memory.Cloud }

func (k keeps15Days) Activity(ctx context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
	kept := q.End.Add(-15 * 24 * time.Hour)
	if q.Start.Before(kept) {
		q.Start = kept
	}
	counts, err := k.cloud.Activity(ctx, q)
	for i := range counts {
		if kept.After(counts[i].Since) {
			counts[i].Since = kept
		}
	}
	return counts, err
}

// TestActivityKeptShorterThanTheTerminateWindowBlocksTerminate: the idle
// volume of TestIdleVolumeTerminated, its activity read from a source
// that keeps 15 days, is not terminated: a login 20 days ago would not be
// counted, so 15 quiet days are not the 28 a terminate needs. An idle
// instance beside it is still stopped: its 30-minute window is kept.
func TestActivityKeptShorterThanTheTerminateWindowBlocksTerminate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.addVolume(t, "vol-1")
	e.add(t, vm{id: "i-1", cpu: 0.02})
	require.NoError(t, e.cloud.TrackActivity("i-1", provider.ActivityLogins))
	fleet := e.fleet()
	fleet.Activity = keeps15Days{e.cloud}
	r, err := reaper.New(reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionStop, detector.ActionTerminate}}, fleet, e.ensemble, e.engine,
		reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals), reaper.WithHistory(e.history))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "vol-1")
	require.NotNil(t, rec.Verdict)
	assert.Equal(t, detector.ActionNone, rec.Verdict.Action, "%v", rec.Verdict.Explain())
	assert.Empty(t, rec.ApprovalID, "no approval asked for")
	var noUse *detector.Reason
	for i, why := range rec.Verdict.Reasons {
		if why.Code == detector.ReasonNoUse && why.Action == detector.ActionTerminate {
			noUse = &rec.Verdict.Reasons[i]
		}
	}
	require.NotNil(t, noUse, "%v", rec.Verdict.Explain())
	assert.Equal(t, 15*24*time.Hour, noUse.Duration, "the cover kept")
	inst := record(t, rep, "i-1")
	assert.Equal(t, reaper.OutcomeActed, inst.Outcome, inst.Reason)
	acts := e.actions()
	require.Len(t, acts, 1)
	assert.Equal(t, memory.OpStop, acts[0].Op)
	assert.Equal(t, "i-1", acts[0].ResourceID)
}

// addFunction adds a function last modified 60 days before t0 with 29
// days of invocations every 5 minutes up to t0, none but those at the
// times given (each also an API call in its activity).
func (e *env) addFunction(t *testing.T, id string, invoked ...time.Time) {
	t.Helper()
	require.NoError(t, e.cloud.Add(provider.Resource{
		ID: id, Kind: provider.KindFunction, LaunchTime: t0.Add(-60 * 24 * time.Hour), HourlyCost: 0.01,
	}))
	samples := last29Days(func(at time.Time) float64 {
		v := 0.0
		for _, inv := range invoked {
			if !inv.Before(at) && inv.Before(at.Add(5*time.Minute)) {
				v += 1.0 / 300
			}
		}
		return v
	})
	require.NoError(t, e.cloud.AddSamples(id, provider.MetricInvocations, samples...))
	require.NoError(t, e.cloud.TrackActivity(id, provider.ActivityAPICalls))
	for _, at := range invoked {
		require.NoError(t, e.cloud.RecordActivity(id, provider.ActivityAPICalls, at, 1))
	}
}

// TestUnusedFunctionTerminated: a function nobody invoked in 28 days is
// terminated end to end through the reaper with the built-in ensemble,
// which judges it on its invocations (a function has no CPU), once
// approved; one invoked 20 days ago is idle but kept, and so is one whose
// invocations the source does not have.
func TestUnusedFunctionTerminated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.addFunction(t, "fn-unused")
	e.addFunction(t, "fn-monthly", t0.Add(-20*24*time.Hour))
	require.NoError(t, e.cloud.Add(provider.Resource{ID: "fn-unread", Kind: provider.KindFunction, LaunchTime: t0.Add(-60 * 24 * time.Hour), HourlyCost: 0.01}))
	require.NoError(t, e.cloud.TrackActivity("fn-unread", provider.ActivityAPICalls))
	r := e.terminator(t)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)

	rec := record(t, rep, "fn-monthly")
	require.NotNil(t, rec.Verdict)
	assert.Equal(t, detector.Idle, rec.Verdict.State, "%v", rec.Verdict.Explain())
	assert.Equal(t, detector.ActionNone, rec.Verdict.Action, "%v", rec.Verdict.Explain())
	assert.Contains(t, fmt.Sprint(rec.Verdict.Explain()), "1 api_calls events in the activity window: terminate needs none")
	rec = record(t, rep, "fn-unread")
	require.NotNil(t, rec.Verdict)
	assert.Equal(t, detector.Unknown, rec.Verdict.State, "%v", rec.Verdict.Explain())
	assert.Contains(t, fmt.Sprint(rec.Verdict.Explain()), "no data for invocations")

	e.approvedTerminates(t, r, rep, "fn-unused")
}

// noFunctionDeletes is the memory cloud as an Actuator that, as the AWS
// driver, deletes no function (provider.TerminateChecker), and counts the
// Terminate calls that reach it.
type noFunctionDeletes struct {
	*memory.Cloud
	terminates atomic.Int32
}

func (a *noFunctionDeletes) CanTerminate(r provider.Resource) error {
	if r.Kind == provider.KindFunction {
		return fmt.Errorf("test: terminate %q: %w: no function is deleted", r.ID, provider.ErrUnsupported)
	}
	return nil
}

func (a *noFunctionDeletes) Terminate(ctx context.Context, id string) error {
	a.terminates.Add(1)
	return a.Cloud.Terminate(ctx, id)
}

// TestNoApprovalForATerminateTheDriverRefuses: an unused function whose
// driver deletes no function (the AWS driver's, by design) is skipped
// before the gate, saying so, and no approval is asked for: before, a
// person was asked to approve it, and the approved terminate then failed
// (ErrUnsupported, which releases the approval) at every run. A detached
// volume the same driver deletes is still asked for, and deleted once
// approved.
func TestNoApprovalForATerminateTheDriverRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.addFunction(t, "fn-unused")
	e.addVolume(t, "vol-1")
	act := &noFunctionDeletes{Cloud: e.cloud}
	fleet := e.fleet()
	fleet.Actuator = act
	r, err := reaper.New(reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionStop, detector.ActionTerminate}}, fleet, e.ensemble, e.engine,
		reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals), reaper.WithHistory(e.history))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "fn-unused")
	require.NotNil(t, rec.Verdict)
	assert.Equal(t, detector.ActionTerminate, rec.Verdict.Action, "%v", rec.Verdict.Explain())
	assert.Equal(t, reaper.OutcomeSkipped, rec.Outcome, rec.Reason)
	assert.Equal(t, `the provider does not terminate it: test: terminate "fn-unused": unsupported: no function is deleted`, rec.Reason)
	assert.Empty(t, rec.ApprovalID, "no approval asked for")
	e.approvedTerminates(t, r, rep, "vol-1")
	assert.Equal(t, int32(1), act.terminates.Load(), "the volume's terminate alone reached the driver")
}
