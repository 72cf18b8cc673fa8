package reaper_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// TestReadErrorBlocksStop: an instance whose CPU is quiet but whose
// memory is at 90 % (a cache serving from RAM) is not stopped, and neither
// is it when its memory read fails (throttled): the read could have shown
// it at work. (A review found the failed read let the stop through: the
// metric is not required by the utilization signal.)
func TestReadErrorBlocksStop(t *testing.T) {
	t.Parallel()
	for _, failRead := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory read ok", true: "memory read fails"}[failRead], func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, memory.Config{})
			e.add(t, vm{id: "i-1", cpu: 0.02})
			var mem []provider.Sample
			for at := t0.Add(-15 * 24 * time.Hour); at.Before(t0); at = at.Add(5 * time.Minute) {
				mem = append(mem, provider.Sample{Time: at, Value: 0.9})
			}
			require.NoError(t, e.cloud.AddSamples("i-1", provider.MetricMemory, mem...))
			if failRead {
				// The 3rd metric query of i-1 is memory (cpu, disk_utilization, memory, ...).
				_, err := e.cloud.InjectFault(memory.Fault{Op: memory.OpQueryMetric, ResourceID: "i-1", Nth: 3, Throttle: true})
				require.NoError(t, err)
			}
			r := e.reaper(t, reaper.Config{Execute: true})
			rep, err := e.run(t.Context(), t, r, t0)
			require.NoError(t, err)
			rec := record(t, rep, "i-1")
			assert.Empty(t, e.actions(), "no stop: memory busy, or unread (%s)", rec)
			assert.NotEqual(t, reaper.OutcomeActed, rec.Outcome)
			if failRead {
				assert.Equal(t, reaper.OutcomeSkipped, rec.Outcome, rec.Reason)
				assert.Contains(t, strings.Join(rec.ErrorMessages, "\n"), "metric memory", "the failed read is memory's, and it is reported")
			}
		})
	}
}

// TestSlowRunJudgedWhenItActs: a run starting Monday 08:48:30, before the
// default business hours, whose scan takes a little under 12 minutes (a
// slow metrics source: 6 queries of 1m58s) does not stop its instance just
// after 09:00: the gate judges the proposal no earlier than it acts. (A
// review found it judged at the run's start; a second one, that whole
// minutes rounded down judged it at 08:59:30.)
func TestSlowRunJudgedWhenItActs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	// Monday 08:48:30 UTC, before the default Mon–Fri 09:00–18:00.
	mon := time.Date(2026, time.March, 9, 8, 48, 30, 0, time.UTC)
	e.clock.Set(mon)
	require.NoError(t, e.cloud.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance,
		LaunchTime: mon.Add(-30 * 24 * time.Hour), HourlyCost: 0.096, Size: provider.Size{InstanceType: "m5.large"}}))
	var s []provider.Sample
	for at := mon.Add(-15 * 24 * time.Hour); at.Before(mon); at = at.Add(5 * time.Minute) {
		s = append(s, provider.Sample{Time: at, Value: 0.02})
	}
	require.NoError(t, e.cloud.AddSamples("i-1", provider.MetricCPU, s...))
	require.NoError(t, e.cloud.AddBackup(provider.Backup{ID: "snap", ResourceID: "i-1", Time: mon.Add(-time.Hour), Complete: true, Verified: true}))
	// A slow metrics backend: 1m58s per query, 6 metrics: 11m48s.
	_, err := e.cloud.InjectFault(memory.Fault{Op: memory.OpQueryMetric, Latency: 118 * time.Second})
	require.NoError(t, err)
	r := e.reaper(t, reaper.Config{Execute: true})
	rep, err := e.run(t.Context(), t, r, mon)
	require.NoError(t, err)
	rec := record(t, rep, "i-1")
	for _, m := range e.actions() {
		assert.Less(t, m.Time.Hour(), 9, "stopped at %s, inside business hours", m.Time.Format("Mon 15:04"))
	}
	assert.Equal(t, reaper.OutcomeBlocked, rec.Outcome, rec.Reason)
}

// restartOnFirstQuery is the memory cloud as a metrics source that, on
// the first metric query (after RunOnce's listing), has a user stop and
// start i-1: a fresh launch, which the grace period protects.
type restartOnFirstQuery struct {
	Cloud *memory.Cloud
	clock interface {
		After(time.Duration) <-chan time.Time
	}
	done bool
}

func (r *restartOnFirstQuery) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	if !r.done {
		r.done = true
		if err := r.Cloud.Stop(ctx, "i-1"); err != nil {
			return provider.Series{}, err
		}
		<-r.clock.After(time.Second) // stopping (StopDelay), while the test moves the clock
		if err := r.Cloud.Start(ctx, "i-1"); err != nil {
			return provider.Series{}, err
		}
		<-r.clock.After(time.Second) // pending (StartDelay)
	}
	return r.Cloud.QueryMetric(ctx, q)
}

// TestRestartAfterListingNotStopped: an instance stopped and started by a
// user while the run reads its metrics has a new launch time, inside the
// grace period: the verdict made on the listed copy is not acted on. (A
// review found the re-read before acting compared only the state.)
func TestRestartAfterListingNotStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{StopDelay: time.Second, StartDelay: time.Second})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	src := &restartOnFirstQuery{Cloud: e.cloud, clock: e.waitClock()}
	fleet := e.fleet()
	fleet.Metrics = src
	r, err := reaper.New(reaper.Config{Execute: true}, fleet, e.ensemble, e.engine, reaper.WithClock(e.waitClock()))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-1")
	assert.Equal(t, reaper.OutcomeSkipped, rec.Outcome, "launched seconds ago: inside the 24h grace period")
	assert.Contains(t, rec.Reason, "changed since it was listed (launch_time)")
	stops := 0
	for _, m := range e.actions() {
		if m.Op == memory.OpStop {
			stops++
		}
	}
	assert.Equal(t, 1, stops, "the user's stop only: %+v", e.actions())
}

// TestDetectionErrorBlocksAnyDetector: a host's own detector that
// recommends a stop whatever its input is not followed for a resource
// whose reads failed during detection.
func TestDetectionErrorBlocksAnyDetector(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	e.add(t, vm{id: "i-2", cpu: 0.02})
	_, err := e.cloud.InjectFault(memory.Fault{Op: memory.OpQueryMetric, ResourceID: "i-1", Throttle: true})
	require.NoError(t, err)
	always := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Confidence: 1, Action: detector.ActionStop}, nil
	})
	r, err := reaper.New(reaper.Config{}, e.fleet(), always, e.engine, reaper.WithClock(e.waitClock()))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-1")
	assert.Equal(t, reaper.OutcomeSkipped, rec.Outcome)
	assert.Equal(t, "a read failed during detection: not acted on", rec.Reason)
	assert.NotEqual(t, reaper.OutcomeSkipped, record(t, rep, "i-2").Outcome, "the other one goes on to the gate")
}

// TestApprovalNotForAChangedResource: an approval given while the
// instance was merely production does not let it be stopped once its
// owner has marked it protected and critical: the request was for the
// resource as it was. (A review found the fingerprint, which leaves out
// labels, still matched.)
func TestApprovalNotForAChangedResource(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	r := e.reaper(t, reaper.Config{Execute: true})
	approvedProd(t, e, r)
	cur, err := e.cloud.Get(t.Context(), "i-prod")
	require.NoError(t, err)
	cur.Protected = true
	cur.Criticality = provider.CriticalityCritical
	require.NoError(t, e.cloud.Update(cur))
	rep, err := e.run(t.Context(), t, r, t0.Add(10*time.Minute))
	require.NoError(t, err)
	rec := record(t, rep, "i-prod")
	assert.NotEqual(t, reaper.OutcomeActed, rec.Outcome, rec.Reason)
	for _, m := range e.actions() {
		assert.NotEqual(t, memory.OpStop, m.Op, "nothing stopped: %+v", m)
	}
}

// TestSlowApprovedRunOneTime: a slow executing run claims, completes and
// records its approved stop at one time, the one the gate judged: the
// audit trail does not close the approval before it was claimed. (A
// review found the claim at the proposal's time and the rest at the run's
// start.)
func TestSlowApprovedRunOneTime(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	r := e.reaper(t, reaper.Config{Execute: true})
	id := approvedProd(t, e, r)
	_, err := e.cloud.InjectFault(memory.Fault{Op: memory.OpQueryMetric, Latency: 2 * time.Minute})
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0.Add(10*time.Minute))
	require.NoError(t, err)
	rec := record(t, rep, "i-prod")
	req, err := e.approvals.Get(t.Context(), id)
	require.NoError(t, err)
	require.False(t, req.ClaimedAt.IsZero(), "claimed: %s (%s)", rec.Outcome, rec.Reason)
	assert.False(t, req.ClosedAt.Before(req.ClaimedAt), "closed %s before claimed %s", req.ClosedAt, req.ClaimedAt)
}
