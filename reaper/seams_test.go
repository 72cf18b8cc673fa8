package reaper_test

import (
	"context"
	"fmt"
	"math"
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

// mixedUpBatcher is a host's metrics driver with a batching bug: it
// answers each read of a batch with the series of another resource (as a
// driver that pairs GetMetricData's results with its queries by position
// does when the results come back in another order). Every series it
// returns names the resource it belongs to, as every driver's does.
type mixedUpBatcher struct {
	*memory.Cloud
	swap map[string]string // resource ID → the one whose series answers it
}

func (b mixedUpBatcher) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	for i := range reads {
		q := reads[i].Query
		if other, ok := b.swap[q.ResourceID]; ok {
			q.ResourceID = other
		}
		reads[i].Series, reads[i].Err = b.QueryMetric(ctx, q)
	}
	return nil
}

// TestMixedUpBatchAnswerNotActedOn: a busy build agent (CPU at 60 %) and
// an idle instance are read through a host's batching driver that answers
// each one's reads with the other's series. The series say whose they
// are; a verdict made on another resource's series must not stop the
// busy machine: the read is inconsistent, named, and nothing is acted on.
// (A review found Scan took each answer for its read's resource: the busy
// agent was stopped on the idle one's data.)
func TestMixedUpBatchAnswerNotActedOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-busy", cpu: 0.6}, vm{id: "i-idle", cpu: 0.01})
	src := mixedUpBatcher{Cloud: e.cloud, swap: map[string]string{"i-busy": "i-idle", "i-idle": "i-busy"}}
	r, err := reaper.New(reaper.Config{Execute: true},
		reaper.Fleet{Inventory: e.cloud, Metrics: src, Actuator: e.cloud},
		e.ensemble, e.engine, reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals), reaper.WithHistory(e.history))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	assert.Empty(t, e.actions(), "nothing stopped on another resource's series")
	busy := record(t, rep, "i-busy")
	assert.NotEqual(t, reaper.OutcomeActed, busy.Outcome, busy.String())
	msgs := strings.Join(busy.ErrorMessages, "\n")
	assert.Contains(t, msgs, "i-idle", "the error names the resource the series was for")
	assert.Contains(t, msgs, "i-busy")
}

// TestLoginDuringTheRunNotStopped: a run over a slow metrics backend
// (1m58s a query: its scan takes about 12 minutes) judges an instance
// idle on the activity before the run's now; 5 minutes into the run a
// user logs in to it. The reaper does not stop it 7 minutes after the
// login: the activity since the verdict's now is read again with the
// resource, just before the gate, and the record says why. (A review
// found the stop went through: only the inventory was read again.)
func TestLoginDuringTheRunNotStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	require.NoError(t, e.cloud.TrackActivity("i-1", provider.ActivityLogins))
	require.NoError(t, e.cloud.RecordActivity("i-1", provider.ActivityLogins, t0.Add(5*time.Minute), 1))
	_, err := e.cloud.InjectFault(memory.Fault{Op: memory.OpQueryMetric, Latency: 118 * time.Second})
	require.NoError(t, err)
	r := e.reaper(t, reaper.Config{Execute: true})
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-1")
	require.NotNil(t, rec.Verdict)
	require.Equal(t, detector.ActionStop, rec.Verdict.Action, "idle and quiet at the run's now: %v", rec.Verdict.Explain())
	assert.Empty(t, e.actions(), "not stopped after the login")
	assert.Equal(t, reaper.OutcomeSkipped, rec.Outcome, rec.Reason)
	assert.Contains(t, rec.Reason, "logins")
}

// TestActivityReReadFailsClosed: when the activity read again just before
// the gate fails (throttled), the instance is not stopped: the read could
// have shown a login during the run. The record names the stage.
func TestActivityReReadFailsClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	require.NoError(t, e.cloud.TrackActivity("i-1", provider.ActivityLogins))
	_, err := e.cloud.InjectFault(memory.Fault{Op: memory.OpQueryMetric, Latency: 118 * time.Second})
	require.NoError(t, err)
	_, err = e.cloud.InjectFault(memory.Fault{Op: memory.OpActivity, ResourceID: "i-1", Nth: 2, Throttle: true})
	require.NoError(t, err)
	r := e.reaper(t, reaper.Config{Execute: true})
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-1")
	require.NotNil(t, rec.Verdict)
	require.Equal(t, detector.ActionStop, rec.Verdict.Action, "the scan's read succeeded: %v", rec.Verdict.Explain())
	assert.Empty(t, e.actions(), "not stopped on a failed read")
	assert.Equal(t, reaper.OutcomeFailed, rec.Outcome, rec.Reason)
	require.Error(t, rep.Err())
	require.ErrorIs(t, rep.Err(), provider.ErrThrottled)
	// Reading activity is the detect stage (see Stage), not the
	// inventory's: a host that counts inventory failures is not told its
	// inventory failed.
	var re *reaper.ResourceError
	require.ErrorAs(t, rec.Err(), &re)
	assert.Equal(t, reaper.StageDetect, re.Stage)
}

// TestDownsizeApprovalSaysNotIdle: a production instance at 25 % CPU,
// recommended a smaller size on a confident not-idle verdict, goes to a
// human for approval (critical workload). The request's proposal and its
// reason say what the detector found, not idle: the approver reads a true
// source.
// (A review found every proposal's source said "detector: idle".)
func TestDownsizeApprovalSaysNotIdle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-prod", cpu: 0.25, itype: "m5.xlarge", env: "production"})
	sizer := reaper.SizerFunc(func(context.Context, provider.Resource) (provider.Size, error) {
		return provider.Size{InstanceType: "m5.large"}, nil
	})
	r := e.reaper(t, reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionDownsize}}, reaper.WithSizer(sizer))
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-prod")
	require.NotNil(t, rec.Verdict)
	require.Equal(t, detector.NotIdle, rec.Verdict.State)
	require.Equal(t, reaper.OutcomeNeedsApproval, rec.Outcome, rec.String())
	req, err := e.approvals.Get(t.Context(), rec.ApprovalID)
	require.NoError(t, err)
	assert.NotContains(t, req.Proposal.Source, ": idle,", "the verdict was not idle")
	assert.Contains(t, req.Proposal.Source, "not_idle")
	// The request's reason, which the approver reads first, says so too:
	// it said "idle: approval required: ..." of a machine at 25 % CPU.
	assert.NotContains(t, req.Reason, "; idle: ", "the verdict was not idle")
	assert.Contains(t, req.Reason, "; not_idle: approval required: critical")
}

// TestJobHiddenInRecurringGapsNotStopped: a build machine runs a job
// every night from 02:00 to 02:30, during which its metrics agent,
// starved, reports nothing; the rest of the day it idles at 1 % CPU. Its
// data covers 98 % of the fortnight and every hour of the week holds some
// data, all idle, but half of every 02:00 hour has never been seen: that
// is no evidence that the hour is idle, and the machine is not stopped.
// The reasons name the hours. (A review found it stopped, with "the week
// is 100% idle".)
func TestJobHiddenInRecurringGapsNotStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	require.NoError(t, e.cloud.Add(provider.Resource{ID: "i-build", Kind: provider.KindInstance, LaunchTime: t0.Add(-60 * 24 * time.Hour),
		HourlyCost: 0.096, Size: provider.Size{InstanceType: "m5.large"}}))
	cpu := last29Days(func(at time.Time) float64 {
		if at.Hour() == 2 && at.Minute() < 30 {
			return math.NaN() // the job: the agent reports nothing
		}
		return 0.01
	})
	require.NoError(t, e.cloud.AddSamples("i-build", provider.MetricCPU, cpu...))
	require.NoError(t, e.cloud.AddBackup(provider.Backup{ID: "snap", ResourceID: "i-build", Time: t0.Add(-time.Hour), Complete: true, Verified: true}))
	r := e.reaper(t, reaper.Config{Execute: true})
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-build")
	require.NotNil(t, rec.Verdict)
	assert.Empty(t, e.actions(), "not stopped: %v", rec.Verdict.Explain())
	assert.Equal(t, detector.ActionNone, rec.Verdict.Action)
	// Saturday's 02:00 hour just before now is the data's last hour (an
	// edge, counted as thin: its missing steps are not told from a gap):
	// every night names the job's hour.
	assert.Contains(t, strings.Join(rec.Verdict.Explain(), "\n"), "7 hours of the week lacked cpu data for more than 10% of their steps every week (Mon–Sun 02:00–03:00)", "the reasons name the hours seen only in part")
}

// TestBusySignalVetoesStop: a host adds its own signal to the ensemble, a
// GPU utilization read from its own source, weighed 0.1. A training
// machine runs on its GPU at 97 % while its CPU idles at 1 % and nobody
// logs in: utilization, activity and the hours vote idle, the GPU votes
// not idle. The majority makes the verdict idle with a confidence of
// 0.89, but a machine a signal measures at work is not stopped: the stop
// needs no signal voting not idle, and the reasons say which did. (A
// review found it stopped: only the utilization signal could veto.)
func TestBusySignalVetoesStop(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-train", cpu: 0.01})
	require.NoError(t, e.cloud.TrackActivity("i-train", provider.ActivityLogins))
	gpu := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.NotIdle, Score: 0.03,
			Reasons: []detector.Reason{{Signal: "gpu", Code: "gpu_busy", Value: 0.97}}}, nil
	})
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithSignal("gpu", 0.1, gpu))
	require.NoError(t, err)
	r, err := reaper.New(reaper.Config{Execute: true}, e.fleet(), ens, e.engine,
		reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals), reaper.WithHistory(e.history))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-train")
	require.NotNil(t, rec.Verdict)
	assert.Empty(t, e.actions(), "the GPU is busy: %v", rec.Verdict.Explain())
	assert.Equal(t, detector.ActionNone, rec.Verdict.Action)
	assert.Contains(t, strings.Join(rec.Verdict.Explain(), "\n"), "gpu: votes not idle")
}

// stopOnErrorBatcher is a host's batching driver that sends its reads in
// calls of chunk and returns at the first call that fails (throttled),
// leaving the later reads unanswered, against the batch contract (every
// read it did not answer carries the call's error).
type stopOnErrorBatcher struct {
	*memory.Cloud
	chunk, failAt int // reads[failAt:] fail
}

func (b stopOnErrorBatcher) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	for i := range reads {
		if i >= b.failAt {
			return fmt.Errorf("host driver: call %d: %w", i/b.chunk, provider.ErrThrottled)
		}
		reads[i].Series, reads[i].Err = b.QueryMetric(ctx, reads[i].Query)
	}
	return nil
}

// TestUnansweredBatchReadIsAnError: a proxy at 2 % CPU moving 5 MB/s is
// read through a host's batcher that leaves its later reads unanswered
// when a call is throttled. An unanswered read is a failed read, not a
// metric without data: the proxy's traffic, left out, would let it be
// stopped on its CPU alone. (A review found Scan took the empty answers
// for "no data" and the proxy was stopped.)
func TestUnansweredBatchReadIsAnError(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-proxy", cpu: 0.02})
	net := last29Days(func(time.Time) float64 { return 5e6 })
	require.NoError(t, e.cloud.AddSamples("i-proxy", provider.MetricNetworkIn, net...))
	require.NoError(t, e.cloud.AddSamples("i-proxy", provider.MetricNetworkOut, net...))
	src := stopOnErrorBatcher{Cloud: e.cloud, chunk: 4, failAt: 4} // cpu, disk_utilization, memory, network_utilization answered
	r, err := reaper.New(reaper.Config{Execute: true},
		reaper.Fleet{Inventory: e.cloud, Metrics: src, Actuator: e.cloud},
		e.ensemble, e.engine, reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals), reaper.WithHistory(e.history))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-proxy")
	assert.Empty(t, e.actions(), "not stopped on its CPU alone")
	assert.NotEqual(t, reaper.OutcomeActed, rec.Outcome, rec.String())
	require.Error(t, rep.Err())
	assert.ErrorIs(t, rep.Err(), provider.ErrThrottled, "the call's error reaches the unanswered reads")
}
