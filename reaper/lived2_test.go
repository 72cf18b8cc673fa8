package reaper_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/internal/syncbuf"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
)

// A dry run counts the actions it would take against MaxActions, as a
// real run counts those it takes: the rest are deferred.
func TestDryRunHonoursMaxActions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02}, vm{id: "i-2", cpu: 0.02}, vm{id: "i-3", cpu: 0.02})
	rep, err := e.run(t.Context(), t, e.reaper(t, reaper.Config{MaxActions: 2}), t0)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Totals.WouldAct)
	assert.Equal(t, 1, rep.Totals.Deferred)
	assert.Empty(t, e.actions())
}

// A Sizer whose size is not valid for the resource fails the record at the
// size stage, before the gate or the cloud see it.
func TestDownsizeToAnInvalidSize(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-low", cpu: 0.25, itype: "m5.xlarge"})
	sizer := reaper.SizerFunc(func(context.Context, provider.Resource) (provider.Size, error) {
		return provider.Size{InstanceType: "m5.large", VCPU: math.NaN()}, nil
	})
	r := e.reaper(t, reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionDownsize}}, reaper.WithSizer(sizer))
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-low")
	assert.Equal(t, reaper.OutcomeFailed, rec.Outcome)
	require.ErrorIs(t, rec.Err(), provider.ErrInvalid)
	var re *reaper.ResourceError
	require.ErrorAs(t, rec.Err(), &re)
	assert.Equal(t, reaper.StageSize, re.Stage)
	assert.Nil(t, rec.Decision, "the gate never saw it")
	assert.Empty(t, e.actions())
}

// cancelGate allows everything, but ends the run's context while it
// decides.
type cancelGate struct{ cancel context.CancelFunc }

func (g cancelGate) Check(ctx context.Context, p safety.Proposal) (safety.Decision, error) {
	return g.Evaluate(ctx, p)
}

func (g cancelGate) Evaluate(_ context.Context, p safety.Proposal) (safety.Decision, error) {
	g.cancel()
	return safety.Decision{ProposalID: p.ID, ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now, Allowed: true, Outcome: safety.Pass, Risk: safety.RiskLow}, nil
}

// A dry run whose context ends while the gate decides does not report
// that it would act on the gate's word: the decision may be incomplete.
func TestDryRunGateInterrupted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r, err := reaper.New(reaper.Config{}, e.fleet(), e.ensemble, cancelGate{cancel}, reaper.WithClock(e.waitClock()))
	require.NoError(t, err)
	rep, err := r.RunOnce(ctx, t0)
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, rep.Totals.WouldAct)
	if rec, ok := rep.Record("i-1"); ok {
		assert.NotEqual(t, reaper.OutcomeWouldAct, rec.Outcome)
	}
}

// Run logs a failed run as an error with its cause and a finished one as
// information, in order.
func TestRunLogsEachRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	_, err := e.cloud.InjectFault(memory.Fault{Op: memory.OpList, Err: fmt.Errorf("inventory down"), Nth: 1})
	require.NoError(t, err)
	var logs syncbuf.Buffer
	runs := make(chan struct{}, 10)
	r := e.reaper(t, reaper.Config{Interval: 30 * time.Minute},
		reaper.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		reaper.WithObserver(reaper.ObserverFuncs{Report: func(reaper.Report, error) { runs <- struct{}{} }}))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	<-runs
	waitFor(t, func() bool {
		e.clock.Add(time.Minute)
		return len(runs) > 0
	})
	<-runs
	waitFor(t, func() bool { return strings.Count(logs.String(), "\n") >= 2 })
	cancel()
	require.NoError(t, <-done)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.GreaterOrEqual(t, len(lines), 2, logs.String())
	assert.Contains(t, lines[0], "level=ERROR")
	assert.Contains(t, lines[0], "reaper: run failed")
	assert.Contains(t, lines[0], "inventory down")
	assert.Contains(t, lines[1], "level=INFO")
	assert.Contains(t, lines[1], "reaper: run done")
	assert.Contains(t, lines[1], "would_act=1")
}

// vanishing is the memory cloud whose resources are no longer found once
// stopped or terminated (as a cloud forgets terminated instances).
type vanishing struct{ *memory.Cloud }

func (v vanishing) gone(ctx context.Context, id string, act func(context.Context, string) error) error {
	if err := act(ctx, id); err != nil {
		return err
	}
	_, err := v.InjectFault(memory.Fault{Op: memory.OpGet, ResourceID: id, Err: fmt.Errorf("%s: %w", id, provider.ErrNotFound)})
	return err
}

func (v vanishing) Stop(ctx context.Context, id string) error {
	return v.gone(ctx, id, v.Cloud.Stop)
}

func (v vanishing) Terminate(ctx context.Context, id string) error {
	return v.gone(ctx, id, v.Cloud.Terminate)
}

// allowGate allows everything.
type allowGate struct{}

func (allowGate) Check(ctx context.Context, p safety.Proposal) (safety.Decision, error) {
	return allowGate{}.Evaluate(ctx, p)
}

func (allowGate) Evaluate(_ context.Context, p safety.Proposal) (safety.Decision, error) {
	return safety.Decision{ProposalID: p.ID, ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now, Allowed: true, Outcome: safety.Pass, Risk: safety.RiskLow}, nil
}

// A terminated resource that is no longer found has reached its target
// state; a stopped one that is no longer found has not (its stop is not
// verified: a stop must leave the instance there).
func TestVerifyResourceNoLongerFound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		action  detector.Action
		outcome reaper.Outcome
	}{
		{detector.ActionTerminate, reaper.OutcomeActed},
		{detector.ActionStop, reaper.OutcomeUnverified},
	} {
		t.Run(string(tc.action), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, memory.Config{})
			e.add(t, vm{id: "i-1", cpu: 0.02})
			det := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
				return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Confidence: 0.95, Action: tc.action, MonthlySavings: 70}, nil
			})
			fleet := e.fleet()
			fleet.Actuator = vanishing{e.cloud}
			r, err := reaper.New(reaper.Config{Execute: true, Actions: []detector.Action{tc.action}, VerifyTimeout: time.Minute, VerifyInterval: 10 * time.Second},
				fleet, det, allowGate{}, reaper.WithClock(e.waitClock()))
			require.NoError(t, err)
			rep, err := e.run(t.Context(), t, r, t0)
			require.NoError(t, err)
			rec := record(t, rep, "i-1")
			assert.Equal(t, tc.outcome, rec.Outcome, rec.String())
			if tc.outcome == reaper.OutcomeActed {
				assert.True(t, rec.Verified)
				assert.Equal(t, provider.StateTerminated, rec.FinalState)
				return
			}
			assert.False(t, rec.Verified)
			require.ErrorIs(t, rec.Err(), reaper.ErrNotVerified)
		})
	}
}
