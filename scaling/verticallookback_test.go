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

// TestVerticalReadsOnlyItsLookback: a State's series may cover more
// history than a strategy asked for (the longest need of the target's
// strategies of one metric, statistic and step, or a host's longer read),
// and the vertical strategy sized on all of it: with a lookback of an hour
// beside another vertical strategy of a day, a function whose memory use
// fell to 20 % an hour ago was sized on the day's 90 % and kept its 1024
// MiB (the hour alone: 256 MiB), and an hour half without data had the
// fitness of a full one. It now reads the samples of its lookback only.
func TestVerticalReadsOnlyItsLookback(t *testing.T) {
	t.Parallel()
	step := 5 * time.Minute
	s, err := scaling.NewVertical(scaling.VerticalConfig{Lookback: time.Hour, Step: step})
	require.NoError(t, err)
	vals := make([]float64, 0, 24*12)
	for range 23 * 12 {
		vals = append(vals, 0.9) // the day before the last hour
	}
	for i := range 12 {
		if i%2 == 0 {
			vals = append(vals, gap)
		} else {
			vals = append(vals, 0.2)
		}
	}
	mem := series(provider.MetricMemory, t0, step, vals...)
	rec, err := s.Recommend(t.Context(), stateWith(fnTarget(1024, time.Minute), mem))
	require.NoError(t, err)
	assert.Equal(t, 256, rec.Size.MemoryMiB, rec.Reason)
	assert.InDelta(t, 0.9*6/12, rec.Fitness, 1e-9, "half the lookback has data")
}

// A series may cover more than the strategy's lookback (another
// strategy's longer need of the metric): a value it does not read fails
// no decision. A negative or infinite usage from before the last hour
// does not fail a 1-hour strategy; the same value within the hour does,
// naming the metric.
func TestVerticalChecksOnlyItsLookbacksValues(t *testing.T) {
	t.Parallel()
	step := 5 * time.Minute
	s, err := scaling.NewVertical(scaling.VerticalConfig{Lookback: time.Hour, Step: step})
	require.NoError(t, err)
	for _, bad := range []float64{-0.5, math.Inf(1)} {
		vals := make([]float64, 0, 24*12)
		for range 23 * 12 {
			vals = append(vals, 0.9)
		}
		for range 12 {
			vals = append(vals, 0.2)
		}
		vals[10] = bad // twenty-two hours before the last hour ends
		rec, err := s.Recommend(t.Context(), stateWith(fnTarget(1024, time.Minute), series(provider.MetricMemory, t0, step, vals...)))
		require.NoError(t, err, "%v before the lookback", bad)
		assert.Equal(t, 256, rec.Size.MemoryMiB, rec.Reason)

		vals[len(vals)-3] = bad // within the last hour
		_, err = s.Recommend(t.Context(), stateWith(fnTarget(1024, time.Minute), series(provider.MetricMemory, t0, step, vals...)))
		require.ErrorIs(t, err, provider.ErrInvalid, "%v within the lookback", bad)
		assert.ErrorContains(t, err, "metrics.memory", "names the metric")
	}
}
