package reaper_test

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety/approval"
)

// TestVerdictSavingsNotANumber: a host's detector that gives an idle
// instance a saving that is not a finite number (NaN from 0/0, an
// infinity, or a negative one: acting would cost) fails that resource
// at detection, with an error naming the resource and the field, and
// nothing is done to it; the other resources go on, and the report
// still marshals to JSON with its totals sound. (Before, the run acted,
// or would have, and json.Marshal of the report failed with
// "unsupported value: NaN"; a negative saving was subtracted from the
// totals.)
func TestVerdictSavingsNotANumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give float64
	}{
		{name: "NaN", give: math.NaN()},
		{name: "+Inf", give: math.Inf(1)},
		{name: "-Inf", give: math.Inf(-1)},
		{name: "negative", give: -70},
	}
	for _, tt := range tests {
		for _, execute := range []bool{false, true} {
			t.Run(tt.name+map[bool]string{false: " dry run", true: " executing"}[execute], func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, memory.Config{})
				e.add(t, vm{id: "i-bad", cpu: 0.02}, vm{id: "i-ok", cpu: 0.02})
				det := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
					savings := 70.0
					if in.Resource.ID == "i-bad" {
						savings = tt.give
					}
					return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Score: 0.95, Confidence: 0.95,
						Action: detector.ActionStop, MonthlySavings: savings}, nil
				})
				r, err := reaper.New(reaper.Config{Execute: execute}, e.fleet(), det, e.engine,
					reaper.WithClock(e.waitClock()), reaper.WithHistory(e.history))
				require.NoError(t, err)
				rep, err := e.run(t.Context(), t, r, t0)
				require.NoError(t, err)

				bad := record(t, rep, "i-bad")
				assert.Equal(t, reaper.OutcomeFailed, bad.Outcome, bad.String())
				require.ErrorIs(t, bad.Err(), provider.ErrInvalid)
				var re *reaper.ResourceError
				require.ErrorAs(t, bad.Err(), &re)
				assert.Equal(t, "i-bad", re.ResourceID)
				assert.Equal(t, reaper.StageDetect, re.Stage)
				var ie *provider.InvalidError
				require.ErrorAs(t, bad.Err(), &ie)
				assert.Equal(t, "verdict.monthly_savings", ie.Field)
				assert.Zero(t, bad.MonthlySavings)

				ok := record(t, rep, "i-ok")
				want := reaper.OutcomeWouldAct
				if execute {
					want = reaper.OutcomeActed
				}
				assert.Equal(t, want, ok.Outcome, ok.String())
				if execute {
					require.Len(t, e.actions(), 1, "i-ok alone is stopped")
					assert.Equal(t, "i-ok", e.actions()[0].ResourceID)
				}
				assert.InDelta(t, 70, rep.Totals.EstimatedMonthlySavings, 1e-9)
				assert.Equal(t, 1, rep.Totals.Failed)

				assert.Contains(t, bad.Reason, "verdict is unusable")
				b, err := json.Marshal(rep)
				require.NoError(t, err, "the report marshals")
				var back struct {
					Totals struct {
						Estimated float64 `json:"estimated_monthly_savings"`
					} `json:"totals"`
				}
				require.NoError(t, json.Unmarshal(b, &back))
				assert.InDelta(t, 70, back.Totals.Estimated, 1e-9)
			})
		}
	}
}

// auditedReserver is a host's rate limit: a *ratelimit.Limiter whose
// every reservation is then written to an audit trail that fails, so
// that ReserveAt returns the limiter's granted reservation together with
// the audit's error.
type auditedReserver struct {
	*ratelimit.Limiter
	audit error
}

func (r auditedReserver) ReserveAt(ctx context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
	got, err := r.Limiter.ReserveAt(ctx, now, req)
	if err != nil {
		return got, err
	}
	return got, fmt.Errorf("audit the reservation: %w", r.audit)
}

// TestReservationWithErrorIsRefunded: a Reserver that returns a granted
// reservation with an error (the budget reserved, then a later step of
// the host's failed) fails the resource at StageRateLimit, is not acted
// on, and the reservation is refunded: the limiter counts no event for
// it. (Before, the budget stayed spent for an action that was never
// taken: with a budget of one stop an hour, one failing audit kept the
// fleet from being reaped for the hour.)
func TestReservationWithErrorIsRefunded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	lim, err := ratelimit.New(ratelimit.Config{Global: ratelimit.Budget{Events: 1, Window: time.Hour}})
	require.NoError(t, err)
	sink := errors.New("audit sink down")
	r := e.reaper(t, reaper.Config{Execute: true}, reaper.WithReserver(auditedReserver{Limiter: lim, audit: sink}))
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-1")
	assert.Equal(t, reaper.OutcomeFailed, rec.Outcome, rec.String())
	require.ErrorIs(t, rec.Err(), sink)
	var re *reaper.ResourceError
	require.ErrorAs(t, rec.Err(), &re)
	assert.Equal(t, reaper.StageRateLimit, re.Stage)
	assert.Empty(t, e.actions(), "not stopped")
	require.NotNil(t, rec.RateLimit)

	require.True(t, rec.RateLimit.OK(), "the limiter granted it: %s", rec.RateLimit)

	// The global budget is one event an hour: another resource's stop at
	// the same time is allowed only if the first was refunded.
	next, err := lim.ReserveAt(t.Context(), rec.RateLimit.At, ratelimit.Request{Target: "i-2", Direction: ratelimit.Down, Units: 1})
	require.NoError(t, err)
	assert.True(t, next.OK(), "the reservation returned with the error was refunded: %s", next)
}

// instanceStops is the memory cloud as an Actuator that, as the AWS
// driver, stops nothing but instances (a volume's state follows its
// attachment; a function or load balancer has nothing to stop): its
// Stop refuses the rest with provider.ErrUnsupported, CanStop says so
// from the resource alone, and it counts the Stop calls that reach it.
type instanceStops struct {
	*memory.Cloud
	stops atomic.Int32
}

func (a *instanceStops) CanStop(r provider.Resource) error {
	if r.Kind != provider.KindInstance {
		return fmt.Errorf("test: stop %q: %w: a %s is not stopped", r.ID, provider.ErrUnsupported, r.Kind)
	}
	return nil
}

func (a *instanceStops) Stop(ctx context.Context, id string) error {
	a.stops.Add(1)
	r, err := a.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := a.CanStop(r); err != nil {
		return err
	}
	return a.Cloud.Stop(ctx, id)
}

// TestNoApprovalForAStopTheDriverRefuses: a host's detector recommends
// stopping everything idle, among them a production volume attached to
// an instance (running). The driver stops no volume (CanStop,
// provider.StopChecker), so the volume is skipped before the gate,
// saying so, and no one is asked to approve it; the production instance
// beside it is still asked for, and stopped once approved. (Before, an
// approval was requested for the volume; once a person approved it, the
// stop failed with ErrUnsupported, which releases the approval, at every
// run.)
func TestNoApprovalForAStopTheDriverRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-prod", cpu: 0.02, env: "production"})
	require.NoError(t, e.cloud.Add(provider.Resource{ID: "vol-prod", Kind: provider.KindVolume, State: provider.StateRunning,
		Environment: "production", LaunchTime: t0.Add(-60 * 24 * time.Hour), HourlyCost: 0.05}))
	require.NoError(t, e.cloud.AddBackup(provider.Backup{ID: "snap-vol", ResourceID: "vol-prod", Time: t0.Add(-time.Hour), Complete: true, Verified: true}))
	det := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Score: 0.95, Confidence: 0.95,
			Action: detector.ActionStop, MonthlySavings: 10}, nil
	})
	act := &instanceStops{Cloud: e.cloud}
	fleet := e.fleet()
	fleet.Actuator = act
	r, err := reaper.New(reaper.Config{Execute: true}, fleet, det, e.engine,
		reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals), reaper.WithHistory(e.history))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)

	vol := record(t, rep, "vol-prod")
	assert.Equal(t, reaper.OutcomeSkipped, vol.Outcome, vol.String())
	assert.Equal(t, `the provider does not stop it: test: stop "vol-prod": unsupported: a volume is not stopped`, vol.Reason)
	assert.Empty(t, vol.ApprovalID, "no approval asked for")
	assert.Nil(t, vol.Decision, "the gate was not asked")
	reqs, err := e.approvals.List(t.Context(), approval.Filter{ResourceID: "vol-prod"})
	require.NoError(t, err)
	assert.Empty(t, reqs, "no approval request for the volume")

	inst := record(t, rep, "i-prod")
	require.Equal(t, reaper.OutcomeNeedsApproval, inst.Outcome, inst.String())
	_, err = e.approvals.Approve(t.Context(), inst.ApprovalID, "alice", t0.Add(time.Minute), "")
	require.NoError(t, err)
	rep, err = e.run(t.Context(), t, r, e.clock.Now().Add(5*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, reaper.OutcomeActed, record(t, rep, "i-prod").Outcome)
	assert.Equal(t, reaper.OutcomeSkipped, record(t, rep, "vol-prod").Outcome)
	assert.Equal(t, int32(1), act.stops.Load(), "the instance's stop alone reached the driver")
}

// TestVerdictFiguresOutOfRange: a host's detector whose verdict has a
// confidence outside [0, 1] (an infinity from a division by zero, 1.5)
// or not a number, or a figure JSON cannot hold (a NaN score or signal,
// an infinite reason value or statistic, a NaN schedule share) fails its
// resource at detection with an error naming the field, and nothing is
// done to it; the report marshals. (Before, a confidence of +Inf or 1.5
// passed every minimum and the instance was stopped, and the other
// figures made json.Marshal of the report fail.)
func TestVerdictFiguresOutOfRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		give  func(v *detector.Verdict)
		field string
	}{
		{name: "confidence +Inf", give: func(v *detector.Verdict) { v.Confidence = math.Inf(1) }, field: "verdict.confidence"},
		{name: "confidence above 1", give: func(v *detector.Verdict) { v.Confidence = 1.5 }, field: "verdict.confidence"},
		{name: "confidence NaN", give: func(v *detector.Verdict) { v.Confidence = math.NaN() }, field: "verdict.confidence"},
		{name: "confidence negative", give: func(v *detector.Verdict) { v.Confidence = -0.5 }, field: "verdict.confidence"},
		{name: "score NaN", give: func(v *detector.Verdict) { v.Score = math.NaN() }, field: "verdict.score"},
		{name: "signal NaN", give: func(v *detector.Verdict) {
			v.Signals = []detector.Contribution{{Signal: "cost", State: detector.Idle, Score: 1, Weight: math.NaN(), Value: math.NaN()}}
		}, field: "verdict.signals[0].weight"},
		{name: "reason value +Inf", give: func(v *detector.Verdict) {
			v.Reasons = []detector.Reason{{Signal: "evidence", Code: detector.ReasonQuiet}, {Signal: "cost", Code: detector.ReasonRule, Value: math.Inf(1)}}
		}, field: "verdict.reasons[1].value"},
		{name: "reason statistic -Inf", give: func(v *detector.Verdict) {
			v.Reasons = []detector.Reason{{Signal: "evidence", Code: detector.ReasonEvidence, Metric: provider.MetricCPU, Stats: detector.Stats{Mean: math.Inf(-1)}}}
		}, field: "verdict.reasons[0].stats.mean"},
		{name: "schedule share NaN", give: func(v *detector.Verdict) {
			v.Schedule = &detector.OffHours{TimeZone: "UTC", SavedShare: math.NaN()}
		}, field: "verdict.schedule.saved_share"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, memory.Config{})
			e.add(t, vm{id: "i-1", cpu: 0.02})
			det := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
				v := detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Score: 0.95, Confidence: 0.95,
					Action: detector.ActionStop, MonthlySavings: 70}
				tt.give(&v)
				return v, nil
			})
			r, err := reaper.New(reaper.Config{Execute: true}, e.fleet(), det, e.engine,
				reaper.WithClock(e.waitClock()), reaper.WithHistory(e.history))
			require.NoError(t, err)
			rep, err := e.run(t.Context(), t, r, t0)
			require.NoError(t, err)
			rec := record(t, rep, "i-1")
			assert.Empty(t, e.actions(), "not stopped: %s", rec)
			assert.Equal(t, reaper.OutcomeFailed, rec.Outcome, rec.String())
			failedNaming(t, rec, reaper.StageDetect, tt.field)
			_, err = json.Marshal(rep)
			require.NoError(t, err, "the report marshals")
		})
	}
}

// TestSelectConfidenceOutOfRange: Select passes over a verdict whose
// confidence is outside [0, 1], as over one that is not a number: an
// infinite confidence is no evidence. (Before, +Inf and 1.5 passed every
// minimum.)
func TestSelectConfidenceOutOfRange(t *testing.T) {
	t.Parallel()
	for _, conf := range []float64{math.Inf(1), 1.5, math.Nextafter(1, 2)} {
		v := detector.Verdict{ResourceID: "i-1", State: detector.Idle, Action: detector.ActionStop, Confidence: conf}
		got, err := reaper.Select(reaper.Config{}, v)
		require.NoError(t, err)
		assert.Empty(t, got.Action, "confidence %v", conf)
		assert.Contains(t, got.Skip, "outside [0, 1]", "confidence %v", conf)
	}
}

// grantingNothing is a host's rate limit that answers every request with
// a granted reservation of no unit (Clamped to 0, as a limiter whose
// per-event maximum is 0 would), and logs the refunds.
type grantingNothing struct {
	cancelled atomic.Int32
}

func (g *grantingNothing) ReserveAt(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
	return ratelimit.Reservation{ID: 7, Request: req, At: now, Outcome: ratelimit.Clamped, Granted: 0,
		Reason: ratelimit.ReasonUnits, Scope: ratelimit.ScopeTarget}, nil
}

func (g *grantingNothing) CancelAt(context.Context, time.Time, ratelimit.Reservation) error {
	g.cancelled.Add(1)
	return nil
}

// TestReservationOfNoUnitIsNotActedOn: a reservation that is granted but
// grants no unit (Clamped to 0) does not allow the one resource a stop
// changes: the resource fails at StageRateLimit with an error naming the
// granted units, is not stopped, and the reservation is refunded.
// (Before, OK was enough: the instance was stopped on a grant of 0.)
func TestReservationOfNoUnitIsNotActedOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	rs := &grantingNothing{}
	r := e.reaper(t, reaper.Config{Execute: true}, reaper.WithReserver(rs))
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-1")
	assert.Empty(t, e.actions(), "not stopped: %s", rec)
	assert.Equal(t, reaper.OutcomeFailed, rec.Outcome, rec.String())
	failedNaming(t, rec, reaper.StageRateLimit, "reservation.granted")
	assert.Equal(t, int32(1), rs.cancelled.Load(), "the reservation was refunded")
}

// TestDownsizeThatGrowsNotActed: a host's Sizer that answers an
// m5.xlarge (4 vCPU, 16 GiB) with a size of more vCPUs or memory (a
// catalogue read the wrong way round) is no downsize: the record fails
// at StageSize with an error naming the field that grows, the gate never
// sees it, and nothing is resized. (Before, the reaper resized it up,
// reserving a Down event and reporting the verdict's saving realised.)
func TestDownsizeThatGrowsNotActed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		give  provider.Size
		field string
	}{
		{name: "a larger type", give: provider.Size{InstanceType: "m5.2xlarge", VCPU: 8, MemoryMiB: 32768}, field: "vcpu"},
		{name: "more memory", give: provider.Size{VCPU: 2, MemoryMiB: 65536}, field: "memory_mib"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, memory.Config{})
			e.add(t, vm{id: "i-low", cpu: 0.25, itype: "m5.xlarge"})
			sizer := reaper.SizerFunc(func(context.Context, provider.Resource) (provider.Size, error) { return tt.give, nil })
			r := e.reaper(t, reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionDownsize}}, reaper.WithSizer(sizer))
			rep, err := e.run(t.Context(), t, r, t0)
			require.NoError(t, err)
			rec := record(t, rep, "i-low")
			require.NotNil(t, rec.Verdict)
			require.Equal(t, detector.ActionDownsize, rec.Verdict.Action, "%v", rec.Verdict.Explain())
			assert.Empty(t, e.actions(), "not resized: %s", rec)
			assert.Equal(t, reaper.OutcomeFailed, rec.Outcome, rec.String())
			failedNaming(t, rec, reaper.StageSize, tt.field)
			assert.Nil(t, rec.Decision, "the gate never saw it")
		})
	}
}

// badPrice is a host's inventory that prices one resource at 0/0 (NaN
// an hour), as a price list missing its entry gives.
type badPrice struct {
	*memory.Cloud
	id string
}

func (b badPrice) fix(r provider.Resource) provider.Resource {
	if r.ID == b.id {
		r.HourlyCost = math.NaN()
	}
	return r
}

func (b badPrice) List(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	rs, err := b.Cloud.List(ctx, f)
	for i := range rs {
		rs[i] = b.fix(rs[i])
	}
	return rs, err
}

func (b badPrice) Get(ctx context.Context, id string) (provider.Resource, error) {
	r, err := b.Cloud.Get(ctx, id)
	return b.fix(r), err
}

// TestInvalidListedResourceRefused: a resource the inventory lists with
// a value provider.Resource.Validate refuses (an hourly cost of NaN) is
// refused as a repeated ID is: one failed record at StageInventory whose
// error names the field, not detected, not acted on, whatever a host's
// detector says; the other resources go on and the report marshals.
// (Before, a host's detector's stop went through, and json.Marshal of
// the report failed on the record's resource: "unsupported value: NaN".)
func TestInvalidListedResourceRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-bad", cpu: 0.02}, vm{id: "i-ok", cpu: 0.02})
	det := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Score: 0.95, Confidence: 0.95,
			Action: detector.ActionStop, MonthlySavings: 10}, nil
	})
	fleet := e.fleet()
	fleet.Inventory = badPrice{Cloud: e.cloud, id: "i-bad"}
	r, err := reaper.New(reaper.Config{Execute: true}, fleet, det, e.engine, reaper.WithClock(e.waitClock()), reaper.WithHistory(e.history))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	bad := record(t, rep, "i-bad")
	assert.Equal(t, reaper.OutcomeFailed, bad.Outcome, bad.String())
	assert.Nil(t, bad.Verdict, "not detected")
	var ie *provider.InvalidError
	require.ErrorAs(t, bad.Err(), &ie)
	assert.Equal(t, "resource.hourly_cost", ie.Field)
	var re *reaper.ResourceError
	require.ErrorAs(t, bad.Err(), &re)
	assert.Equal(t, reaper.StageInventory, re.Stage)
	assert.Equal(t, reaper.OutcomeActed, record(t, rep, "i-ok").Outcome)
	acts := e.actions()
	require.Len(t, acts, 1)
	assert.Equal(t, "i-ok", acts[0].ResourceID)
	_, err = json.Marshal(rep)
	require.NoError(t, err, "the report marshals")
}

// badFigures is a host's inventory that lists resource id with the
// figures fix gives it (a catalogue's vCPUs of 0/0), once or, with
// twice, two times.
type badFigures struct {
	*memory.Cloud
	id    string
	fix   func(*provider.Resource)
	twice bool
}

func (b badFigures) List(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	rs, err := b.Cloud.List(ctx, f)
	for i := range rs {
		if rs[i].ID == b.id {
			b.fix(&rs[i])
			if b.twice {
				rs = append(rs, rs[i])
			}
		}
	}
	return rs, err
}

func (b badFigures) Get(ctx context.Context, id string) (provider.Resource, error) {
	r, err := b.Cloud.Get(ctx, id)
	if id == b.id {
		b.fix(&r)
	}
	return r, err
}

// TestRefusedListedResourceKeepsTheReportMarshalling: a resource refused
// at StageInventory with a figure JSON cannot hold (vCPUs of NaN or
// +Inf, which provider.Resource.Validate refuses as it does an hourly
// cost of NaN; or a cost of NaN on a resource also listed twice) fails,
// is not acted on, and the run's report still marshals: the record
// reads such a figure as 0 and its error names it. (Before, only a
// non-finite hourly cost of a resource listed once was read as 0, and
// json.Marshal of the report failed: "unsupported value: NaN".)
func TestRefusedListedResourceKeepsTheReportMarshalling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fix   func(*provider.Resource)
		twice bool
		field string
	}{
		{"vcpu NaN", func(r *provider.Resource) { r.Size.VCPU = math.NaN() }, false, "resource.size.vcpu"},
		{"vcpu +Inf", func(r *provider.Resource) { r.Size.VCPU = math.Inf(1) }, false, "resource.size.vcpu"},
		{"cost NaN, listed twice", func(r *provider.Resource) { r.HourlyCost = math.NaN() }, true, "resource.id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, memory.Config{})
			e.add(t, vm{id: "i-bad", cpu: 0.02})
			det := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
				return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Score: 0.95, Confidence: 0.95,
					Action: detector.ActionStop, MonthlySavings: 10}, nil
			})
			fleet := e.fleet()
			fleet.Inventory = badFigures{Cloud: e.cloud, id: "i-bad", fix: tt.fix, twice: tt.twice}
			r, err := reaper.New(reaper.Config{Execute: true}, fleet, det, e.engine, reaper.WithClock(e.waitClock()), reaper.WithHistory(e.history))
			require.NoError(t, err)
			rep, err := e.run(t.Context(), t, r, t0)
			require.NoError(t, err)
			bad := record(t, rep, "i-bad")
			assert.Equal(t, reaper.OutcomeFailed, bad.Outcome, bad.String())
			var ie *provider.InvalidError
			require.ErrorAs(t, bad.Err(), &ie)
			assert.Equal(t, tt.field, ie.Field)
			assert.Empty(t, e.actions(), "not acted on")
			_, err = json.Marshal(rep)
			require.NoError(t, err, "the report marshals")
		})
	}
}

// failedNaming checks that rec failed at stage with a
// *provider.InvalidError naming field.
func failedNaming(t *testing.T, rec reaper.Record, stage reaper.Stage, field string) {
	t.Helper()
	var ie *provider.InvalidError
	require.ErrorAs(t, rec.Err(), &ie)
	assert.Equal(t, field, ie.Field)
	var re *reaper.ResourceError
	require.ErrorAs(t, rec.Err(), &re)
	assert.Equal(t, stage, re.Stage)
}
