package scaling_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestStaleDataKeepsTheCapacity: the threshold, target-value and step
// strategies read the latest values of a series that may cover more
// history than they asked for (the Autoscaler reads one series per
// metric, statistic and step, at the longest lookback of the target's
// strategies: a predictive or a step strategy's beside them). A metric
// that stopped being published (an agent down) left its last sample,
// hours old, as the latest value: they halved the group, or took it to
// one instance, on it, with a fitness of 0, the "no opinion" that the
// engine still picks when the strategy is pinned or alone. Data whose
// freshness is 0 (its step ended five steps or more before Now) is no
// data: the capacity is kept.
func TestStaleDataKeepsTheCapacity(t *testing.T) {
	t.Parallel()
	threshold, targetValue, _, step := cpuStrategies(t)
	at := sampleAgo
	for _, tt := range []struct {
		name string
		give scaling.Strategy
	}{
		{"threshold", threshold},
		{"target value", targetValue},
		{"step", step},
	} {
		for _, v := range []float64{0.05, 0.99} {
			for _, ago := range []time.Duration{110 * time.Minute, 6 * time.Minute} {
				rec, err := tt.give.Recommend(t.Context(), stateWith(group(8, 1, 100), at(ago, v)))
				require.NoError(t, err)
				assert.Equal(t, 8, rec.Capacity.Desired, "%s on %g from %s ago: %s", tt.name, v, ago, rec.Reason)
				assert.Zero(t, rec.Fitness, tt.name)
			}
			// Five minutes ago is still read, at a low fitness.
			rec, err := tt.give.Recommend(t.Context(), stateWith(group(8, 1, 100), at(5*time.Minute, v)))
			require.NoError(t, err)
			if tt.name != "step" || v > 0.8 { // the step strategy scales out only
				assert.NotEqual(t, 8, rec.Capacity.Desired, "%s on %g from 5m ago: %s", tt.name, v, rec.Reason)
			}
			assert.Positive(t, rec.Fitness, tt.name)
		}
	}
}

// sampleAgo is a two-hour CPU series of one-minute gaps from t0 with one
// sample, v, ago before its end.
func sampleAgo(ago time.Duration, v float64) provider.Series {
	vals := make([]float64, 120)
	for i := range vals {
		vals[i] = gap
	}
	vals[len(vals)-int(ago/time.Minute)] = v
	return series(provider.MetricCPU, t0, time.Minute, vals...)
}
