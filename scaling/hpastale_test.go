package scaling_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestHPAStaleDataIsAFailedMetric: on a group without pods the HPA
// strategy read the latest value of its metric's series however old it
// was. The series covers the longest need of the target's strategies of
// the metric, statistic and step (a step strategy's evaluation periods, a
// threshold's window beside the HPA's five steps), so a metric no longer
// published left a sample hours old as the latest, and the HPA scaled the
// group out (8 → 10) on it at its full fitness, 0.8, outranking every
// reactive strategy, where the threshold, target-value and step
// strategies keep the capacity on such data. A value whose step ended
// five steps or more before now is now a failed metric: no decision on
// it alone, no scale down beside a metric that reads, and not counted in
// the fitness.
func TestHPAStaleDataIsAFailedMetric(t *testing.T) {
	t.Parallel()
	_, _, hpaS, step := cpuStrategies(t)
	at := sampleAgo
	// As the Autoscaler reads it: one series for the HPA's need and a
	// step strategy's longer one.
	needs := []scaling.Need{{Metric: provider.MetricCPU, Step: time.Minute, Lookback: 120 * time.Minute}}
	for _, v := range []float64{0.05, 0.99} {
		for _, ago := range []time.Duration{110 * time.Minute, 6 * time.Minute} {
			st := stateWith(group(8, 1, 100), at(ago, v))
			st.MetricNeeds = needs
			rec, err := hpaS.Recommend(t.Context(), st)
			require.NoError(t, err)
			assert.Equal(t, 8, rec.Capacity.Desired, "%g from %s ago: %s", v, ago, rec.Reason)
			assert.Zero(t, rec.Fitness, "%g from %s ago", v, ago)
			assert.Contains(t, rec.Reason, "no recent cpu data")
			// The step strategy beside it keeps the capacity too.
			rec, err = step.Recommend(t.Context(), st)
			require.NoError(t, err)
			assert.Equal(t, 8, rec.Capacity.Desired)
		}
	}
	// Five minutes ago is still read: 99 % against the default 80 % target.
	st := stateWith(group(8, 1, 100), at(5*time.Minute, 0.99))
	st.MetricNeeds = needs
	rec, err := hpaS.Recommend(t.Context(), st)
	require.NoError(t, err)
	assert.Equal(t, 10, rec.Capacity.Desired, rec.Reason)
	assert.InDelta(t, 0.8, rec.Fitness, 1e-9)
}
