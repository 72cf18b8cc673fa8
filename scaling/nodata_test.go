package scaling_test

import (
	"context"
	"errors"
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// TestBuiltInStrategiesSayWhenTheyHaveNoData: each built-in strategy that
// keeps the capacity for want of data says so (Recommendation.NoData), and
// none says so when it has data, or keeps for another reason: the engine
// tells a blind target from one that sees and holds.
func TestBuiltInStrategiesSayWhenTheyHaveNoData(t *testing.T) {
	t.Parallel()
	threshold, targetValue, hpaS, step := cpuStrategies(t)
	failed := scaling.State{Now: t0, Target: group(8, 1, 100),
		MetricErrors: map[provider.Metric]error{provider.MetricCPU: errors.New("metrics: connection refused")}}
	for _, tt := range []struct {
		name string
		give scaling.Strategy
	}{
		{"threshold", threshold},
		{"target value", targetValue},
		{"hpa", hpaS},
		{"step", step},
	} {
		for _, st := range []struct {
			name string
			give scaling.State
		}{
			{"no series", stateWith(group(8, 1, 100))},
			{"a failed read", failed},
			{"only gaps", stateWith(group(8, 1, 100), flatSeries(provider.MetricCPU, time.Minute, 120, gap))},
			{"stale", stateWith(group(8, 1, 100), sampleAgo(110*time.Minute, 0.99))},
			// Found by mutation testing: the stale value above lies before
			// the threshold's and the step's lookback, which say "no data";
			// one at its start is stale and read.
			{"stale within the lookback", stateWith(group(8, 1, 100), sampleAgo(6*time.Minute, 0.99))},
		} {
			rec, err := tt.give.Recommend(t.Context(), st.give)
			require.NoError(t, err, "%s, %s", tt.name, st.name)
			assert.True(t, rec.NoData, "%s, %s: %s", tt.name, st.name, rec.Reason)
			assert.Equal(t, 8, rec.Capacity.Desired, "%s, %s", tt.name, st.name)
			assert.Zero(t, rec.Fitness, "%s, %s", tt.name, st.name)
		}
		for _, v := range []float64{0.5, 0.99} { // holds (within the band, no alarm) and scales
			rec, err := tt.give.Recommend(t.Context(), stateWith(group(8, 1, 100), flatSeries(provider.MetricCPU, time.Minute, 120, v)))
			require.NoError(t, err, tt.name)
			assert.False(t, rec.NoData, "%s on %g: %s", tt.name, v, rec.Reason)
			assert.Positive(t, rec.Fitness, "%s on %g", tt.name, v)
		}
	}

	// The HPA does not consult its metrics for a target above its max:
	// that is no want of data.
	rec, err := hpaS.Recommend(t.Context(), stateWith(group(120, 1, 100)))
	require.NoError(t, err)
	assert.False(t, rec.NoData, rec.Reason)
}

// TestPredictiveAndVerticalSayWhenTheyHaveNoData: the predictive strategy
// without its demand, or with only stale demand, and the vertical one
// without usage data say NoData; a forecast-only predictive, whose
// fitness is 0 by design, and a vertical strategy without a catalogue,
// which is a configuration, do not.
func TestPredictiveAndVerticalSayWhenTheyHaveNoData(t *testing.T) {
	t.Parallel()
	pred, err := scaling.NewPredictive(scaling.PredictiveConfig{CapacityPerInstance: 10})
	require.NoError(t, err)
	only, err := scaling.NewPredictive(scaling.PredictiveConfig{CapacityPerInstance: 10, ForecastOnly: true})
	require.NoError(t, err)
	demand := flatSeries(provider.MetricRequests, 5*time.Minute, 24, 30) // ends at t0
	rec, err := pred.Recommend(t.Context(), stateWith(group(4, 1, 20)))
	require.NoError(t, err)
	assert.True(t, rec.NoData, rec.Reason)
	rec, err = pred.Recommend(t.Context(), scaling.State{Now: t0.Add(time.Hour), Target: group(4, 1, 20), Metrics: []provider.Series{demand}})
	require.NoError(t, err)
	assert.True(t, rec.NoData, "an hour-old demand: %s", rec.Reason)
	rec, err = pred.Recommend(t.Context(), stateWith(group(4, 1, 20), flatSeries(provider.MetricRequests, 5*time.Minute, 24, gap)))
	require.NoError(t, err)
	assert.True(t, rec.NoData, "only gaps (found untested by mutation testing): %s", rec.Reason)
	rec, err = pred.Recommend(t.Context(), stateWith(group(4, 1, 20), demand))
	require.NoError(t, err)
	assert.False(t, rec.NoData, rec.Reason)
	rec, err = only.Recommend(t.Context(), stateWith(group(4, 1, 20), demand))
	require.NoError(t, err)
	assert.False(t, rec.NoData, rec.Reason)
	assert.Zero(t, rec.Fitness, "forecast only recommends nothing to act on")

	fn, err := scaling.NewVertical(scaling.VerticalConfig{Lookback: time.Hour})
	require.NoError(t, err)
	rec, err = fn.Recommend(t.Context(), scaling.State{Now: t0, Target: fnTarget(512, time.Minute)})
	require.NoError(t, err)
	assert.True(t, rec.NoData, rec.Reason)
	vm := scaling.Target{ID: "vm", Resource: provider.Resource{ID: "vm", Kind: provider.KindInstance, Size: provider.Size{InstanceType: "m5.large"}}}
	rec, err = fn.Recommend(t.Context(), scaling.State{Now: t0, Target: vm})
	require.NoError(t, err)
	assert.False(t, rec.NoData, "no catalogue is a configuration, not a want of data: %s", rec.Reason)
	sized, err := scaling.NewVertical(scaling.VerticalConfig{Lookback: time.Hour, InstanceTypes: []scaling.InstanceType{
		{Name: "m5.large", VCPU: 2, MemoryMiB: 8192, HourlyCost: 0.096}}})
	require.NoError(t, err)
	rec, err = sized.Recommend(t.Context(), scaling.State{Now: t0, Target: vm})
	require.NoError(t, err)
	assert.True(t, rec.NoData, rec.Reason)
	rec, err = sized.Recommend(t.Context(), stateWith(vm, flatSeries(provider.MetricCPU, 5*time.Minute, 12, 0.5)))
	require.NoError(t, err)
	assert.False(t, rec.NoData, rec.Reason)
	assert.Positive(t, rec.Fitness, rec.Reason)
}

// lacking is a strategy that reads cpu and has data or not, as told.
type lacking struct {
	name string
	data *bool
}

func (l lacking) Needs() []scaling.Need {
	return []scaling.Need{{Metric: provider.MetricCPU, Lookback: time.Hour, Step: time.Minute}}
}

func (l lacking) Recommend(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
	r := scaling.Recommendation{Capacity: s.Target.Capacity.CapacitySpec, Proposal: s.Target.Capacity.Desired, Reason: l.name + " sees", Fitness: 0.5}
	if !*l.data {
		r.Reason, r.NoData, r.Fitness = l.name+" has no cpu", true, 0
	}
	return r, nil
}

// TestEngineTellsWhenATargetIsBlind: the engine tells its observer once
// when a target's decisions start being made without data (every
// strategy that reads metrics lacks it or fails) and once when they have
// data again; one strategy with data is enough to see, a strategy that
// reads no metrics (scheduled actions) neither sees nor lacks, and a
// pinned strategy decides alone.
func TestEngineTellsWhenATargetIsBlind(t *testing.T) {
	t.Parallel()
	e, rec, target := observedEngine(t, scaling.EngineConfig{NoDataAfter: -1})
	aData, bData := true, true
	a, b := lacking{"a", &aData}, lacking{"b", &bData}
	broken := scaling.StrategyFunc(func(context.Context, scaling.State) (scaling.Recommendation, error) {
		return scaling.Recommendation{}, errors.New("broken")
	})
	schedule := fixedStrategy(2, 1) // reads no metrics
	now := t0
	decide := func(pinned string, cands ...scaling.Candidate) []scaling.Event {
		t.Helper()
		n := len(rec.events)
		now = now.Add(time.Minute)
		_, _ = e.Decide(t.Context(), scaling.State{Now: now, Target: target}, cands, pinned)
		var got []scaling.Event
		for _, ev := range rec.events[n:] {
			if ev.Kind == scaling.EventNoData || ev.Kind == scaling.EventDataRecovered {
				require.NoError(t, ev.Kind.Validate())
				got = append(got, ev)
			}
		}
		return got
	}
	both := []scaling.Candidate{{Name: "a", Strategy: a}, {Name: "b", Strategy: b}, {Name: "schedule", Strategy: schedule}}

	assert.Empty(t, decide("", both...), "both see")
	aData = false
	assert.Empty(t, decide("", both...), "b still sees")
	bData = false
	got := decide("", both...)
	require.Len(t, got, 1, "neither sees; the schedule, which reads nothing, does not see for them")
	assert.Equal(t, scaling.EventNoData, got[0].Kind)
	assert.Equal(t, "web", got[0].Target)
	assert.Equal(t, now, got[0].Time)
	assert.Equal(t, "no data to scale on: a: a has no cpu; b: b has no cpu", got[0].Reason)
	assert.Empty(t, decide("", both...), "told once")
	bData = true
	got = decide("", both...)
	require.Len(t, got, 1)
	assert.Equal(t, scaling.EventDataRecovered, got[0].Kind)
	assert.Equal(t, "b", got[0].Strategy)
	assert.Equal(t, "b lacks no data: b sees", got[0].Reason)

	// Pinned, a decides alone: blind though b sees.
	got = decide("a", both...)
	require.Len(t, got, 1)
	assert.Equal(t, "no data to scale on: a: a has no cpu", got[0].Reason)
	got = decide("b", both...)
	require.Len(t, got, 1)
	assert.Equal(t, scaling.EventDataRecovered, got[0].Kind)

	// A strategy that reads metrics and fails sees nothing either; one
	// that reads none and fails (a schedule) does not count.
	got = decide("", scaling.Candidate{Name: "a", Strategy: a}, scaling.Candidate{Name: "broken", Strategy: needing{broken}})
	require.Len(t, got, 1)
	assert.Equal(t, scaling.EventNoData, got[0].Kind)
	assert.Contains(t, got[0].Reason, "broken: failed: broken")
	aData = true
	assert.Len(t, decide("", scaling.Candidate{Name: "a", Strategy: a}, scaling.Candidate{Name: "broken", Strategy: needing{broken}}), 1, "a sees")
	aData = false
	assert.Len(t, decide("", scaling.Candidate{Name: "a", Strategy: a}, scaling.Candidate{Name: "broken", Strategy: broken}), 1, "a lacks, broken reads nothing")
	got = decide("", scaling.Candidate{Name: "schedule", Strategy: schedule})
	require.Len(t, got, 1, "only a schedule: nothing to lack")
	assert.Equal(t, scaling.EventDataRecovered, got[0].Kind)
	assert.Equal(t, "no strategy of the target that reads metrics is left", got[0].Reason)
}

// needing makes a strategy read cpu (a MetricNeeder).
type needing struct{ scaling.Strategy }

func (needing) Needs() []scaling.Need {
	return []scaling.Need{{Metric: provider.MetricCPU, Lookback: time.Hour, Step: time.Minute}}
}

// TestForgettingABlindTargetEndsItsWantOfData: a target forgotten while
// blind is told recovered (its alert would fire for good otherwise); one
// that sees is told nothing.
func TestForgettingABlindTargetEndsItsWantOfData(t *testing.T) {
	t.Parallel()
	e, rec, target := observedEngine(t, scaling.EngineConfig{NoDataAfter: -1})
	data := false
	cands := []scaling.Candidate{{Name: "a", Strategy: lacking{"a", &data}}}
	_, err := e.Decide(t.Context(), scaling.State{Now: t0, Target: target}, cands, "")
	require.NoError(t, err)
	require.Equal(t, 1, rec.count(scaling.EventNoData))
	require.NoError(t, e.Forget("web"))
	require.Equal(t, 1, rec.count(scaling.EventDataRecovered))
	last := rec.events[len(rec.events)-1]
	assert.Equal(t, scaling.EventDataRecovered, last.Kind)
	assert.Equal(t, "web", last.Target)
	assert.Contains(t, last.Reason, "forgotten")

	data = true
	_, err = e.Decide(t.Context(), scaling.State{Now: t0.Add(time.Minute), Target: target}, cands, "")
	require.NoError(t, err)
	require.NoError(t, e.Forget("web"))
	assert.Equal(t, 1, rec.count(scaling.EventNoData))
	assert.Equal(t, 1, rec.count(scaling.EventDataRecovered), "a target that sees is told nothing when forgotten")
}

// TestAGroupAtZeroLacksNoUtilization: a group at zero instances has no
// cpu to read, by design (scheduled to zero at night): the strategies
// that read a utilization keep it without saying NoData, and the engine
// tells nothing, where it paged every night. A metric that is not the
// instances' (a load balancer's requests) still lacks data at zero.
func TestAGroupAtZeroLacksNoUtilization(t *testing.T) {
	t.Parallel()
	threshold, targetValue, _, step := cpuStrategies(t)
	requests, err := scaling.NewTargetValue(scaling.TargetValueConfig{Metric: provider.MetricRequests, Target: fp(100)})
	require.NoError(t, err)
	for _, tt := range []struct {
		name string
		give scaling.Strategy
		want bool
	}{
		{"threshold on cpu", threshold, false},
		{"target value on cpu", targetValue, false},
		{"step on cpu", step, false},
		{"target value on requests", requests, true},
	} {
		rec, err := tt.give.Recommend(t.Context(), stateWith(group(0, 0, 100)))
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, rec.NoData, "%s at zero: %s", tt.name, rec.Reason)
		assert.Equal(t, 0, rec.Capacity.Desired, tt.name)
		rec, err = tt.give.Recommend(t.Context(), stateWith(group(1, 0, 100)))
		require.NoError(t, err, tt.name)
		assert.True(t, rec.NoData, "%s at one: %s", tt.name, rec.Reason)
	}

	c := newCloud(t, 0, memory.Config{})
	obs := &recorder{}
	e, err := scaling.NewEngine(scaling.EngineConfig{NoDataAfter: -1}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{}, scaling.WithObserver(obs))
	require.NoError(t, err)
	_, err = e.Decide(t.Context(), stateWith(group(0, 0, 100)), []scaling.Candidate{{Name: "threshold", Strategy: threshold}}, "")
	require.NoError(t, err)
	assert.Zero(t, obs.count(scaling.EventNoData), "a group at zero lacks no cpu")
}

// TestNoDataIsToldOnceItLasts: by default a target is told without data
// once its decisions have lacked it for five minutes
// (EngineConfig.NoDataAfter), so that one failed metrics read does not
// page and resolve a pass later; a decision with data in between starts
// the count again, and a target never told is never told recovered.
func TestNoDataIsToldOnceItLasts(t *testing.T) {
	t.Parallel()
	c := newCloud(t, 2, memory.Config{})
	rec := &recorder{}
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{}, scaling.WithObserver(rec))
	require.NoError(t, err)
	assert.Equal(t, 5*time.Minute, e.Config().NoDataAfter)
	target := webTarget(t, c)
	data := false
	cands := []scaling.Candidate{{Name: "a", Strategy: lacking{"a", &data}}}
	decide := func(at time.Duration) {
		t.Helper()
		_, err := e.Decide(t.Context(), scaling.State{Now: t0.Add(at), Target: target}, cands, "")
		require.NoError(t, err)
	}
	for m := range 5 { // blind at 0 to 4 minutes
		decide(time.Duration(m) * time.Minute)
	}
	data = true
	decide(5 * time.Minute)
	assert.Zero(t, rec.count(scaling.EventNoData), "five minutes blind but not yet five minutes long")
	assert.Zero(t, rec.count(scaling.EventDataRecovered), "never told, never recovered")
	data = false
	for m := 6; m < 11; m++ {
		decide(time.Duration(m) * time.Minute)
	}
	assert.Zero(t, rec.count(scaling.EventNoData), "blind from 6 to 10 minutes: 4 minutes long")
	decide(11*time.Minute - time.Nanosecond)
	assert.Zero(t, rec.count(scaling.EventNoData), "a nanosecond short")
	decide(11 * time.Minute)
	require.Equal(t, 1, rec.count(scaling.EventNoData), "blind for five minutes")
	decide(12 * time.Minute)
	assert.Equal(t, 1, rec.count(scaling.EventNoData), "told once")
	data = true
	decide(13 * time.Minute)
	assert.Equal(t, 1, rec.count(scaling.EventDataRecovered), "recovered at once")

	_, err = scaling.NewEngine(scaling.EngineConfig{NoDataAfter: -time.Minute}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
	require.NoError(t, err, "negative: at the first")
}

// TestEngineBlindnessOfAHostStrategyAndItsRecovery: mutation testing of
// dataEvent found two decisions untested. A host's strategy that reads
// its data itself (no MetricNeeder) and says NoData counts as one that
// reads metrics: alone, the target is blind (without it the target was
// told nothing, its want of data hidden). And a recovery names the first
// strategy that reads metrics with data, and only it, where several have
// (a host's strategy without MetricNeeder that has data does not count:
// only its NoData is read).
func TestEngineBlindnessOfAHostStrategyAndItsRecovery(t *testing.T) {
	t.Parallel()
	e, rec, target := observedEngine(t, scaling.EngineConfig{NoDataAfter: -1})
	hostData := false
	host := scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
		if hostData {
			return scaling.Recommendation{Capacity: s.Target.Capacity.CapacitySpec, Proposal: s.Target.Capacity.Desired, Reason: "host sees", Fitness: 0.5}, nil
		}
		return scaling.Recommendation{Capacity: s.Target.Capacity.CapacitySpec, Proposal: s.Target.Capacity.Desired, Reason: "host has no queue depth", NoData: true}, nil
	})
	aData, bData := false, false
	cands := []scaling.Candidate{{Name: "host", Strategy: host}, {Name: "a", Strategy: lacking{"a", &aData}}, {Name: "b", Strategy: lacking{"b", &bData}}}
	_, err := e.Decide(t.Context(), scaling.State{Now: t0, Target: target}, cands[:1], "")
	require.NoError(t, err)
	require.Equal(t, 1, rec.count(scaling.EventNoData), "a host's strategy without data, alone: the target is blind")
	last := rec.events[len(rec.events)-1]
	assert.Equal(t, "no data to scale on: host: host has no queue depth", last.Reason)

	hostData, aData, bData = true, true, true
	_, err = e.Decide(t.Context(), scaling.State{Now: t0.Add(time.Minute), Target: target}, cands, "")
	require.NoError(t, err)
	require.Equal(t, 1, rec.count(scaling.EventDataRecovered))
	last = rec.events[len(rec.events)-1]
	assert.Equal(t, scaling.EventDataRecovered, last.Kind)
	assert.Equal(t, "a", last.Strategy, "the first strategy with data")
	assert.Equal(t, "a lacks no data: a sees", last.Reason, "it alone")
}

// observedEngine is an engine of cfg over a memory cloud with the group
// web of 2 instances, its observer recording, and web's target.
func observedEngine(t *testing.T, cfg scaling.EngineConfig) (*scaling.Engine, *recorder, scaling.Target) {
	t.Helper()
	c := newCloud(t, 2, memory.Config{})
	rec := &recorder{}
	e, err := scaling.NewEngine(cfg, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{}, scaling.WithObserver(rec))
	require.NoError(t, err)
	return e, rec, webTarget(t, c)
}

// TestForgetEndsAStandingNoEarlierThanItWasTold: a host whose decision
// times run ahead of the engine's clock (its own clock, a replay) is told
// blind at its decision's now; forgetting the target tells the recovery
// no earlier than that, so that the monitor, which orders a target's
// events by time, resolves the alert the first one opened. It was dated
// by the engine's clock alone, an hour before the standing it ended, and
// the alert was left firing for good.
func TestForgetEndsAStandingNoEarlierThanItWasTold(t *testing.T) {
	t.Parallel()
	c := newCloud(t, 2, memory.Config{})
	rec := &recorder{}
	mock := bclock.NewMock()
	mock.Set(t0)
	e, err := scaling.NewEngine(scaling.EngineConfig{NoDataAfter: -1}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{},
		scaling.WithObserver(rec), scaling.WithEngineClock(mock))
	require.NoError(t, err)
	data := false
	ahead := t0.Add(time.Hour)
	_, err = e.Decide(t.Context(), scaling.State{Now: ahead, Target: webTarget(t, c)}, []scaling.Candidate{{Name: "a", Strategy: lacking{"a", &data}}}, "")
	require.NoError(t, err)
	require.Equal(t, 1, rec.count(scaling.EventNoData))
	require.NoError(t, e.Forget("web"))
	last := rec.events[len(rec.events)-1]
	require.Equal(t, scaling.EventDataRecovered, last.Kind)
	assert.Equal(t, ahead, last.Time, "no earlier than the no_data it ends")

	// A host behind the engine's clock: the clock's now.
	_, err = e.Decide(t.Context(), scaling.State{Now: t0.Add(-time.Hour), Target: webTarget(t, c)}, []scaling.Candidate{{Name: "a", Strategy: lacking{"a", &data}}}, "")
	require.NoError(t, err)
	require.NoError(t, e.Forget("web"))
	last = rec.events[len(rec.events)-1]
	require.Equal(t, scaling.EventDataRecovered, last.Kind)
	assert.Equal(t, t0, last.Time)
}
