package provider_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// TestQuantileNaNLevel checks that a NaN level gives NaN rather than an
// index out of range (int(NaN) is a huge negative number on amd64).
func TestQuantileNaNLevel(t *testing.T) {
	t.Parallel()
	var got float64
	require.NotPanics(t, func() { got = provider.Quantile([]float64{1, 2, 3}, math.NaN()) })
	assert.True(t, math.IsNaN(got), "Quantile(q=NaN) = %v, want NaN", got)
	require.NotPanics(t, func() { got = provider.Quantile([]float64{1}, math.NaN()) })
	assert.True(t, math.IsNaN(got), "Quantile of one value at q=NaN = %v, want NaN", got)
}

// TestReduceHugeValues checks that reducing finite values near the float64
// limits gives finite results: the mean and the interpolated percentiles
// of finite values are finite, even where the sum or a difference of two
// of them overflows.
func TestReduceHugeValues(t *testing.T) {
	t.Parallel()
	big := math.MaxFloat64
	tests := []struct {
		name string
		give []float64
		stat provider.Statistic
		want float64
	}{
		{name: "mean of two maxima", give: []float64{big, big}, stat: provider.StatMean, want: big},
		{name: "mean of three maxima and a gap", give: []float64{big, math.NaN(), big, big}, stat: provider.StatMean, want: big},
		{name: "mean of opposite extremes", give: []float64{-big, big}, stat: provider.StatMean, want: 0},
		{name: "median of opposite extremes", give: []float64{-big, big}, stat: provider.Percentile(50), want: 0},
		{name: "p75 of opposite extremes", give: []float64{-big, big}, stat: provider.Percentile(75), want: big / 2},
		{name: "sum past the float64 range saturates", give: []float64{big, big}, stat: provider.StatSum, want: big},
		{name: "negative sum past the range saturates", give: []float64{-big, -big}, stat: provider.StatSum, want: -big},
		{name: "sum whose partial sum overflows", give: []float64{big, big, -big, -big / 2}, stat: provider.StatSum, want: big / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _ := provider.Reduce(tt.stat, tt.give, nil)
			require.False(t, math.IsInf(got, 0) || math.IsNaN(got), "Reduce(%s, %v) = %v, want finite", tt.stat, tt.give, got)
			assert.InDelta(t, tt.want, got, math.Abs(tt.want)*1e-12)
		})
	}
}

// TestResampleHugeValuesStayFinite checks that Resample of valid samples
// returns a valid series (Series.Validate refuses infinite values).
func TestResampleHugeValuesStayFinite(t *testing.T) {
	t.Parallel()
	q := provider.Query{ResourceID: "i-1", Metric: provider.MetricNetworkIn, Start: at(0), End: at(10), Step: 10 * time.Minute}
	s, err := provider.Resample(q, []provider.Sample{{Time: at(1), Value: math.MaxFloat64}, {Time: at(2), Value: math.MaxFloat64}})
	require.NoError(t, err)
	require.NoError(t, s.Validate())
	assert.InDelta(t, math.MaxFloat64, s.Values[0], math.MaxFloat64*1e-12)
}
