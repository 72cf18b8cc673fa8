package reaper_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

// stopsThenTimesOut is an Actuator whose Stop the cloud carries out but
// whose reply is lost: the caller gets an error that, by the provider
// contract, does not say that nothing changed.
type stopsThenTimesOut struct{ *memory.Cloud }

var errReplyLost = errors.New("stop: request timed out (the instance may have been stopped)")

func (s stopsThenTimesOut) Stop(ctx context.Context, id string) error {
	if err := s.Cloud.Stop(ctx, id); err != nil {
		return err
	}
	return errReplyLost
}

// A stop whose call fails without saying that nothing changed may have
// happened: it counts against the fleet's share limit at once (before, it
// was left out of the history, and one run stopped all four of a fleet
// whose limit is half of it an hour), and verification says whether it
// happened. Those that did are acted, with the call's error kept.
func TestAStopThatMayHaveHappenedCountsAgainstTheFleet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	tags := map[string]string{"fleet": "batch"}
	ids := []string{"i-1", "i-2", "i-3", "i-4"}
	for _, id := range ids {
		e.add(t, vm{id: id, cpu: 0.02, tags: tags})
	}
	fleet := e.fleet()
	fleet.Actuator = stopsThenTimesOut{e.cloud}
	r, err := reaper.New(reaper.Config{Execute: true, FleetTag: "fleet"}, fleet, e.ensemble, e.engine,
		reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals), reaper.WithHistory(e.history))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)

	stopped := 0
	for _, id := range ids {
		res, err := e.cloud.Get(t.Context(), id)
		require.NoError(t, err)
		rec := record(t, rep, id)
		if res.State == provider.StateRunning {
			assert.Equal(t, reaper.OutcomeBlocked, rec.Outcome, "%s: the fleet's share is spent", id)
			assert.Contains(t, rec.BlockedBy, "limits", id)
			continue
		}
		stopped++
		assert.Equal(t, reaper.OutcomeActed, rec.Outcome, id)
		assert.True(t, rec.Verified, id)
		assert.Equal(t, "stop verified (the provider's call failed, but the change happened)", rec.Reason, id)
		require.ErrorIs(t, rec.Err(), errReplyLost, "%s: the call's error is kept", id)
		assert.False(t, rec.ActedAt.IsZero(), id)
	}
	assert.Equal(t, 2, stopped, "the fleet-share limit (50%% of 4 an hour) holds")
	n, err := e.history.ActedOn(t.Context(), "batch", t0.Add(-time.Hour))
	require.NoError(t, err)
	assert.Equal(t, stopped, n, "every stop that happened is in the history")
	assert.Equal(t, 2, rep.Totals.Acted)
	assert.Equal(t, 2, rep.Totals.Blocked)
}

// approvingGate approves every proposal, as a host Gate might, whether or
// not an approval was presented.
type approvingGate struct{}

func (approvingGate) Check(_ context.Context, p safety.Proposal) (safety.Decision, error) {
	return safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now, Allowed: true, Approved: true,
		Outcome: safety.Pass}, nil
}

func (g approvingGate) Evaluate(ctx context.Context, p safety.Proposal) (safety.Decision, error) {
	return g.Check(ctx, p)
}

// A Gate that says approved when there is no approval to claim (no
// WithApprovals, or none presented) is refused, not acted on: nothing
// would record the approval's use. It panicked before.
func TestApprovedWithoutAnApprovalIsNotActedOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	for _, opts := range [][]reaper.Option{
		{reaper.WithClock(e.waitClock())},
		{reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals)},
	} {
		r, err := reaper.New(reaper.Config{Execute: true}, e.fleet(), e.ensemble, approvingGate{}, opts...)
		require.NoError(t, err)
		rep, err := e.run(t.Context(), t, r, t0)
		require.NoError(t, err)
		rec := record(t, rep, "i-1")
		assert.Equal(t, reaper.OutcomeFailed, rec.Outcome)
		assert.Equal(t, "approved without an approval to claim: not acting", rec.Reason)
		require.ErrorIs(t, rec.Err(), provider.ErrInvalid)
		var re *reaper.ResourceError
		require.ErrorAs(t, rec.Err(), &re)
		assert.Equal(t, reaper.StageApproval, re.Stage)
		assert.Empty(t, e.actions(), "nothing stopped")
	}
}

// cancelOnClaim ends the run's context right after a successful claim, as
// a host that shuts down between the claim and the stop.
type cancelOnClaim struct {
	reaper.Approvals
	cancel context.CancelFunc
}

func (c cancelOnClaim) Claim(ctx context.Context, id string, p safety.Proposal) (approval.Request, error) {
	req, err := c.Approvals.Claim(ctx, id, p)
	c.cancel()
	return req, err
}

// A run whose context ends after it claimed an approval does not act and
// gives the approval back, so that the next run acts on it; before, the
// approval was left executing (the release ran under the ended context)
// and the resource blocked until the approval expired.
func TestARunEndedAfterTheClaimGivesTheApprovalBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	id := approvedProd(t, e, e.reaper(t, reaper.Config{Execute: true}))

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := e.reaper(t, reaper.Config{Execute: true}, reaper.WithApprovals(cancelOnClaim{e.approvals, cancel}))
	rep, _ := e.run(ctx, t, r, t0.Add(10*time.Minute))
	rec := record(t, rep, "i-prod")
	assert.Equal(t, reaper.OutcomeFailed, rec.Outcome)
	assert.Equal(t, "the run ended before stop: not acted", rec.Reason)
	require.ErrorIs(t, rec.Err(), context.Canceled)
	assert.Empty(t, e.actions(), "nothing was stopped")
	req, err := e.approvals.Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, approval.Approved, req.State, "nothing changed: the claimed approval is given back")

	rep, err = e.run(t.Context(), t, e.reaper(t, reaper.Config{Execute: true}), t0.Add(20*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, reaper.OutcomeActed, record(t, rep, "i-prod").Outcome, "the next run acts on the approval")
}

// A nil *safety.MemoryHistory is no history, as a nil Reserver or
// Approvals is no Reserver or Approvals (it panicked after the stop was
// sent, leaving it unverified and unreported); a nil SizerFunc is no
// Sizer, which New refuses when downsize is allowed.
func TestNilHistoryAndSizerAreNone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	var h *safety.MemoryHistory
	r, err := reaper.New(reaper.Config{Execute: true}, e.fleet(), e.ensemble, e.engine, reaper.WithClock(e.waitClock()), reaper.WithHistory(h))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	assert.Equal(t, reaper.OutcomeActed, record(t, rep, "i-1").Outcome)

	_, err = reaper.New(reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionDownsize}}, e.fleet(), e.ensemble, e.engine,
		reaper.WithClock(e.waitClock()), reaper.WithSizer(reaper.SizerFunc(nil)))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "sizer", ie.Field)
}

// undecidedGate cannot decide: its policy service is down.
type undecidedGate struct{}

var errPolicyDown = errors.New("policy service unreachable")

func (undecidedGate) Check(_ context.Context, p safety.Proposal) (safety.Decision, error) {
	return safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now}, errPolicyDown
}

func (g undecidedGate) Evaluate(ctx context.Context, p safety.Proposal) (safety.Decision, error) {
	return g.Check(ctx, p)
}

// A host Gate that fails blocks, and its error is kept on the record and
// counted, as the package doc says of every error; before, only the
// safety engine's rule, input and audit failures were, and a host Gate's
// failure blocked without a trace. A plain refusal is no error.
func TestAHostGatesErrorIsKept(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	r, err := reaper.New(reaper.Config{Execute: true}, e.fleet(), e.ensemble, undecidedGate{}, reaper.WithClock(e.waitClock()))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-1")
	assert.Equal(t, reaper.OutcomeBlocked, rec.Outcome)
	assert.Empty(t, e.actions())
	assert.Equal(t, 1, rep.Totals.Errors)
	require.ErrorIs(t, rep.Err(), errPolicyDown)
	var re *reaper.ResourceError
	require.ErrorAs(t, rec.Err(), &re)
	assert.Equal(t, reaper.StageSafety, re.Stage)

	r, err = reaper.New(reaper.Config{Execute: true}, e.fleet(), e.ensemble, refusingGate{}, reaper.WithClock(e.waitClock()))
	require.NoError(t, err)
	rep, err = e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec = record(t, rep, "i-1")
	assert.Equal(t, reaper.OutcomeBlocked, rec.Outcome)
	assert.Equal(t, []string{"hours"}, rec.BlockedBy)
	assert.Zero(t, rep.Totals.Errors, "a refusal is no error")
	require.NoError(t, rep.Err())
}

// refusingGate refuses every proposal, as the safety engine does.
type refusingGate struct{}

func (refusingGate) Check(_ context.Context, p safety.Proposal) (safety.Decision, error) {
	d := safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now, Outcome: safety.Block,
		Blocking: []safety.Result{{Rule: "hours", Outcome: safety.Block, Reason: "outside the window"}}}
	return d, d.Err()
}

func (g refusingGate) Evaluate(ctx context.Context, p safety.Proposal) (safety.Decision, error) {
	return g.Check(ctx, p)
}

// reversed lists the fleet backwards.
type reversed struct{ *memory.Cloud }

func (r reversed) List(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	rs, err := r.Cloud.List(ctx, f)
	slices.Reverse(rs)
	return rs, err
}

// ObserveRecord receives the records in the order of Report.Records: the
// inventory's listing order.
func TestObserverReceivesRecordsInListingOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.6}, vm{id: "i-2", cpu: 0.6}, vm{id: "i-3", cpu: 0.6})
	fleet := e.fleet()
	fleet.Inventory = reversed{e.cloud}
	var got []string
	r, err := reaper.New(reaper.Config{}, fleet, e.ensemble, e.engine, reaper.WithClock(e.waitClock()),
		reaper.WithObserver(reaper.ObserverFuncs{Record: func(rec reaper.Record) { got = append(got, rec.ResourceID) }}))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	assert.Equal(t, []string{"i-3", "i-2", "i-1"}, got)
	var listed []string
	for _, rec := range rep.Records {
		listed = append(listed, rec.ResourceID)
	}
	assert.Equal(t, listed, got)
}

// An executing reaper with a fleet tag but no history recorded none of
// its stops, so the safety engine's fleet-share limit counted 0 acted on
// for every proposal and let a run stop all of a fleet. New now refuses
// that wiring, naming the history.
func TestExecutingWithFleetTagNeedsHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	_, err := reaper.New(reaper.Config{Execute: true, FleetTag: "fleet"}, e.fleet(), e.ensemble, e.engine,
		reaper.WithClock(e.waitClock()))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "history", ie.Field)
	assert.Contains(t, err.Error(), "WithHistory")
	_, err = reaper.New(reaper.Config{FleetTag: "fleet"}, e.fleet(), e.ensemble, e.engine, reaper.WithClock(e.waitClock()))
	require.NoError(t, err, "a dry run records nothing")
	_, err = reaper.New(reaper.Config{Execute: true, FleetTag: "fleet"}, e.fleet(), e.ensemble, e.engine,
		reaper.WithClock(e.waitClock()), reaper.WithHistory(e.history))
	require.NoError(t, err)
}

// A dry run is how a host decides whether to switch the reaper on, so it
// must report what an executing run would do. Gate.Evaluate records
// nothing, so the fleet-share limit saw 0 acted on for every proposal and
// the dry run reported all 4 of a fleet as would_act where an executing
// run stops 2 (TestFleetShareLimit). The dry run now counts its own
// would-act decisions against the fleet (Proposal.FleetPlanned), without
// writing the real history.
func TestDryRunCountsItsOwnWouldActAgainstTheFleetShare(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	tags := map[string]string{"fleet": "batch"}
	e.add(t, vm{id: "i-1", cpu: 0.02, tags: tags}, vm{id: "i-2", cpu: 0.02, tags: tags},
		vm{id: "i-3", cpu: 0.02, tags: tags}, vm{id: "i-4", cpu: 0.02, tags: tags},
		vm{id: "i-5", cpu: 0.02, tags: map[string]string{"fleet": "web"}}, vm{id: "i-6", cpu: 0.02}, vm{id: "i-7", cpu: 0.02})
	rep, err := e.run(t.Context(), t, e.reaper(t, reaper.Config{FleetTag: "fleet"}), t0)
	require.NoError(t, err)
	require.True(t, rep.DryRun)
	batch := map[reaper.Outcome]int{}
	for _, id := range []string{"i-1", "i-2", "i-3", "i-4"} {
		rec := record(t, rep, id)
		batch[rec.Outcome]++
		if rec.Outcome == reaper.OutcomeBlocked {
			assert.Equal(t, []string{"limits"}, rec.BlockedBy, id)
			require.NotNil(t, rec.Decision, id)
			require.Len(t, rec.Decision.Blocking, 1, id)
			assert.Contains(t, rec.Decision.Blocking[0].Reason, `fleet "batch": 2 of 4`, id)
			assert.Contains(t, rec.Decision.Blocking[0].Reason, "2 of them planned", id)
		}
	}
	assert.Equal(t, map[reaper.Outcome]int{reaper.OutcomeWouldAct: 2, reaper.OutcomeBlocked: 2}, batch,
		"as an executing run: half of the fleet")
	assert.Equal(t, reaper.OutcomeBlocked, record(t, rep, "i-5").Outcome, "a fleet of one: one stop is all of it")
	assert.Equal(t, reaper.OutcomeWouldAct, record(t, rep, "i-6").Outcome, "the untagged are a fleet of two: one may go")
	assert.Equal(t, reaper.OutcomeBlocked, record(t, rep, "i-7").Outcome, "the untagged are a fleet of two: not both")
	assert.Equal(t, 3, rep.Totals.WouldAct)
	n, err := e.history.ActedOn(t.Context(), "batch", t0.Add(-time.Hour))
	require.NoError(t, err)
	assert.Zero(t, n, "a dry run writes nothing to the real history")
	assert.Empty(t, e.actions())

	rep, err = e.run(t.Context(), t, e.reaper(t, reaper.Config{FleetTag: "fleet"}), t0.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Totals.WouldAct, "the next dry run starts afresh")
}
