package scaling_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// considered returns the recommendation of the strategy named name in d.
func considered(t *testing.T, d *scaling.Decision, name string) scaling.Recommendation {
	t.Helper()
	for _, r := range d.Considered {
		if r.Strategy == name {
			return r
		}
	}
	require.Failf(t, "no recommendation", "of strategy %s in %+v", name, d.Considered)
	return scaling.Recommendation{}
}

// cpuEvery10s is a memory cloud with group web at 4 of [0, 50] and its
// CPU sampled every 10 s over the 10 minutes before now, v(k) the sample
// k×10 s before now.
func cpuEvery10s(t *testing.T, now time.Time, v func(k int) float64) *memory.Cloud {
	t.Helper()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, c.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, provider.CapacitySpec{Min: 0, Max: 50, Desired: 4}))
	var samples []provider.Sample
	for k := 60; k >= 1; k-- {
		samples = append(samples, provider.Sample{Time: now.Add(-time.Duration(k) * 10 * time.Second), Value: v(k)})
	}
	require.NoError(t, c.AddSamples("web", provider.MetricCPU, samples...))
	return c
}

// evaluateWeb evaluates target web of c with strategies at now and
// returns its decision.
func evaluateWeb(t *testing.T, c *memory.Cloud, now time.Time, pinned string, strategies ...scaling.StrategySpec) scaling.Decision {
	t.Helper()
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
	require.NoError(t, err)
	a, err := scaling.NewAutoscaler(scaling.Config{Targets: []scaling.TargetConfig{{
		ID: "web", Min: ip(1), Max: 20, Strategy: pinned, Strategies: strategies,
	}}}, e, scaling.Fleet{Inventory: c, Metrics: c})
	require.NoError(t, err)
	rep := a.Evaluate(t.Context(), now)
	require.NoError(t, rep.Err())
	require.NotNil(t, rep.Targets[0].Decision)
	return *rep.Targets[0].Decision
}

// TestStrategiesReadTheirOwnStatistic pins that two strategies of a
// target reading one metric with different statistics each read the
// series of their own statistic, in either order: the Autoscaler reads
// both, and a strategy used to read the first series of the metric (a
// review found the peak strategy reading the mean, and not scaling).
func TestStrategiesReadTheirOwnStatistic(t *testing.T) {
	avg := scaling.StrategySpec{Name: "avg", Type: scaling.StrategyThreshold, Threshold: &scaling.ThresholdConfig{Statistic: provider.StatMean}}
	peak := scaling.StrategySpec{Name: "peak", Type: scaling.StrategyThreshold, Threshold: &scaling.ThresholdConfig{Statistic: provider.StatMax}}
	for name, specs := range map[string][]scaling.StrategySpec{"mean first": {avg, peak}, "max first": {peak, avg}} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// CPU alternates 0.2 and 0.95 every 10 s: per minute, a
				// mean of 0.575 and a max of 0.95.
				now := time.Now()
				c := cpuEvery10s(t, now, func(k int) float64 { return map[bool]float64{true: 0.95, false: 0.2}[k%2 == 0] })
				d := evaluateWeb(t, c, now, "peak", specs...)
				assert.InDelta(t, 0.575, inputValue(t, considered(t, &d, "avg"), "cpu"), 1e-9)
				assert.Equal(t, 4, considered(t, &d, "avg").Capacity.Desired, "the mean is within [0.3, 0.8]")
				assert.InDelta(t, 0.95, inputValue(t, considered(t, &d, "peak"), "cpu"), 1e-9)
				require.Equal(t, "peak", d.Chosen.Strategy)
				assert.Equal(t, 8, d.Chosen.Capacity.Desired, "the max is above 0.8: double")
			})
		})
	}
}

// TestStrategiesReadTheirOwnStep pins that an HPA strategy on 1-minute
// CPU and a Threshold on 5-minute CPU each read the series of their own
// step, in either order: the CPU was 0.3 until a minute ago and 0.9
// since, so the last minute is at 90 % (the HPA scales 4 to ⌈4 × 90/60⌉ =
// 6) while the last 5 minutes average 0.42 (the Threshold keeps 4). Each
// used to read the first series of cpu: the Threshold doubled on the
// minute's 0.9, or the HPA held at 4 on 42 %.
func TestStrategiesReadTheirOwnStep(t *testing.T) {
	hp := scaling.StrategySpec{Name: "hpa", Type: scaling.StrategyHPA, HPA: &scaling.HPAConfig{Metrics: []hpa.MetricSpec{cpuUtilization(60)}, Step: time.Minute}}
	th := scaling.StrategySpec{Name: "threshold", Type: scaling.StrategyThreshold, Threshold: &scaling.ThresholdConfig{Step: 5 * time.Minute}}
	for name, specs := range map[string][]scaling.StrategySpec{"hpa first": {hp, th}, "threshold first": {th, hp}} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				now := time.Now() // on the 5-minute grid
				c := cpuEvery10s(t, now, func(k int) float64 { return map[bool]float64{true: 0.9, false: 0.3}[k <= 6] })
				d := evaluateWeb(t, c, now, "", specs...)
				h := considered(t, &d, "hpa")
				assert.InDelta(t, 90, inputValue(t, h, cpuUtilization(60).Name()), 1e-9)
				assert.Equal(t, 6, h.Capacity.Desired, h.Reason)
				th := considered(t, &d, "threshold")
				assert.InDelta(t, 0.42, inputValue(t, th, "cpu"), 1e-9)
				assert.Equal(t, 4, th.Capacity.Desired, th.Reason)
			})
		})
	}
}

// TestAmbiguousSeriesIsAnError pins what every built-in strategy does
// with a State built by hand with only Metrics, two series of its metric
// at its step and no MetricNeeds to say which holds its statistic: it
// fails with an error matching provider.ErrInvalid that names the
// metric, rather than reading the first; and Engine.Decide reports it.
// With one of the two series at another step, it reads the one at its
// step.
func TestAmbiguousSeriesIsAnError(t *testing.T) {
	t.Parallel()
	must := func(s scaling.Strategy, err error) scaling.Strategy {
		require.NoError(t, err)
		return s
	}
	steps := scaling.StepConfig{Policies: []scaling.StepPolicy{{Threshold: 0.8, Comparison: scaling.GreaterOrEqual, AdjustmentType: scaling.ChangeInCapacity,
		Steps: []scaling.StepAdjustment{{LowerBound: fp(0), Adjustment: 1}}}}}
	inst := scaling.Target{ID: "db", Resource: provider.Resource{ID: "i-1", Kind: provider.KindInstance, Size: provider.Size{InstanceType: "m5.2xlarge"}}}
	for _, tt := range []struct {
		name     string
		strategy scaling.Strategy
		target   scaling.Target
		metric   provider.Metric
		step     time.Duration
		// value is one the strategy reads as such: its input's value
		// when given, in unit, else its recommendation's.
		value, other float64
		input        string
		unit         float64
	}{
		{"threshold", must(scaling.NewThreshold(scaling.ThresholdConfig{})), group(4, 1, 20), provider.MetricCPU, time.Minute, 0.5, 0.95, "cpu", 1},
		{"step", must(scaling.NewStep(steps)), group(4, 1, 20), provider.MetricCPU, time.Minute, 0.5, 0.95, "", 1},
		{"target value", must(scaling.NewTargetValue(scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.5)})), group(4, 1, 20), provider.MetricCPU, time.Minute, 0.5, 0.95, "cpu", 1},
		{"hpa", must(scaling.NewHPA(scaling.HPAConfig{Metrics: []hpa.MetricSpec{cpuUtilization(50)}}, "hpa")), group(4, 1, 20), provider.MetricCPU, time.Minute, 0.5, 0.95, cpuUtilization(50).Name(), 100},
		{"predictive", must(scaling.NewPredictive(scaling.PredictiveConfig{CapacityPerInstance: 10})), group(4, 1, 20), provider.MetricRequests, 5 * time.Minute, 24, 95, "", 1},
		{"vertical", must(scaling.NewVertical(scaling.VerticalConfig{InstanceTypes: catalogue(), Lookback: time.Hour, Step: 5 * time.Minute})), inst, provider.MetricCPU, 5 * time.Minute, 0.2, 0.95, "cpu p90", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			flat := func(step time.Duration, v float64) provider.Series { return flatSeries(tt.metric, step, 12, v) }
			// Two series at the strategy's step: which is its statistic?
			_, err := tt.strategy.Recommend(t.Context(), stateWith(tt.target, flat(tt.step, tt.value), flat(tt.step, tt.other)))
			require.ErrorIs(t, err, provider.ErrInvalid)
			assert.Contains(t, err.Error(), `metrics "`+string(tt.metric)+`"`)
			// Two series at other steps.
			_, err = tt.strategy.Recommend(t.Context(), stateWith(tt.target, flat(tt.step/2, tt.other), flat(tt.step*2, tt.other)))
			require.ErrorIs(t, err, provider.ErrInvalid)
			assert.Contains(t, err.Error(), `metrics "`+string(tt.metric)+`"`)
			// One at its step, one at another: the one at its step, in
			// either order.
			one, err := tt.strategy.Recommend(t.Context(), stateWith(tt.target, flat(tt.step, tt.value)))
			require.NoError(t, err)
			for _, give := range [][]provider.Series{
				{flat(tt.step*2, tt.other), flat(tt.step, tt.value)},
				{flat(tt.step, tt.value), flat(tt.step*2, tt.other)},
			} {
				rec, err := tt.strategy.Recommend(t.Context(), stateWith(tt.target, give...))
				require.NoError(t, err)
				assert.Equal(t, one.Capacity, rec.Capacity, rec.Reason)
				assert.Equal(t, one.Size, rec.Size, rec.Reason)
				if tt.input != "" {
					assert.InDelta(t, tt.value*tt.unit, inputValue(t, rec, tt.input), 1e-9)
				}
			}
		})
	}
	// Engine.Decide reports the strategy as failed, naming the metric.
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: nopScaler{}}, allowAll{})
	require.NoError(t, err)
	th := must(scaling.NewThreshold(scaling.ThresholdConfig{}))
	d, err := e.Decide(t.Context(), stateWith(group(4, 1, 20), flatSeries(provider.MetricCPU, time.Minute, 3, 0.5), flatSeries(provider.MetricCPU, time.Minute, 3, 0.95)),
		[]scaling.Candidate{{Name: "threshold", Strategy: th}}, "")
	require.ErrorIs(t, err, scaling.ErrNoStrategy)
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Contains(t, err.Error(), `metrics "cpu"`)
	assert.Contains(t, d.Considered[0].Reason, `metrics "cpu"`)
}

// TestSeriesFor pins how State.SeriesFor finds a need's series: by the
// needs in MetricNeeds when it is set (metric, statistic with empty as
// mean, step; never another's), else among the series of the metric the
// one at the need's step or the only one, and an error naming the metric
// when it cannot tell.
func TestSeriesFor(t *testing.T) {
	t.Parallel()
	at := func(step time.Duration, v float64) provider.Series { return flatSeries(provider.MetricCPU, step, 3, v) }
	need := func(st provider.Statistic, step time.Duration) scaling.Need {
		return scaling.Need{Metric: provider.MetricCPU, Statistic: st, Step: step, Lookback: 10 * step}
	}
	mem := flatSeries(provider.MetricMemory, time.Minute, 3, 7)
	memNeed := scaling.Need{Metric: provider.MetricMemory, Step: time.Minute, Lookback: time.Hour}
	for _, tt := range []struct {
		name    string
		metrics []provider.Series
		needs   []scaling.Need
		give    scaling.Need
		want    float64 // the series' value; 0: none
		wantErr string
	}{
		{"needs: by statistic", []provider.Series{mem, at(time.Minute, 1), at(time.Minute, 2)}, []scaling.Need{memNeed, need("", time.Minute), need(provider.StatMax, time.Minute)}, need(provider.StatMax, time.Minute), 2, ""},
		{"needs: the first series", []provider.Series{at(time.Minute, 3), mem}, []scaling.Need{need("", time.Minute), memNeed}, need(provider.StatMean, time.Minute), 3, ""},
		{"needs: empty is mean", []provider.Series{at(time.Minute, 2), at(time.Minute, 1)}, []scaling.Need{need(provider.StatMax, time.Minute), need(provider.StatMean, time.Minute)}, need("", time.Minute), 1, ""},
		{"needs: by step, the lookback aside", []provider.Series{at(time.Minute, 1), at(5*time.Minute, 2)}, []scaling.Need{need("", time.Minute), need("", 5*time.Minute)}, need("", 5*time.Minute), 2, ""},
		{"needs: another statistic's is not read", []provider.Series{at(time.Minute, 1)}, []scaling.Need{need(provider.StatMax, time.Minute)}, need("", time.Minute), 0, ""},
		{"needs: another step's is not read", []provider.Series{at(time.Minute, 1)}, []scaling.Need{need("", time.Minute)}, need("", 5*time.Minute), 0, ""},
		{"needs: one per series", []provider.Series{at(time.Minute, 1), at(time.Minute, 2)}, []scaling.Need{need("", time.Minute)}, need("", time.Minute), 0, "metric_needs"},
		{"only: the first series", []provider.Series{at(time.Minute, 3), mem}, nil, need("", time.Minute), 3, ""},
		{"only: at the step", []provider.Series{mem, at(time.Minute, 1)}, nil, need(provider.StatMax, time.Minute), 1, ""},
		{"only: at another step", []provider.Series{mem, at(5*time.Minute, 1)}, nil, need("", time.Minute), 1, ""},
		{"the one at the step", []provider.Series{at(5*time.Minute, 2), at(time.Minute, 1)}, nil, need("", time.Minute), 1, ""},
		{"none of the metric", []provider.Series{mem}, nil, need("", time.Minute), 0, ""},
		{"two at the step", []provider.Series{at(time.Minute, 1), at(time.Minute, 2)}, nil, need(provider.StatMax, time.Minute), 0, `invalid metrics "cpu": 2 series of cpu are at step 1m0s`},
		{"two, none at the step", []provider.Series{at(time.Minute, 1), at(5*time.Minute, 2)}, nil, need("", 10*time.Minute), 0, `invalid metrics "cpu": 2 series of cpu, none at step 10m0s`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := scaling.State{Now: t0, Target: group(4, 1, 20), Metrics: tt.metrics, MetricNeeds: tt.needs}
			ser, ok, err := st.SeriesFor(tt.give)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, provider.ErrInvalid)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.False(t, ok)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want != 0, ok)
			if ok {
				assert.Equal(t, []float64{tt.want, tt.want, tt.want}, ser.Values)
			}
		})
	}
}
