package scaling_test

import (
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
