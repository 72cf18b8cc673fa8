package scaling_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestVerticalFutureSampleWeighsAsANewOne: a sample stamped after Now (a
// metrics source whose clock is ahead) had a negative age, and a weight
// 2^(−age/HalfLife) above 1: with a half-life of an hour, one sample
// stamped 12 hours ahead weighed 4096 against the 13.4 of two hours of
// samples, and its value became the p90 whatever the others said. A
// function using 80 % of its 1024 MiB for two hours, with one skewed
// sample of 5 %, was shrunk to 128 MiB. A future sample now weighs as a
// new one (age 0): 1, never more.
func TestVerticalFutureSampleWeighsAsANewOne(t *testing.T) {
	t.Parallel()
	step := 5 * time.Minute
	s, err := scaling.NewVertical(scaling.VerticalConfig{HalfLife: time.Hour, Lookback: 2 * time.Hour, Step: step})
	require.NoError(t, err)
	for _, tt := range []struct {
		name   string
		skewed float64
	}{
		{name: "low", skewed: 0.05},
		{name: "high", skewed: 0.99},
	} {
		// Two hours of 0.8 up to t0, then gaps, then one sample 12 h ahead.
		ahead := 12 * time.Hour
		vals := make([]float64, (2*time.Hour+ahead)/step+1)
		for i := range vals {
			switch {
			case i < int(2*time.Hour/step):
				vals[i] = 0.8
			case i == len(vals)-1:
				vals[i] = tt.skewed
			default:
				vals[i] = gap
			}
		}
		mem := provider.Series{Metric: provider.MetricMemory, Start: t0.Add(-2 * time.Hour), Step: step, Values: vals}
		require.Equal(t, t0.Add(ahead), mem.TimeAt(len(vals)-1))
		rec, err := s.Recommend(t.Context(), stateWith(fnTarget(1024, time.Minute), mem))
		require.NoError(t, err, tt.name)
		// p90 of 24 samples of 0.8 (weights 13.4) and one of weight 1:
		// 0.8, whose 942 MiB is within MinChange of 1024.
		assert.Zero(t, rec.Size.MemoryMiB, "%s: %s", tt.name, rec.Reason)
		require.NotEmpty(t, rec.Inputs, tt.name)
		assert.InDelta(t, 0.8, rec.Inputs[0].Value, 1e-12, "%s: the p90", tt.name)
	}
}

// TestVerticalFutureSamplesCoverNoLookback: the fitness is the share of
// the lookback covered by data, and a sample stamped after Now (a source
// whose clock is ahead) covers none of it: an hour of data in a
// two-hour lookback, with an hour of samples stamped ahead, counted as
// the whole lookback (fitness 0.9, not 0.45), outranking a strategy that
// had read more of it.
func TestVerticalFutureSamplesCoverNoLookback(t *testing.T) {
	t.Parallel()
	step := 5 * time.Minute
	s, err := scaling.NewVertical(scaling.VerticalConfig{HalfLife: time.Hour, Lookback: 2 * time.Hour, Step: step})
	require.NoError(t, err)
	vals := make([]float64, 24) // an hour up to t0, a gap at t0, the hour after it
	for i := range vals {
		vals[i] = 0.8
	}
	vals[12] = gap
	mem := provider.Series{Metric: provider.MetricMemory, Start: t0.Add(-time.Hour), Step: step, Values: vals}
	rec, err := s.Recommend(t.Context(), stateWith(fnTarget(1024, time.Minute), mem))
	require.NoError(t, err)
	assert.InDelta(t, 0.9*0.5, rec.Fitness, 1e-9, rec.Reason)
}
