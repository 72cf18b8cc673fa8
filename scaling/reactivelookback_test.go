package scaling_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestThresholdAndStepReadOnlyTheirLookback: a State's series may cover
// more history than a strategy asked for (the longest need of the
// target's strategies of one metric, statistic and step: a predictive's
// weeks beside a threshold's minutes), and the threshold and step
// strategies took the last values with data however far back they lay:
// a threshold averaging 5 minutes of a metric with two samples of 0.9 in
// them doubled a group on its own series, and kept it beside a longer
// one, averaging in three samples of 0.1 from the hour before; a step
// policy of three periods above 0.8, with one sample in its seven
// minutes, did not fire on its own series and fired beside a longer one
// on samples an hour old. Each now reads its lookback only (Window + 2
// steps; evaluation periods + 4 steps; six steps at least, as long as a
// value stays fresh), deciding the same whatever else the series covers.
func TestThresholdAndStepReadOnlyTheirLookback(t *testing.T) {
	t.Parallel()
	step := time.Minute
	// recent is the strategies' own seven minutes; before, the hour
	// before them, which only a longer need reads.
	seriesOf := func(before float64, recent []float64, long bool) provider.Series {
		var vals []float64
		if long {
			for range 60 {
				vals = append(vals, before)
			}
		}
		return series(provider.MetricCPU, t0, step, append(vals, recent...)...)
	}
	th, err := scaling.NewThreshold(scaling.ThresholdConfig{Window: 5 * time.Minute})
	require.NoError(t, err)
	zero := 0.0
	st, err := scaling.NewStep(scaling.StepConfig{Policies: []scaling.StepPolicy{{
		Threshold: 0.8, Comparison: scaling.Greater, EvaluationPeriods: 3, AdjustmentType: scaling.ChangeInCapacity,
		Steps: []scaling.StepAdjustment{{LowerBound: &zero, Adjustment: 2}},
	}}})
	require.NoError(t, err)
	for _, tt := range []struct {
		name     string
		strategy scaling.Strategy
		before   float64
		recent   []float64
		want     int
	}{
		{name: "threshold", strategy: th, before: 0.1, recent: []float64{gap, gap, 0.9, gap, gap, gap, 0.9}, want: 8},
		{name: "step", strategy: st, before: 0.9, recent: []float64{gap, gap, gap, gap, gap, gap, 0.9}, want: 4},
	} {
		for _, long := range []bool{false, true} {
			rec, err := tt.strategy.Recommend(t.Context(), stateWith(group(4, 1, 50), seriesOf(tt.before, tt.recent, long)))
			require.NoError(t, err, tt.name)
			assert.Equal(t, tt.want, rec.Capacity.Desired, "%s, long series %t: %s", tt.name, long, rec.Reason)
		}
	}
}

// TestThresholdLookbackEdges: mutation testing of readFrom and of the
// lookback in checkLast and meanOfLast found their edges untested (every
// test passed with each changed). With a Window of two steps (a lookback
// of four, read as six, as long as a value stays fresh), the threshold
// reads the values of the six steps before now: one seven steps back
// (another strategy's) is not averaged in, one at the six steps' start
// is, one five and a half back (fresh: a now between two steps) is read,
// an infinite value before the six steps fails nothing, and one at their
// start is refused.
func TestThresholdLookbackEdges(t *testing.T) {
	t.Parallel()
	th, err := scaling.NewThreshold(scaling.ThresholdConfig{Window: 2 * time.Minute})
	require.NoError(t, err)
	// at returns ten steps ending at t0, gaps but for the values given by
	// their start's distance from t0 in minutes.
	at := func(vals map[int]float64) provider.Series {
		v := make([]float64, 10)
		for i := range v {
			v[i] = gap
		}
		for ago, x := range vals {
			v[len(v)-ago] = x
		}
		return series(provider.MetricCPU, t0, time.Minute, v...)
	}
	rec, err := th.Recommend(t.Context(), stateWith(group(4, 1, 50), at(map[int]float64{7: 0.1, 1: 0.9})))
	require.NoError(t, err)
	assert.Equal(t, 8, rec.Capacity.Desired, "the 0.1 of seven steps back is not averaged in: %s", rec.Reason)

	rec, err = th.Recommend(t.Context(), stateWith(group(4, 1, 50), at(map[int]float64{6: 0.1, 1: 0.9})))
	require.NoError(t, err)
	assert.Equal(t, 4, rec.Capacity.Desired, "the 0.1 at the six steps' start is averaged in: %s", rec.Reason)

	st := stateWith(group(4, 1, 50), at(map[int]float64{5: 0.9}))
	st.Now = t0.Add(30 * time.Second) // the value starts five and a half steps before now, still fresh
	rec, err = th.Recommend(t.Context(), st)
	require.NoError(t, err)
	assert.False(t, rec.NoData, rec.Reason)
	assert.Equal(t, 8, rec.Capacity.Desired, rec.Reason)

	rec, err = th.Recommend(t.Context(), stateWith(group(4, 1, 50), at(map[int]float64{7: math.Inf(1), 1: 0.9})))
	require.NoError(t, err, "an infinite value before the lookback is not read")
	assert.Equal(t, 8, rec.Capacity.Desired, rec.Reason)

	_, err = th.Recommend(t.Context(), stateWith(group(4, 1, 50), at(map[int]float64{6: math.Inf(1), 1: 0.9})))
	require.ErrorIs(t, err, provider.ErrInvalid, "an infinite value at the lookback's start is read")
}

// TestStepLookbackEdge: mutation testing found untested that the step
// strategy reads the value at the start of its lookback (six steps for
// EvaluationPeriods 2; every test passed with it left out): with it, two
// values breach its two evaluation periods and the alarm fires.
func TestStepLookbackEdge(t *testing.T) {
	t.Parallel()
	zero := 0.0
	st, err := scaling.NewStep(scaling.StepConfig{Policies: []scaling.StepPolicy{{
		Threshold: 0.8, Comparison: scaling.Greater, EvaluationPeriods: 2, AdjustmentType: scaling.ChangeInCapacity,
		Steps: []scaling.StepAdjustment{{LowerBound: &zero, Adjustment: 2}},
	}}})
	require.NoError(t, err)
	vals := []float64{0.1, 0.9, gap, gap, gap, gap, 0.9} // from seven steps before t0: 0.9 six and one step back
	rec, err := st.Recommend(t.Context(), stateWith(group(4, 1, 50), series(provider.MetricCPU, t0, time.Minute, vals...)))
	require.NoError(t, err)
	assert.Equal(t, 6, rec.Capacity.Desired, rec.Reason)
}
